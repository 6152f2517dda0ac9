"""Webhooks: endpoints managed by organization admins over the API, platform events
delivered signed to a receiver on 127.0.0.1, retried with backoff, logged, and endpoints
switched off after sustained failures."""

from __future__ import annotations

import pytest
from django.db import connection

from linesman.inventory import services as inventory
from linesman.inventory.models import DeviceStatus
from linesman.webhooks.models import Delivery, Endpoint
from tests.conftest import make_device
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.usefixtures("no_static_finders")

URL = "/api/v1/webhook_endpoint/"
LOG = "/api/v1/webhook_delivery/"
SECRET = "s3cret-for-webhook-tests"


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def _endpoint(client, org, target, types=("device.down",), **extra):
    body = {"organization_id": org.pk, "name": "ops", "url": target, "event_types": list(types)}
    return client.post(URL, {**body, **extra}, format="json")


def _down(device, capture):
    """Flip a device Down through the inventory service, as housekeeping does."""
    device.status = DeviceStatus.UP
    device.save(update_fields=["status"])
    with capture(execute=True):
        inventory.set_status(device, up=False)


# --- the API ----------------------------------------------------------------------------


def test_admin_creates_an_endpoint_and_sees_the_generated_secret_once(admin_a, org_a, receiver):
    created = _endpoint(admin_a.client, org_a, receiver.url)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert body["event_types"] == ["device.down"] and body["active"] is True
    shown = admin_a.client.get(f"{URL}{body['id']}/").json()
    assert "secret" not in shown
    stored = Endpoint.objects.get(pk=body["id"]).secret_encrypted
    assert stored and body["secret"] not in stored
    with connection.cursor() as cursor:  # nor in the audit trail
        cursor.execute("SELECT changes FROM audit_auditentry")
        assert all(body["secret"] not in row[0] and stored not in row[0] for row in cursor)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"event_types": ["device.exploded"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"secret": "short"}, "secret"),
    ],
)
def test_bad_endpoints_are_400_naming_the_field(admin_a, org_a, receiver, extra, field):
    response = _endpoint(admin_a.client, org_a, receiver.url, **extra)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Endpoint.objects.exists()


def test_loopback_targets_follow_the_connection_request_policy(admin_a, org_a, receiver, settings):
    settings.LINESMAN_CONNREQ_ALLOW_LOOPBACK = False
    response = _endpoint(admin_a.client, org_a, receiver.url)
    assert response.status_code == 400 and "url" in response.json()


def test_only_admins_manage_endpoints(viewer_a, operator_a, admin_b, org_a, receiver):
    for actor in (viewer_a, operator_a, admin_b):
        assert _endpoint(actor.client, org_a, receiver.url).status_code == 403
    assert not Endpoint.objects.exists()


# --- deliveries ---------------------------------------------------------------------------


def test_an_event_reaches_the_receiver_signed(
    admin_a, org_a, device_type, receiver, django_capture_on_commit_callbacks
):
    device = make_device(org_a, device_type, "WH0001", name="wh-1")
    endpoint = _endpoint(admin_a.client, org_a, receiver.url, secret=SECRET).json()

    _down(device, django_capture_on_commit_callbacks)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.signed_by(SECRET)
    assert not got.signed_by("another-secret-altogether")
    assert got.headers["x-linesman-event"] == "device.down"
    assert got.headers["idempotency-key"] == got.json["id"]
    assert got.json["type"] == "device.down"
    assert got.json["organization_id"] == org_a.pk
    assert got.json["device"] == {"id": device.pk, "serial_number": "WH0001", "name": "wh-1"}
    assert got.json["data"]["previous"] == "Up"
    log = admin_a.client.get(f"{LOG}?endpoint={endpoint['id']}").json()
    assert [(d["status"], d["response_code"], d["attempts"]) for d in log["results"]] == [
        ("delivered", 200, 1)
    ]
    assert log["results"][0]["event_id"] == got.json["id"]


def test_unsubscribed_types_and_other_organizations_receive_nothing(
    admin_a, admin_b, org_a, org_b, device_type, receiver, django_capture_on_commit_callbacks
):
    device = make_device(org_a, device_type, "WH0002")
    assert _endpoint(admin_a.client, org_a, receiver.url, types=["device.up"]).status_code == 201
    assert _endpoint(admin_b.client, org_b, receiver.url).status_code == 201

    _down(device, django_capture_on_commit_callbacks)

    assert receiver.received == []
    assert not Delivery.objects.exists()


def test_a_failed_delivery_is_retried_with_backoff_and_the_same_idempotency_key(
    admin_a, org_a, device_type, django_capture_on_commit_callbacks, task_clock
):
    receiver = Receiver([500, 503, 200])
    try:
        device = make_device(org_a, device_type, "WH0003")
        _endpoint(admin_a.client, org_a, receiver.url, secret=SECRET)
        _down(device, django_capture_on_commit_callbacks)
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)

        assert task_clock.advance(9) == []  # the first retry waits 10 s
        assert len(task_clock.advance(2)) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 2, 503)
        assert task_clock.advance(19) == []  # then 20 s
        assert len(task_clock.advance(2)) == 1
    finally:
        receiver.close()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    keys = {r.headers["idempotency-key"] for r in receiver.received}
    assert len(receiver.received) == 3 and keys == {str(delivery.event_id)}
    assert all(r.signed_by(SECRET) for r in receiver.received)
    assert Endpoint.objects.get().failure_count == 0  # a success clears the count
    assert TaskClockEmpty.check()


class TaskClockEmpty:
    @staticmethod
    def check() -> bool:
        from huey.contrib.djhuey import HUEY

        return HUEY.scheduled_count() == 0


def test_a_client_error_is_not_retried(
    admin_a, org_a, device_type, django_capture_on_commit_callbacks
):
    receiver = Receiver([400])
    try:
        device = make_device(org_a, device_type, "WH0004")
        _endpoint(admin_a.client, org_a, receiver.url)
        _down(device, django_capture_on_commit_callbacks)
    finally:
        receiver.close()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 400)
    assert delivery.error == "HTTP 400"
    assert TaskClockEmpty.check()


def test_sustained_failures_disable_the_endpoint_with_a_reason(
    admin_a, org_a, device_type, django_capture_on_commit_callbacks, task_clock
):
    receiver = Receiver([500])
    try:
        device = make_device(org_a, device_type, "WH0005")
        created = _endpoint(admin_a.client, org_a, receiver.url).json()
        for _ in range(3):  # 3 events x 6 attempts > 15 consecutive failures
            _down(device, django_capture_on_commit_callbacks)
            for _retry in range(5):
                task_clock.advance(200)
    finally:
        receiver.close()
    shown = admin_a.client.get(f"{URL}{created['id']}/").json()
    assert shown["active"] is False
    assert shown["failure_count"] == 15
    assert "15 consecutive failed" in shown["disabled_reason"]
    assert "HTTP 500" in shown["disabled_reason"]
    assert len(receiver.received) == 15
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}

    # Re-activating clears the failures; a disabled endpoint receives nothing meanwhile.
    again = admin_a.client.patch(f"{URL}{created['id']}/", {"active": True}, format="json")
    assert again.status_code == 200
    assert (again.json()["failure_count"], again.json()["disabled_reason"]) == (0, "")


def test_a_failing_receiver_never_breaks_the_announcer(
    admin_a, org_a, device_type, django_capture_on_commit_callbacks
):
    device = make_device(org_a, device_type, "WH0006")
    _endpoint(admin_a.client, org_a, "http://127.0.0.1:1/closed")
    _down(device, django_capture_on_commit_callbacks)
    device.refresh_from_db()
    assert device.status == DeviceStatus.DOWN
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.response_code is None
    assert "ConnectError" in delivery.error


def test_a_bulk_job_event_goes_to_the_job_organizations(
    admin_a, admin_b, org_a, org_b, receiver, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from linesman.core import events
    from linesman.operations.models import BulkJob

    job = BulkJob.objects.create(operation_type="reboot", execute_at=timezone.now())
    job.organizations.set([org_a])
    _endpoint(admin_a.client, org_a, receiver.url, types=["bulk_job.finished"])
    _endpoint(admin_b.client, org_b, receiver.url, types=["bulk_job.finished"])

    with django_capture_on_commit_callbacks(execute=True):
        events.announce("bulk_job.finished", job_id=job.pk, status="completed")

    assert [(r.json["type"], r.json["data"]["job_id"]) for r in receiver.received] == [
        ("bulk_job.finished", job.pk)
    ]
    assert Delivery.objects.get().endpoint.organization_id == org_a.pk
