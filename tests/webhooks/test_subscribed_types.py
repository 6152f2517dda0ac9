"""Events nobody subscribed to cost no query; a change made in this process is seen at once,
and one made elsewhere within `SUBSCRIBED_TTL` seconds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linesman.core.events import Event
from linesman.webhooks import services
from linesman.webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def _event(name="device.down", org=None) -> Event:
    return Event(name=name, device_id=None, organization_id=org, data={})


@pytest.fixture(autouse=True)
def _fresh():
    services.forget_subscriptions()
    yield
    services.forget_subscriptions()


def _create(org, types):
    return Endpoint.objects.create(
        organization=org, url="http://127.0.0.1:9/hook", event_types=list(types), active=True
    )


def test_an_unwanted_event_costs_no_query_after_the_first_read(org_a):
    _create(org_a, ["device.up"])
    assert services.endpoints_for(_event("device.down", org_a.pk)) == []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert services.endpoints_for(_event("device.down", org_a.pk)) == []
    assert len(queries) == 0


def test_an_endpoint_saved_in_this_process_is_seen_at_once(org_a):
    assert services.endpoints_for(_event("device.down", org_a.pk)) == []
    endpoint = _create(org_a, ["device.down"])
    assert services.endpoints_for(_event("device.down", org_a.pk)) == [endpoint.pk]
    endpoint.delete()
    assert services.endpoints_for(_event("device.down", org_a.pk)) == []


def test_a_change_made_elsewhere_is_seen_after_the_ttl(org_a, monkeypatch):
    assert services.endpoints_for(_event("device.down", org_a.pk)) == []
    # Another process's insert: no signal reaches this one.
    Endpoint.objects.bulk_create(
        [Endpoint(organization=org_a, url="http://127.0.0.1:9/h", event_types=["device.down"])]
    )
    assert services.endpoints_for(_event("device.down", org_a.pk)) == []
    read_at, types = services._subscribed
    monkeypatch.setattr(services, "_subscribed", (read_at - services.SUBSCRIBED_TTL, types))
    assert len(services.endpoints_for(_event("device.down", org_a.pk))) == 1
