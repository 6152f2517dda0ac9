"""An operation says what it waits for (first/next contact); one operation can be cancelled
by id through the API and `linesman op cancel`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linesman.cwmp.models import ConnectionRequestLog, DeviceTask, TaskState
from linesman.operations import services
from linesman.operations.models import Operation, OperationState
from tests.cli.conftest import Run
from tests.conftest import make_device

pytestmark = pytest.mark.django_db

SEEN = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def start(actor, device) -> dict:
    response = actor.client.put(
        f"/api/v1/inventory_device_operation/{device.pk}/", {"operation": "reboot"}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def history(actor, device) -> dict:
    return actor.client.get(f"/api/v1/inventory_device/{device.pk}/operations/").json()["results"][
        0
    ]


def test_a_device_never_seen_waits_for_its_first_contact(admin_a, org_a, device_type):
    device = make_device(org_a, device_type, "NEW1")
    body = start(admin_a, device)
    assert body["status"] == "initiated"
    assert body["waiting_for"] == "first_contact"
    assert body["next_contact_expected"] is None  # never seen: no guess
    listed = history(admin_a, device)
    assert listed["waiting_for"] == "first_contact" and listed["next_contact_expected"] is None


def test_a_device_without_connection_request_url_waits_for_its_next_inform(
    admin_a, org_a, device_type
):
    device = make_device(
        org_a, device_type, "NOURL", last_connection=SEEN, update_frequency=600, is_active=True
    )
    body = start(admin_a, device)
    assert body["waiting_for"] == "next_contact"
    assert body["next_contact_expected"] == "2026-03-01T12:10:00Z"  # last contact + 600 s


def test_a_failed_connection_request_means_waiting_for_the_next_inform(admin_a, org_a, device_type):
    device = make_device(
        org_a,
        device_type,
        "DOWN1",
        last_connection=SEEN,
        update_frequency=300,
        is_active=True,
        connection_request_url="http://127.0.0.1:9/nobody",
    )
    op = services.start_operation(device=device, kind="reboot", connection_request=False)
    assert history(admin_a, device)["waiting_for"] is None  # it may still be asked to come
    ConnectionRequestLog.objects.create(
        device=device, url=device.connection_request_url, ok=False, error="refused"
    )
    listed = history(admin_a, device)
    assert listed["operation_id"] == op.operation_id
    assert listed["waiting_for"] == "next_contact"
    assert listed["next_contact_expected"] == "2026-03-01T12:05:00Z"


def test_an_operation_that_sent_its_rpc_waits_for_nothing_of_the_kind(admin_a, org_a, device_type):
    device = make_device(org_a, device_type, "NEW2")
    op = services.start_operation(device=device, kind="reboot", connection_request=False)
    Operation.objects.filter(pk=op.pk).update(state=OperationState.DISPATCHED)
    assert history(admin_a, device)["waiting_for"] is None


def test_cancel_by_id_withdraws_what_was_queued(admin_a, viewer_a, org_a, device_type):
    device = make_device(org_a, device_type, "C1")
    op = services.start_operation(device=device, kind="reboot", connection_request=False)
    url = f"/api/v1/operations/{op.operation_id}/cancel/"
    assert viewer_a.client.post(url).status_code == 403
    response = admin_a.client.post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["result"] == "cancelled"
    assert DeviceTask.objects.get(operation_id=op.pk).state == TaskState.CANCELLED
    again = admin_a.client.post(url)
    assert again.status_code == 409 and "already ended (cancelled)" in again.json()["detail"]
    assert admin_a.client.post("/api/v1/operations/op_nothing/cancel/").status_code == 404


def test_cancel_says_when_an_rpc_was_already_on_the_wire(org_a, device_type):
    device = make_device(org_a, device_type, "C2")
    op = services.start_operation(device=device, kind="reboot", connection_request=False)
    DeviceTask.objects.filter(operation_id=op.pk).update(state=TaskState.SENT, attempts=1)
    op = services.cancel_operation(op, reason="cancelled by request")
    assert op.state == OperationState.CANCELLED
    assert op.error == (
        "cancelled by request; Reboot had already been sent to the device, which may still "
        "carry it out"
    )


def test_linesman_op_cancel(org_a, device_type):
    device = make_device(org_a, device_type, "C3")
    op = services.start_operation(device=device, kind="reboot", connection_request=False)
    result = Run()("op", "cancel", op.operation_id)
    assert result.exit_code == 0, result.output
    expected = f"{op.operation_id} cancelled: cancelled with linesman op cancel"
    assert result.stdout.strip() == expected
    op.refresh_from_db()
    assert op.state == OperationState.CANCELLED
    again = Run()("op", "cancel", op.operation_id)
    assert again.exit_code == 1 and "already ended (cancelled)" in again.stderr
    bad = Run()("op", str(device.pk), "explode")
    assert bad.exit_code == 2 and "'explode' is not one of" in bad.stderr


def test_the_dashboard_device_page_says_what_the_operation_waits_for(
    operator_a, org_a, device_type
):
    from django.test import Client

    client = Client()
    client.force_login(operator_a.user)
    never = make_device(org_a, device_type, "D1")
    services.start_operation(device=never, kind="reboot", connection_request=False)
    state = client.get(f"/ui/devices/{never.pk}/state/").content.decode()
    assert "Waiting for the device's first contact (never seen)." in state
    assert 'id="cancel-operation"' in state
    seen = make_device(
        org_a, device_type, "D2", last_connection=SEEN, update_frequency=600, is_active=True
    )
    services.start_operation(device=seen, kind="reboot", connection_request=False)
    state = client.get(f"/ui/devices/{seen.pk}/state/").content.decode()
    assert "next contact, expected at 2026-03-01 12:10:00 UTC." in state


def test_op_wait_says_what_the_operation_waits_for(org_a, device_type):
    device = make_device(org_a, device_type, "W1")
    result = Run()("op", str(device.pk), "reboot", "--wait", "--timeout", "0")
    assert result.exit_code == 3
    op = Operation.objects.get(device=device)
    assert f"{op.operation_id}: waiting for the device's first contact (never seen)" in (
        result.stderr
    )
