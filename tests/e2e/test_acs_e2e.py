"""End to end: simulated devices against a real `linesman serve` (issue 3)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.live import LiveServer, wait_until

pytestmark = pytest.mark.e2e


def devices(api, **params) -> list[dict]:
    return api.get("/inventory_device/", params={"limit": 1000, **params}).json()["results"]


def test_devices_bootstrap_and_get_their_own_connection_request_credentials(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(5)
    wait_until(lambda: len(devices(api, status=1)) == 5, timeout=30, what="5 devices Up")
    # The bootstrap SetParameterValues reached each device.
    for record in devices(api):
        assert record["is_active"] is True
        assert record["software_version"] == "1.0.0"
        assert record["address"] == "127.0.0.1"
    sim.wait_until(
        lambda: all(d.get(d.ms("ConnectionRequestUsername")).startswith("cr-") for d in sim.fleet),
        timeout=20,
    )
    device = sim.fleet.devices[0]
    assert sim.run(lambda: device.get(device.ms("PeriodicInformInterval"))) == "300"


def test_periodic_informs_follow_update_frequency(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(1)
    wait_until(lambda: devices(api, status=1), what="device Up")
    pk = devices(api)[0]["id"]
    assert api.patch(f"/inventory_device/{pk}/", json={"update_frequency": 10}).status_code == 200
    assert api.patch(f"/inventory_device/{pk}/", json={"reconf": True}).status_code == 200
    device = sim.fleet.devices[0]
    assert sim.wait_until(lambda: device.get(device.ms("PeriodicInformInterval")) == "10", 20)
    periodic = lambda: sum(  # noqa: E731
        1 for r in device.informs if any(code == "2 PERIODIC" for code, _ in r.events)
    )
    assert sim.wait_until(lambda: periodic() >= 1, timeout=25)


def test_session_alternating_between_two_server_processes(platform, start_fleet, tmp_path):
    """Every request of one session goes to the other process; the session completes."""
    from linesman.cwmp import soap
    from tests.cwmp.acs_client import inform_message

    first = platform["server"]
    second = LiveServer(first.home, first.database, worker=False)
    second.env = dict(first.env, LINESMAN_BIND=f"127.0.0.1:{second.port}")
    second.start()
    try:
        api = platform["api"]
        created = api.post(
            "/inventory_device/",
            json={
                "name": "alt",
                "serial_number": "ALT1",
                "type": platform["type"],
                "organization_id": platform["org"],
                "username": "u",
                "password": "p",
            },
        )
        assert created.status_code == 201
        urls = [first.url + "/cwmp/", second.url + "/cwmp/"]
        client = httpx.Client(auth=httpx.DigestAuth("u", "p"), timeout=10)
        body = soap.serialize(soap.Envelope(inform_message("ALT1", events=("0 BOOTSTRAP",))))
        response = client.post(urls[0], content=body)
        assert response.status_code == 200
        # The session cookie: the client's jar sends it to both processes, as cookies are
        # not bound to a port (a CPE behind one ACS name reaches either the same way).
        assert response.cookies
        turn, rpcs = 1, []
        response = client.post(urls[turn], content=b"")
        while response.status_code == 200:
            request = soap.parse(response.content).body
            rpcs.append(request.METHOD)
            # Provisioning writes, then the tree read after a first contact (an empty tree).
            if isinstance(request, soap.GetParameterNames):
                answer = soap.GetParameterNamesResponse([])
            else:
                answer = soap.SetParameterValuesResponse(0)
            turn = 1 - turn
            response = client.post(
                urls[turn],
                content=soap.serialize(soap.Envelope(answer, cwmp_id="x")),
            )
        assert response.status_code == 204
        assert rpcs[0] == "SetParameterValues"
        assert rpcs[-1] == "GetParameterNames" and set(rpcs[:-1]) == {"SetParameterValues"}
        record = api.get(f"/inventory_device/{created.json()['id']}/").json()
        assert record["status"] == "Up"
    finally:
        second.stop()


def test_unknown_device_refused_over_http(platform):
    from linesman.cwmp import soap
    from tests.cwmp.acs_client import inform_message

    body = soap.serialize(soap.Envelope(inform_message("NOBODY")))
    response = httpx.post(platform["server"].url + "/cwmp/", content=body)
    assert response.status_code == 401
