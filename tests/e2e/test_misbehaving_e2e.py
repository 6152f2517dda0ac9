"""End to end with misbehaving simulated devices: operations end with the right state and a
reason, within bounds, and nothing is sent after the limit; cancelling a bulk job stops it.

Devices misbehave through the simulator's `Quirks`, set once their bootstrap session has
ended (its provisioning must go through; a device is Up from its Inform, before that).
"""

from __future__ import annotations

import time

import pytest

from linesman.simulator.device import Quirks
from tests.e2e.live import wait_until
from tests.e2e.test_operations_e2e import last_op, up_devices, wait_op

pytestmark = pytest.mark.e2e

JOBS = "/inventory_device_serial_headless_operation/"


@pytest.fixture
def server_env():
    return {"LINESMAN_RPC_MAX_ATTEMPTS": "3", "LINESMAN_OPERATION_TIMEOUT": "150"}


def received(sim, device, method: str) -> list:
    return sim.run(lambda: device.received(method))


def bootstrapped(sim) -> bool:
    """Every device's first sessions (provisioning, then the whole-tree read) are over."""
    return sim.wait_until(
        lambda: all(d.bootstrapped and not d.in_session for d in sim.fleet.devices), 60
    )


def test_devices_that_break_the_session_end_their_operations_with_a_reason(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(3)
    records = {r["serial_number"]: r for r in up_devices(api, 3)}
    crash_spv, drop_reboot, crash_reboot = sim.fleet.devices
    # Up from its Inform, a device is provisioned only when that session ends: the quirks
    # must not break the provisioning (it would count as the operation's attempts).
    assert bootstrapped(sim)
    quirks = {
        crash_spv: Quirks(crash_on=frozenset({"SetParameterValues"})),
        drop_reboot: Quirks(drop_on_reboot=True),
        crash_reboot: Quirks(crash_on=frozenset({"Reboot"})),
    }
    for device, quirk in quirks.items():
        sim.run(lambda d=device, q=quirk: setattr(d, "quirks", q))
    spv_before = len(received(sim, crash_spv, "SetParameterValues"))
    ids = {d: records[d.serial]["id"] for d in quirks}
    started = time.monotonic()
    for device, kind in ((crash_spv, "reconf"), (drop_reboot, "reboot"), (crash_reboot, "reboot")):
        response = api.put(f"/inventory_device_operation/{ids[device]}/", json={"operation": kind})
        assert response.status_code == 200, response.text

    # (b) Dropped the session on Reboot but rebooted: its boot with the CommandKey settles it.
    op = wait_op(api, ids[drop_reboot], "completed", timeout=60)
    assert len(received(sim, drop_reboot, "Reboot")) == 1
    assert sim.run(lambda: drop_reboot.counters.reboots) == 1

    # (a) Crashes on SetParameterValues: three attempts, then a reason, then nothing more.
    op = wait_op(api, ids[crash_spv], "failed", timeout=90)
    assert op["error"] == (
        "the device dropped the session 3 times while executing SetParameterValues"
    )
    assert op["error_cause"] == "session_dropped"
    # Crashes on Reboot (never acts on it): the same, and it never rebooted.
    op = wait_op(api, ids[crash_reboot], "failed", timeout=60)
    assert op["error"] == "the device dropped the session 3 times while executing Reboot"
    assert sim.run(lambda: crash_reboot.counters.reboots) == 0
    assert time.monotonic() - started < 120  # well within the operation's timeout

    # Nothing is sent after the limit: both come back for a session that sends nothing.
    for device in (crash_spv, crash_reboot):
        ok = sim.run(lambda d=device: d.counters.sessions_ok)
        sim.run(lambda d=device: sim.fleet.agent(d.serial).kick())
        wait_until(
            lambda d=device, n=ok: sim.run(lambda: d.counters.sessions_ok) > n,
            timeout=30,
            what=f"{device.serial}'s session after the failure",
        )
    assert len(received(sim, crash_spv, "SetParameterValues")) - spv_before == 3
    assert len(received(sim, crash_reboot, "Reboot")) == 3


def test_cancelling_a_running_bulk_job_stops_it(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(4)
    up_devices(api, 4)
    # What the devices receive from here on is the job's.
    assert bootstrapped(sim)
    late_a, late_b, dark_a, dark_b = sim.fleet.devices
    late = Quirks(answer_delay=6.0, delay_on=frozenset({"Reboot"}))
    for device in (late_a, late_b):
        sim.run(lambda d=device: setattr(d, "quirks", late))
    for device in (dark_a, dark_b):
        sim.run(lambda d=device: setattr(d, "unreachable", True))
    response = api.post(
        JOBS,
        json={
            "operation_type": "reboot",
            "target_organizations": [platform["org"]],
            "serial_numbers": [d.serial for d in sim.fleet.devices],
            "options": {"max_concurrency": 10},
        },
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    # The late ones have the Reboot on the wire; the dark ones wait for a contact.
    for device in (late_a, late_b):
        wait_until(lambda d=device: received(sim, d, "Reboot"), timeout=30, what="Reboot in flight")
    job = api.get(f"{JOBS}{job_id}/").json()
    assert job["running_devices"] == 4, job

    cancelled_at = time.time()
    response = api.delete(f"{JOBS}{job_id}/")
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "cancelled" and job["running_devices"] == 0
    assert job["pending_devices"] == 0 and job["skipped_devices"] == 4
    assert (
        job["succeeded_devices"] + job["failed_devices"] + job["skipped_devices"]
        == job["total_devices"]
        == 4
    )
    assert job["estimated_completion"] == job["completed_at"] is not None
    devices = {r["serial_number"]: r for r in api.get("/inventory_device/").json()["results"]}
    for device in (dark_a, dark_b):
        op = last_op(api, devices[device.serial]["id"])
        assert op["status"] == "cancelled" and op["error"] == f"bulk job {job_id} cancelled"
    for device in (late_a, late_b):
        op = last_op(api, devices[device.serial]["id"])
        assert op["status"] == "cancelled"
        assert "Reboot had already been sent to the device" in op["error"]

    # The dark ones come back: nothing is sent to them. The late answers arrive and are noted.
    informs = {d: sim.run(lambda d=d: d.counters.informs) for d in (dark_a, dark_b)}
    for device in (dark_a, dark_b):
        sim.run(lambda d=device: setattr(d, "unreachable", False))
        sim.run(lambda d=device: sim.fleet.agent(d.serial).kick())
    for device in (late_a, late_b):
        record_id = devices[device.serial]["id"]
        wait_until(
            lambda r=record_id: last_op(api, r)["output"].get("answered_after_end"),
            timeout=30,
            what="the late answer noted",
        )
    for device in (dark_a, dark_b):
        wait_until(
            lambda d=device: sim.run(lambda: d.counters.informs) > informs[d],
            timeout=30,
            what=f"{device.serial} informs again",
        )
    for device in sim.fleet.devices:
        after = [e for e in sim.run(lambda d=device: d.journal) if e.at > cancelled_at]
        assert after == [], (device.serial, after)
    again = api.get(f"{JOBS}{job_id}/").json()
    assert again["running_devices"] == 0 and again["status"] == "cancelled"
    assert again["estimated_completion"] == job["estimated_completion"]
