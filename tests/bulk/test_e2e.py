"""End-to-end: bulk reboots over 200 simulated devices in two organizations, on a real server.

One server and one fleet serve the module (setting them up is most of the cost); the tests
run in order and compare each device's own reboot counter before and after. The last test
SIGKILLs the server in the middle of a job and starts it again on the same data directory,
database and task queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from linesman.simulator.fleet import Fleet, SimulatorThread, register_via_api
from tests.bulk.procs import crash
from tests.e2e.live import Api, Database, LiveServer, wait_until

pytestmark = pytest.mark.e2e

PER_ORG = 100
URL = "/inventory_device_serial_headless_operation/"
#: Fast devices: quick reboots, quick retries while the server is away.
FLEET_OPTIONS = {
    # Long enough that no periodic inform lands inside a test: devices act on requests only.
    "periodic_interval": 300,
    "reboot_delay": 0.2,
    "retry_min_wait": 0.2,
    "retry_max_wait": 1.0,
    "max_sessions": 60,
    "jitter": 0.1,
}


@dataclass
class Stack:
    server: LiveServer
    api: Api
    orgs: list[int]
    fleets: list[Fleet]
    sims: list[SimulatorThread]

    def reboots(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for fleet, sim in zip(self.fleets, self.sims, strict=True):
            counts.update(sim.run(lambda f=fleet: {d.serial: d.counters.reboots for d in f}))
        return counts

    def set_misbehaviour(self, serials: dict[str, str]) -> None:
        """serial -> "unreachable" | "reject_auth" | "" (back to normal)."""

        def apply(fleet: Fleet) -> None:
            for device in fleet:
                how = serials.get(device.serial)
                if how is None:
                    continue
                device.unreachable = how == "unreachable"
                device.reject_auth = how == "reject_auth"

        for fleet, sim in zip(self.fleets, self.sims, strict=True):
            sim.run(lambda f=fleet: apply(f))

    def job(self, job_id: str) -> dict:
        response = self.api.get(f"{URL}{job_id}/")
        assert response.status_code == 200, response.text
        return response.json()

    def devices(self, job_id: str) -> list[dict]:
        return self.api.get(f"{URL}{job_id}/devices/?limit=1000").json()["results"]

    def wait_done(self, job_id: str, timeout: float = 60) -> dict:
        def done():
            job = self.job(job_id)
            running = job["status"] in ("scheduled", "in_progress") or job["running_devices"]
            return None if running else job

        return wait_until(done, timeout=timeout, interval=0.5, what=f"job {job_id} to end")


def _provisioned(fleet: Fleet) -> bool:
    # The ACS gives each device connection request credentials of its own at bootstrap.
    return all(d.connreq_credentials()[0].startswith("cr-") and not d.in_session for d in fleet)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("bulk-e2e")
    database = Database(home)
    server = LiveServer(home, database)
    sims: list[SimulatorThread] = []
    try:
        server.cli("migrate")
        server.cli("user", "create", "root", "--superuser")
        token = server.cli_json("token", "create", "--user", "root")["token"]
        server.start()
        api = Api(server, token)
        orgs = [api.post("/organization/", json={"name": f"Region {n}"}).json()["id"] for n in "AB"]
        dtype = api.post("/inventory_type/", json={"short_name": "cpe", "name": "CPE"}).json()
        fleets = [
            Fleet(server.url + "/cwmp/", PER_ORG, serial_prefix=prefix, **FLEET_OPTIONS)
            for prefix in ("RA", "RB")
        ]
        for fleet, org in zip(fleets, orgs, strict=True):
            result = asyncio.run(
                register_via_api(server.url, token, fleet, dtype["id"], org, concurrency=16)
            )
            assert not result.failed, result.failed[:3]
        for fleet in fleets:
            sims.append(SimulatorThread(fleet))
            sims[-1].start()
        for fleet, sim in zip(fleets, sims, strict=True):
            # A first contact also reads the device's whole tree (issue 14): longer sessions.
            assert sim.wait_until(lambda f=fleet: _provisioned(f), timeout=150), fleet.stats()
        yield Stack(server, api, orgs, fleets, sims)
    finally:
        for sim in sims:
            sim.stop()
        if server.proc is not None:
            crash(server)  # the data is thrown away: no need to wait for a graceful stop
        database.drop()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _max_overlap(rows: list[dict]) -> int:
    """The most devices whose [started_at, finished_at] intervals overlap at one instant."""
    events = []
    for row in rows:
        events.append((_time(row["started_at"]), 1))
        events.append((_time(row["finished_at"]), -1))
    peak = current = 0
    for _when, step in sorted(events, key=lambda e: (e[0], e[1])):
        current += step
        peak = max(peak, current)
    return peak


def test_scheduled_reboot_of_200_devices_in_two_organizations(stack: Stack):
    before = stack.reboots()
    execute_at = datetime.now(UTC) + timedelta(seconds=4)
    response = stack.api.post(
        URL,
        json={
            "operation_type": "reboot",
            "target_organizations": stack.orgs,
            "schedule": {"execute_at": execute_at.isoformat(), "priority": "high"},
            "options": {"max_concurrency": 25, "timeout_minutes": 5},
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "scheduled" and created["target_device_count"] == 200
    job_id = created["id"]

    # Right after the POST nothing has started; that nothing starts before execute_at is
    # checked below from each device's own start time, not by watching the clock here.
    early = stack.job(job_id)
    assert early["status"] == "scheduled" and early["pending_devices"] == 200
    assert stack.reboots() == before

    job = stack.wait_done(job_id, timeout=90)
    assert job["status"] == "completed", job
    assert job["succeeded_devices"] == 200 and job["failed_devices"] == 0
    assert job["progress"] == 100 and job["operation_details"]["error_summary"] == {}
    assert job["peak_concurrency"] <= 25
    rows = stack.devices(job_id)
    assert len(rows) == 200 and {r["state"] for r in rows} == {"succeeded"}
    assert min(_time(r["started_at"]) for r in rows) >= execute_at
    assert _max_overlap(rows) <= 25
    assert len({r["operation_id"] for r in rows}) == 200
    after = stack.reboots()
    assert {serial: after[serial] - before[serial] for serial in after} == dict.fromkeys(after, 1)


def test_unreachable_devices_end_completed_with_errors_by_cause(stack: Stack):
    region_a = [d.serial for d in stack.fleets[0]]
    dark, locked = region_a[:10], region_a[10:15]
    stack.set_misbehaviour(
        {**dict.fromkeys(dark, "unreachable"), **dict.fromkeys(locked, "reject_auth")}
    )
    before = stack.reboots()
    try:
        response = stack.api.post(
            URL,
            json={
                "operation_type": "reboot",
                "target_organizations": [stack.orgs[0]],
                "options": {"max_concurrency": 30, "validate_connectivity": True},
            },
        )
        assert response.status_code == 201, response.text
        job = stack.wait_done(response.json()["id"], timeout=60)
    finally:
        stack.set_misbehaviour(dict.fromkeys(dark + locked, ""))
    assert job["status"] == "completed_with_errors", job
    assert job["succeeded_devices"] == 85 and job["failed_devices"] == 15
    assert job["operation_details"]["error_summary"] == {
        "authentication_failures": 5,
        "connection_timeouts": 10,
    }
    failed = stack.api.get(f"{URL}{job['id']}/devices/?state=failed&limit=100").json()
    assert sorted(r["serial_number"] for r in failed["results"]) == sorted(dark + locked)
    after = stack.reboots()
    for serial in region_a:
        assert after[serial] - before[serial] == (0 if serial in dark + locked else 1), serial


def test_sigkill_mid_job_and_restart_runs_every_device_exactly_once(stack: Stack):
    region_b = [d.serial for d in stack.fleets[1]]
    # Devices of the previous test settle first (the unreachable ones inform again).
    wait_until(
        lambda: all(stack.sims[0].run(lambda: [not d.in_session for d in stack.fleets[0]])),
        timeout=20,
    )
    before = stack.reboots()
    response = stack.api.post(
        URL,
        json={
            "operation_type": "reboot",
            "target_organizations": [stack.orgs[1]],
            "options": {"max_concurrency": 10, "timeout_minutes": 5},
        },
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    wait_until(
        lambda: stack.job(job_id)["processed_devices"] >= 25,
        timeout=60,
        interval=0.2,
        what="a quarter of the job",
    )
    crash(stack.server)
    stack.server.start()  # same home, database, port and task queue
    job = stack.wait_done(job_id, timeout=120)
    assert job["status"] == "completed", job
    assert job["succeeded_devices"] == 100
    rows = stack.devices(job_id)
    assert len({r["operation_id"] for r in rows}) == 100
    after = stack.reboots()
    assert {s: after[s] - before[s] for s in region_b} == dict.fromkeys(region_b, 1)
