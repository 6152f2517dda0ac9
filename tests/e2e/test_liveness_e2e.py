"""End to end, with short clocks: silent devices turn Down by themselves, operations that
never complete time out, update_status probes, and hostile bodies over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.live import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def server_env():
    return {"LINESMAN_STATUS_GRACE": "0", "LINESMAN_OPERATION_TIMEOUT": "4"}


def only_device(api) -> dict:
    return wait_until(
        lambda: (
            (r := api.get("/inventory_device/", params={"status": 1}).json()["results"]) and r[0]
        ),
        timeout=30,
        what="device Up",
    )


def test_silent_device_turns_down_and_its_operation_times_out(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(1, periodic_interval=10)
    record = only_device(api)
    assert (
        api.patch(f"/inventory_device/{record['id']}/", json={"update_frequency": 10}).status_code
        == 200
    )
    device = sim.fleet.devices[0]
    # Its first session (provisioning, then the tree read) over before it goes silent:
    # an operation queued during that session would still reach it.
    stats = sim.fleet.stats
    assert sim.wait_until(lambda: stats().bootstrapped == 1 and not stats().in_session, timeout=30)
    sim.run(lambda: setattr(device, "unreachable", True))
    before = record["status_change"]
    response = api.put(f"/inventory_device_operation/{record['id']}/", json={"operation": "reboot"})
    assert response.status_code == 200

    op = wait_until(
        lambda: (
            (o := api.get(f"/inventory_device/{record['id']}/operations/").json()["results"][0])[
                "status"
            ]
            == "timed_out"
            and o
        ),
        timeout=20,
        what="operation timed out",
    )
    assert op["error_cause"] == "operation_timeouts"
    # Nobody polls with update_status: the housekeeping sweep alone flips the status.
    down = wait_until(
        lambda: (
            (d := api.get(f"/inventory_device/{record['id']}/").json())["status"] == "Down" and d
        ),
        timeout=30,
        what="device Down",
    )
    assert down["status_change"] > before
    assert sim.run(lambda: device.counters.reboots) == 0

    # Back online: update_status probes it (connection request) and answers Up.
    sim.run(lambda: setattr(device, "unreachable", False))
    fresh = api.get("/inventory_device/", params={"update_status": "true"}).json()["results"][0]
    assert fresh["status"] == "Up"


def test_hostile_bodies_over_http_leave_the_server_healthy(platform):
    url = platform["server"].url + "/cwmp/"
    pid = platform["server"].proc.pid

    def rss_kb() -> int:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    before = rss_kb()
    big = b"<" + b"A" * (50 * 1024 * 1024)
    response = httpx.post(url, content=big, timeout=60)
    assert response.status_code == 413
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    response = httpx.post(url, content=xxe)
    assert response.status_code == 400 and b"root:" not in response.content
    laughs = (
        b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
        )
        + b"]><l>&i;</l>"
    )
    assert httpx.post(url, content=laughs).status_code == 400
    truncated = b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
    assert httpx.post(url, content=truncated).status_code == 400
    # The 50 MB body was refused without being held in memory.
    assert rss_kb() - before < 30 * 1024
    assert httpx.get(platform["server"].url + "/").status_code == 200


def test_a_default_start_prints_the_banner_and_no_server_library_warnings(platform):
    log = platform["server"].log_path.read_text()
    assert "Linesman is listening on" in log and "ACS URL" in log
    assert "[WARNING]" not in log and "Traceback" not in log, log[-2000:]
