"""End to end: devices behind NAT, reachable only by UDP (after STUN) or only by XMPP, are
rebooted through the API.

A real `linesman serve` with its STUN server on a free UDP port of 127.0.0.1 and an XMPP
account on the test Prosody (.ci/prosody); simulated devices whose HTTP connection request
port refuses every connection.
"""

from __future__ import annotations

import socket

import pytest

from tests.e2e.live import wait_until
from tests.reach.prosody import ACS, CPES, ONE_WORKER, ensure_prosody

pytestmark = [pytest.mark.e2e, ONE_WORKER]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_env(request) -> dict:
    env = {
        "LINESMAN_STUN_BIND": f"127.0.0.1:{free_udp_port()}",
        "LINESMAN_STUN_SERVER_ADDRESS": "127.0.0.1",
    }
    if "xmpp" in request.node.name:
        host, port = ensure_prosody()
        env.update(
            LINESMAN_XMPP_JID=ACS[0],
            LINESMAN_XMPP_PASSWORD=ACS[1],
            LINESMAN_XMPP_SERVER=f"{host}:{port}",
        )
    return env


def use_methods(platform, methods: str) -> None:
    response = platform["api"].patch(
        f"/inventory_type/{platform['type']}/", json={"connection_request_methods": methods}
    )
    assert response.status_code == 200, response.text
    assert response.json()["connection_request_methods"] == methods


def up_device(api) -> dict:
    return wait_until(
        lambda: (
            (r := api.get("/inventory_device/", params={"status": 1}).json()["results"]) and r[0]
        ),
        timeout=30,
        what="the device Up",
    )


def reboot_and_wait(api, pk: int) -> dict:
    response = api.put(f"/inventory_device_operation/{pk}/", json={"operation": "reboot"})
    assert response.status_code == 200, response.text

    def finished():
        op = api.get(f"/inventory_device/{pk}/operations/").json()["results"][0]
        ended = op["status"] not in ("initiated", "dispatched", "in_progress")
        # The connection request's note lands when its sender returns, which for a UDP
        # request (no answer; confirmed by the session) may be after the reboot ended.
        return op if ended and "connection_request" in op["output"] else None

    op = wait_until(finished, timeout=60, what="the reboot to finish and its note")
    assert op["status"] == "completed", op
    return op


def test_a_device_reachable_only_by_udp_is_rebooted(platform, start_fleet):
    api = platform["api"]
    use_methods(platform, "http,udp")
    sim = start_fleet(1, nat="udp", prefix="UDP")
    record = up_device(api)
    sim_device = sim.fleet.devices[0]
    reach = sim.fleet.reach[sim_device.serial]
    # Provisioning switched STUN on; the device's binding is recorded once it is answered.
    assert sim.wait_until(lambda: reach.bindings > 0, timeout=30), "no STUN binding"

    # Its first session (provisioning, then the tree read) is over: the reboot needs a
    # connection request, not a ride on that session.
    assert sim.wait_until(lambda: sim_device.bootstrapped and not sim_device.in_session, 60)
    op = reboot_and_wait(api, record["id"])

    assert sim.run(lambda: sim_device.counters.reboots) == 1
    assert sim.run(lambda: reach.accepted) >= 1
    assert op["output"]["connection_request"] == {
        "methods": ["http", "udp"],
        "method": "udp",
        "ok": True,
        "cause": "",
    }


def test_a_device_reachable_only_by_xmpp_is_rebooted(platform, start_fleet):
    api = platform["api"]
    use_methods(platform, "http,xmpp")
    sim = start_fleet(
        1, nat="xmpp", prefix="XMPP", xmpp_accounts=CPES[1:2], xmpp_server=ensure_prosody()
    )
    record = up_device(api)
    sim_device = sim.fleet.devices[0]
    # Provisioning allowed the ACS's JID to send connection requests.
    allowed = sim_device.ms("ConnReqAllowedJabberIDs")
    assert sim.wait_until(lambda: sim_device.get(allowed) == ACS[0], timeout=30)

    # Its first session (provisioning, then the tree read) is over: the reboot needs a
    # connection request, not a ride on that session.
    assert sim.wait_until(lambda: sim_device.bootstrapped and not sim_device.in_session, 60)
    op = reboot_and_wait(api, record["id"])

    assert sim.run(lambda: sim_device.counters.reboots) == 1
    assert sim.run(lambda: sim.fleet.reach[sim_device.serial].accepted) >= 1
    assert op["output"]["connection_request"]["method"] == "xmpp"
    assert op["output"]["connection_request"]["methods"] == ["http", "xmpp"]
