"""End to end with devices the ACS cannot reach: one that never connects, one that went Down.

Single operations say what they wait for and end `timed_out` with a reason at the deadline
(8 s here); a bulk job that fails unreachable devices fast fails them at once, by cause.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from linesman.simulator.device import Quirks
from tests.e2e.live import wait_until
from tests.e2e.test_operations_e2e import last_op, up_devices, wait_op

pytestmark = pytest.mark.e2e

JOBS = "/inventory_device_serial_headless_operation/"


@pytest.fixture
def server_env():
    return {"LINESMAN_OPERATION_TIMEOUT": "8"}


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_never_connected_and_down_devices(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(3, quirks={"SIM000001": Quirks(never_connect=True)})
    silent, down, fine = sim.fleet.devices
    up = {r["serial_number"]: r for r in up_devices(api, 2)}
    assert silent.serial not in up
    records = {r["serial_number"]: r for r in api.get("/inventory_device/").json()["results"]}
    # Its first session (provisioning, then the whole-tree read) must be over, or the
    # reboot below would simply ride on it.
    assert sim.wait_until(lambda: down.bootstrapped and not down.in_session, timeout=60)
    sim.run(lambda: setattr(down, "unreachable", True))

    # (c) Never connected: accepted as waiting for the first contact, no time guessed.
    started = time.monotonic()
    silent_id = records[silent.serial]["id"]
    body = api.put(f"/inventory_device_operation/{silent_id}/", json={"operation": "reboot"})
    assert body.status_code == 200
    assert body.json()["waiting_for"] == "first_contact"
    assert body.json()["next_contact_expected"] is None
    # (d) Down: the connection request goes unanswered, so it waits for the next inform.
    down_id = records[down.serial]["id"]
    assert (
        api.put(f"/inventory_device_operation/{down_id}/", json={"operation": "reboot"}).status_code
        == 200
    )
    waiting = wait_until(
        lambda: (op := last_op(api, down_id))["waiting_for"] == "next_contact" and op,
        timeout=15,
        what="the Down device's operation waiting for its next contact",
    )
    last_contact = parse(api.get(f"/inventory_device/{down_id}/").json()["last_connection"])
    assert parse(waiting["next_contact_expected"]) == last_contact + timedelta(seconds=300)

    op = wait_op(api, silent_id, "timed_out", timeout=30)
    assert op["error_cause"] == "operation_timeouts"
    assert op["error"] == "The device never contacted the ACS before the operation's deadline."
    op = wait_op(api, down_id, "timed_out", timeout=30)
    assert op["error_cause"] == "operation_timeouts"
    assert op["error"].startswith("The device did not contact the ACS before the operation's")
    assert time.monotonic() - started < 40
    assert not sim.run(lambda: down.received("Reboot"))

    # A bulk job that fails unreachable devices fast: at once, by cause; the fine one reboots.
    response = api.post(
        JOBS,
        json={
            "operation_type": "reboot",
            "target_organizations": [platform["org"]],
            "serial_numbers": [d.serial for d in sim.fleet.devices],
            "options": {"validate_connectivity": True, "max_concurrency": 10},
        },
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    job = wait_until(
        lambda: (
            (j := api.get(f"{JOBS}{job_id}/").json())["status"]
            in ("completed", "completed_with_errors", "failed")
            and j
        ),
        timeout=30,
        what="the bulk job to end",
    )
    assert job["status"] == "completed_with_errors", job
    assert job["succeeded_devices"] == 1 and job["failed_devices"] == 2
    assert job["operation_details"]["error_summary"] == {
        "connection_timeouts": 1,
        "never_connected": 1,
    }
    assert sim.run(lambda: fine.counters.reboots) == 1
    assert sim.run(lambda: silent.journal) == []
    assert not sim.run(lambda: down.received("Reboot"))

    # The local CLI says what an operation on the silent device waits for.
    out = platform["server"].cli("op", silent.serial, "reboot")
    assert out.strip().endswith("waiting for the device's first contact (never seen)")
    # ...and `op cancel` over the API (the remote CLI) cancels it.
    from tests.cli.conftest import Run

    op_id = out.split(" as ")[1].split(";")[0]
    remote = Run({"LINESMAN_URL": platform["server"].url, "LINESMAN_TOKEN": platform["token"]})
    result = remote("op", "cancel", op_id)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{op_id} cancelled: cancelled by request"
    assert last_op(api, silent_id)["status"] == "cancelled"
    again = remote("op", "cancel", op_id)
    assert again.exit_code == 1 and "already ended (cancelled)" in again.stderr
