"""Which endpoints an event goes to: an event nobody subscribed to costs one statement (no
device or organization lookup), and an endpoint saved by any process, with or without the
ORM's signals, is seen by the very next event."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linesman.core.events import Event
from linesman.webhooks import services
from linesman.webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def _event(name="device.down", org=None, device=None) -> Event:
    return Event(name=name, device_id=device, organization_id=org, data={})


def _create(org, types, active=True):
    return Endpoint.objects.create(
        organization=org, url="http://127.0.0.1:9/hook", event_types=list(types), active=active
    )


def test_an_unwanted_event_costs_one_statement_and_no_device_lookup(org_a, device_a):
    _create(org_a, ["device.up"])
    with CaptureQueriesContext(connection) as queries:
        assert services.endpoints_for(_event("device.down", device=device_a.pk)) == []
    assert not [q for q in queries if "inventory_device" in q["sql"]]
    if connection.vendor == "sqlite":  # PostgreSQL runs hotsql's prepared, out of the log
        assert [("webhooks_endpoint" in q["sql"]) for q in queries] == [True]


def test_an_event_type_no_endpoint_may_subscribe_to_costs_nothing(org_a):
    _create(org_a, ["device.up"])
    with CaptureQueriesContext(connection) as queries:
        assert services.endpoints_for(_event("session.inform", org_a.pk)) == []
    assert len(queries) == 0


def test_an_endpoint_saved_without_signals_is_seen_by_the_next_event(org_a):
    assert services.endpoints_for(_event("device.down", org_a.pk)) == []
    # Another process's insert: no signal reaches this one.
    Endpoint.objects.bulk_create(
        [Endpoint(organization=org_a, url="http://127.0.0.1:9/h", event_types=["device.down"])]
    )
    assert len(services.endpoints_for(_event("device.down", org_a.pk))) == 1
    Endpoint.objects.filter(organization=org_a).update(active=False)
    assert services.endpoints_for(_event("device.down", org_a.pk)) == []


def test_only_the_events_organization_and_type_match(org_a, org_b, device_a):
    wanted = _create(org_a, ["device.down", "device.up"])
    _create(org_a, ["device.up"])
    _create(org_a, ["device.down"], active=False)
    _create(org_b, ["device.down"])
    assert services.endpoints_for(_event("device.down", org_a.pk)) == [wanted.pk]
    # An event without its organization takes the device's.
    assert services.endpoints_for(_event("device.down", device=device_a.pk)) == [wanted.pk]
