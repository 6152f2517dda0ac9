"""The operation endpoints: seeds 001 and 004 (by id, serial, name), WHIP (seed 000)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from linesman.cwmp.models import DeviceTask, TaskState
from linesman.operations.models import Operation, OperationState

pytestmark = pytest.mark.django_db

SEED_SHAPE = {
    "id": int,
    "operation": str,
    "status": str,
    "device_id": int,
    "device_name": str,
    "device_serial": str,
    "operation_timestamp": str,
    "estimated_completion": str,
    "initiated_by": str,
    "operation_id": str,
}


def assert_shape(body: dict, shape: dict) -> None:
    for key, kind in shape.items():
        assert isinstance(body[key], kind), (key, body)


@pytest.mark.parametrize("operation", ["reboot", "factory", "device_factory", "sync", "reconf"])
def test_put_by_id_seed_001(operator_a, device_a, operation):
    response = operator_a.client.put(
        f"/api/v1/inventory_device_operation/{device_a.pk}/",
        {"operation": operation},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert_shape(body, SEED_SHAPE)
    assert body["operation"] == operation and body["status"] == "initiated"
    assert body["device_serial"] == device_a.serial_number
    assert body["initiated_by"] == "operator_a"
    op = Operation.objects.get(operation_id=body["operation_id"])
    assert op.device_id == device_a.pk and op.kind == operation
    assert DeviceTask.objects.filter(operation=op, state=TaskState.QUEUED).exists()


def test_put_by_serial_seed_004_and_post_alias(operator_a, org_a, device_type):
    from tests.conftest import make_device

    device = make_device(org_a, device_type, "ABC123456789")
    response = operator_a.client.put(
        "/api/v1/inventory_device_serial_operation/ABC123456789/",
        {"operation": "reboot"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["id"] == device.pk and response.json()["operation"] == "reboot"
    Operation.objects.update(state=OperationState.COMPLETED)
    again = operator_a.client.post(
        f"/api/v1/inventory_device_name_operation/{device.name}/",
        {"operation": "sync"},
        format="json",
    )
    assert again.status_code == 200 and again.json()["operation"] == "sync"


@pytest.mark.parametrize("body", [{"operation": "explode"}, {}, {"operation": 5}])
def test_bad_operation_is_400(operator_a, device_a, body):
    response = operator_a.client.put(
        f"/api/v1/inventory_device_operation/{device_a.pk}/", body, format="json"
    )
    assert response.status_code == 400
    assert "operation" in response.json()
    assert not Operation.objects.exists()


def test_unknown_serial_404_and_invisible_device_404(operator_a, device_b):
    assert (
        operator_a.client.put(
            "/api/v1/inventory_device_serial_operation/NOPE/",
            {"operation": "reboot"},
            format="json",
        ).status_code
        == 404
    )
    assert (
        operator_a.client.put(
            f"/api/v1/inventory_device_operation/{device_b.pk}/",
            {"operation": "reboot"},
            format="json",
        ).status_code
        == 404
    )


def test_second_operation_conflicts(operator_a, device_a):
    url = f"/api/v1/inventory_device_operation/{device_a.pk}/"
    assert operator_a.client.put(url, {"operation": "reboot"}, format="json").status_code == 200
    second = operator_a.client.put(url, {"operation": "sync"}, format="json")
    assert second.status_code == 409
    assert "detail" in second.json()
    assert Operation.objects.count() == 1


def test_deactivated_device_is_422(operator_a, device_a):
    from django.utils import timezone

    device_a.is_active = False
    device_a.last_connection = timezone.now()
    device_a.save()
    response = operator_a.client.put(
        f"/api/v1/inventory_device_serial_operation/{device_a.serial_number}/",
        {"operation": "reboot"},
        format="json",
    )
    assert response.status_code == 422


def test_viewer_cannot_run_operations(viewer_a, device_a):
    response = viewer_a.client.put(
        f"/api/v1/inventory_device_operation/{device_a.pk}/",
        {"operation": "reboot"},
        format="json",
    )
    assert response.status_code == 403


def test_whip_unreachable_is_503_and_nothing_queued(operator_a, device_a):
    device_a.connection_request_url = "http://127.0.0.1:9/nothing-listens"
    device_a.save()
    response = operator_a.client.get(
        f"/api/v1/inventory_device_whip/{device_a.pk}/?operation=reboot"
    )
    assert response.status_code == 503
    assert not DeviceTask.objects.filter(state=TaskState.QUEUED).exists()
    op = Operation.objects.get()
    assert op.state == OperationState.CANCELLED


class _DeviceCameInMeanwhile(BaseHTTPRequestHandler):
    """A connection-request listener that refuses, but only after the device's own session
    has taken up the operation (as a periodic Inform arriving at that moment would)."""

    def do_GET(self):  # noqa: N802
        Operation.objects.filter(state=OperationState.INITIATED).update(
            state=OperationState.DISPATCHED
        )
        connection.close()  # this thread's own connection
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.django_db(transaction=True)
def test_whip_unreachable_but_already_taken_up_by_the_device_is_not_cancelled(operator_a, device_a):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DeviceCameInMeanwhile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        device_a.connection_request_url = f"http://127.0.0.1:{server.server_address[1]}/cr"
        device_a.save()
        response = operator_a.client.get(
            f"/api/v1/inventory_device_whip/{device_a.pk}/?operation=reboot"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "dispatched"
    op = Operation.objects.get()
    assert op.state == OperationState.DISPATCHED
    assert DeviceTask.objects.filter(operation_id=op.pk, state=TaskState.QUEUED).exists()


def test_whip_status_without_operation(operator_a, device_a):
    response = operator_a.client.get(f"/api/v1/inventory_device_whip/{device_a.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["last_operation"] is None
    assert body["device_info"]["online_status"] == "offline"


def test_whip_bad_operation_400(operator_a, device_a):
    response = operator_a.client.get(f"/api/v1/inventory_device_whip/{device_a.pk}/?operation=x")
    assert response.status_code == 400


def test_operation_history(operator_a, device_a):
    operator_a.client.put(
        f"/api/v1/inventory_device_operation/{device_a.pk}/",
        {"operation": "reboot"},
        format="json",
    )
    response = operator_a.client.get(f"/api/v1/inventory_device/{device_a.pk}/operations/")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert response.json()["results"][0]["operation"] == "reboot"
