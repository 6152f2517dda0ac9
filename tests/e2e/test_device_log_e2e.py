"""End to end: a simulated device's sessions reach the device log of a real server, whose
processes write the rows in batches, and the API reads them back by serial number."""

from __future__ import annotations

import pytest

from tests.e2e.live import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def server_env():
    return {"LINESMAN_LAST_SEEN_BATCH_MS": "200"}


def test_periodic_sessions_and_a_reboot_are_logged(platform, start_fleet):
    api = platform["api"]
    start_fleet(1, periodic_interval=10)
    device = wait_until(
        lambda: (r := api.get("/inventory_device/").json()["results"]) and r[0],
        timeout=30,
        what="device registered",
    )
    serial = device["serial_number"]

    def informs():
        body = api.get(
            "/inventory_device_log/",
            params={"device__serial_number": serial, "action": "inform"},
        ).json()
        return body["count"] >= 2 and body["results"]

    rows = wait_until(informs, timeout=60, what="two sessions logged")
    assert all(r["device"] == device["id"] and r["status"] == "ok" for r in rows)
    assert any(["2 PERIODIC", ""] in r["data"]["events"] for r in rows)

    assert (
        api.put(
            f"/inventory_device_operation/{device['id']}/", json={"operation": "reboot"}
        ).status_code
        == 200
    )

    def reboot_logged():
        body = api.get(
            "/inventory_device_log/", params={"device": device["id"], "action": "operation"}
        ).json()
        statuses = {r["status"] for r in body["results"]}
        return {"started", "completed"} <= statuses and body["results"]

    ops = wait_until(reboot_logged, timeout=60, what="reboot started and completed in the log")
    assert {r["data"]["kind"] for r in ops} == {"reboot"}
    rpcs = api.get(
        "/inventory_device_log/", params={"device": device["id"], "action": "rpc"}
    ).json()["results"]
    assert "Reboot" in {r["message"] for r in rpcs}
