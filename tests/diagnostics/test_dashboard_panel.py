"""The device page's Diagnostics panel: run from the form, results table and charts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from linesman.operations.models import Operation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_static_finders")]


@pytest.fixture
def login():
    def make(actor) -> Client:
        client = Client()
        client.force_login(actor.user)
        return client

    return make


PING = "Device.IP.Diagnostics.IPPing."


def finished_ping(device, avg: int, host: str = "10.0.0.1") -> Operation:
    values = {"DiagnosticsState": "Complete", "Host": host, "SuccessCount": "4"}
    values |= {"FailureCount": "0", "MinimumResponseTime": str(avg - 1)}
    values |= {"AverageResponseTime": str(avg), "MaximumResponseTime": str(avg + 1)}
    return Operation.objects.create(
        device=device,
        kind="diagnostic",
        state="completed",
        result="success",
        completed_at=timezone.now(),
        params={"diagnostic": "ipping", "object": PING, "inputs": {"host": host}},
        output={"diagnostic": {"state": "Complete", "values": values}},
    )


def test_the_device_page_has_the_panel_and_the_fragment_shows_results(login, viewer_a, device_a):
    finished_ping(device_a, 12)
    finished_ping(device_a, 30)
    client = login(viewer_a)
    page = client.get(f"/ui/devices/{device_a.pk}/").content.decode()
    assert 'id="diagnostics"' in page
    assert f"/ui/devices/{device_a.pk}/diagnostics/" in page
    assert 'id="diagnose-form"' not in page  # viewers cannot run diagnostics
    fragment = client.get(f"/ui/devices/{device_a.pk}/diagnostics/").content.decode()
    assert "rtt 29/30/31 ms, 0% loss" in fragment and "rtt 11/12/13 ms" in fragment
    assert 'id="ping-chart"' in fragment and "<polyline" in fragment
    assert "<script" not in fragment and "style=" not in fragment  # strict CSP


def test_an_operator_runs_a_ping_from_the_panel(login, operator_a, viewer_a, device_a):
    client = login(operator_a)
    assert 'id="diagnose-form"' in client.get(f"/ui/devices/{device_a.pk}/").content.decode()
    response = client.post(
        f"/ui/devices/{device_a.pk}/diagnose/", {"diagnostic": "ipping", "target": "192.0.2.9"}
    )
    assert response.status_code == 302
    op = Operation.objects.get(device=device_a)
    assert op.kind == "diagnostic" and op.params["inputs"] == {"host": "192.0.2.9"}
    fragment = client.get(f"/ui/devices/{device_a.pk}/diagnostics/").content.decode()
    assert op.operation_id in fragment and 'data-poll-next="1500"' in fragment
    refused = login(viewer_a).post(
        f"/ui/devices/{device_a.pk}/diagnose/", {"diagnostic": "ipping", "target": "x"}
    )
    assert refused.status_code == 403
    assert Operation.objects.filter(device=device_a).count() == 1


def test_other_organizations_device_is_not_found(login, admin_b, device_a):
    client = login(admin_b)
    assert client.get(f"/ui/devices/{device_a.pk}/diagnostics/").status_code == 404
    response = client.post(f"/ui/devices/{device_a.pk}/diagnose/", {"diagnostic": "ipping"})
    assert response.status_code == 404
