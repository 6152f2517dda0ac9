"""End to end: active notification on a parameter set through the API reaches a webhook
receiver as a signed VALUE CHANGE, retried after a 500; `/metrics` after a bulk job."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.live import wait_until
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.e2e

SSID = "Device.WiFi.SSID.1.SSID"
SECRET = "e2e-webhook-secret-0123456789"


def up_device(api) -> dict:
    return wait_until(
        lambda: (
            (r := api.get("/inventory_device/", params={"status": 1}).json()["results"]) and r[0]
        ),
        timeout=30,
        what="the device Up",
    )


def wait_op(api, pk: int) -> dict:
    def done():
        op = api.get(f"/inventory_device/{pk}/operations/").json()["results"][0]
        return op if op["status"] not in ("initiated", "dispatched", "in_progress") else None

    op = wait_until(done, timeout=30, what=f"operation on device {pk} to finish")
    assert op["status"] == "completed", op
    return op


def samples(text: str) -> dict[tuple, float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def receiver():
    receiver = Receiver([500, 200])
    yield receiver
    receiver.close()


def test_an_active_notification_reaches_a_webhook_signed_and_retried(
    platform, start_fleet, receiver
):
    api = platform["api"]
    sim = start_fleet(1)
    record = up_device(api)
    device = sim.fleet.devices[0]
    created = api.post(
        "/webhook_endpoint/",
        json={
            "organization_id": platform["org"],
            "name": "values",
            "url": receiver.url,
            "event_types": ["parameter.changed"],
            "secret": SECRET,
        },
    )
    assert created.status_code == 201, created.text

    response = api.put(
        f"/inventory_device_attributes/{record['id']}/",
        json=[{"variable_name": SSID, "notification": "active"}],
    )
    assert response.status_code == 200, response.text
    op = wait_op(api, record["id"])
    assert (op["operation"], op["operation_id"]) == ("set.attr", response.json()["operation_id"])
    assert sim.run(lambda: device.model.get_attributes(SSID))[0] == 2

    # The user renames the network on the device: it reports the change at once.
    sim.run(lambda: device.set_local(SSID, "renamed-by-user"))

    wait_until(lambda: len(receiver.received) >= 2, timeout=60, what="the retried delivery")
    first, second = receiver.received[:2]
    assert all(r.signed_by(SECRET) for r in (first, second))
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    body = second.json
    assert body["type"] == "parameter.changed"
    assert body["device"]["serial_number"] == record["serial_number"]
    assert body["data"]["values"][SSID] == "renamed-by-user"
    log = wait_until(
        lambda: (
            (d := api.get("/webhook_delivery/").json()["results"])
            and d[0]["status"] == "delivered"
            and d
        ),
        timeout=10,
        what="the delivery logged as delivered",
    )
    assert [(d["attempts"], d["response_code"]) for d in log] == [(2, 200)]
    stored = api.get(
        f"/inventory_device_variables/{record['id']}/", params={"prefix": SSID}
    ).json()["results"]
    assert [v["value"] for v in stored] == ["renamed-by-user"]

    # A bulk job, then /metrics (served to 127.0.0.1) adds up every server process.
    job = api.post(
        "/inventory_device_serial_headless_operation/",
        json={
            "operation": "get.attr",
            "serial_number": record["serial_number"],
            "variables": [{"variable_name": SSID}],
        },
    )
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    wait_until(
        lambda: (
            api.get(f"/inventory_device_serial_headless_operation/{job_id}/").json()["status"]
            == "completed"
        ),
        timeout=30,
        what="the bulk job to complete",
    )
    metrics = httpx.get(platform["server"].url + "/metrics", timeout=10)
    assert metrics.status_code == 200
    values = samples(metrics.text)
    job_labels = {"job": str(job_id), "operation": "get.attr", "status": "completed"}

    def gauge(state: str) -> float:
        key = ("linesman_bulk_job_devices", tuple(sorted({**job_labels, "state": state}.items())))
        return values.get(key, -1)

    assert (gauge("total"), gauge("succeeded"), gauge("failed")) == (1, 1, 0)
    assert values[("linesman_sessions_total", ())] >= 3
    ops = (("kind", "set.attr"), ("state", "completed"))
    assert values[("linesman_operations_total", ops)] == 1
    assert values[("linesman_bulk_jobs_finished_total", (("status", "completed"),))] == 1
    delivered = (("event_type", "parameter.changed"), ("outcome", "delivered"))
    retried = (("event_type", "parameter.changed"), ("outcome", "retrying"))
    assert values[("linesman_webhook_deliveries_total", delivered)] == 1
    assert values[("linesman_webhook_deliveries_total", retried)] == 1
    org = next(o for o in api.get("/organization/").json()["results"] if o["id"] == platform["org"])
    assert values[("linesman_devices", (("organization", org["name"]), ("status", "Up")))] == 1
