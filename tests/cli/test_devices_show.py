"""`linesman devices show`: a readable card with recent operations; --json the API shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linesman.inventory.models import DeviceStatus
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device


@pytest.fixture
def device(org_a, device_type, location_a):
    return make_device(
        org_a, device_type, "CARD0001", name="card-router", status=DeviceStatus.UP,
        location=location_a, customer_id="CUST-9", software_version="2.5.0",
        last_connection=datetime(2026, 1, 16, 2, 0, 5, tzinfo=UTC), update_frequency=300,
    )  # fmt: skip


def test_card_names_the_device_its_organization_place_and_times_in_utc(run, device, org_a):
    result = run("devices", "show", "CARD0001")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"card-router  (device {device.pk})"
    text = result.stdout
    for label, value in (
        ("serial", "CARD0001"),
        ("type", "enterprise_router"),
        ("organization", org_a.name),
        ("location", "New York Branch Office"),
        ("customer id", "CUST-9"),
        ("software", "2.5.0"),
        ("last seen", "2026-01-16T02:00:05Z"),
        ("informs every", "300 s"),
    ):
        assert f"  {label:<14}{value}" in text, (label, text)
    assert "Recent operations: none" in text


def test_card_lists_the_latest_operations_newest_first(run, device):
    start = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    for i, (kind, state) in enumerate(
        [("sync", OperationState.COMPLETED)] * 5 + [("reboot", OperationState.FAILED)]
    ):
        op = Operation.objects.create(
            device=device, kind=kind, state=state,
            error="device did not answer" if state == OperationState.FAILED else "",
        )  # fmt: skip
        # initiated_at is set on creation; back-date it to order the history.
        Operation.objects.filter(pk=op.pk).update(initiated_at=start + timedelta(minutes=i))
    text = run("devices", "show", "card-router").stdout
    section = text.split("Recent operations (latest 5)")[1].strip().splitlines()
    assert len(section) == 5
    assert section[0].split()[:3] == ["2026-02-01T12:05:00Z", "reboot", "failed:"]
    assert "device did not answer" in section[0]
    assert section[1].split()[:3] == ["2026-02-01T12:04:00Z", "sync", "completed"]


def test_json_is_the_api_shape(run, device, superuser):
    api = superuser.client.get(f"/api/v1/inventory_device/{device.pk}/").json()
    assert run("devices", "show", str(device.pk), "--json").json() == api
