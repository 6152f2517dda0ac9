"""End to end: each diagnostic, through the API, on simulated TR-181 and TR-098 devices.

The simulator's results depend on the inputs (a ping of an unreachable host loses every
packet, a download test transfers a real file from this server), so each test asserts what
the device measured, and what it received over CWMP.
"""

from __future__ import annotations

import socket
import threading

import pytest

from tests.cli.conftest import Run
from tests.e2e.live import wait_until

pytestmark = pytest.mark.e2e


def up_device(api) -> dict:
    return wait_until(
        lambda: (
            (r := api.get("/inventory_device/", params={"status": 1}).json()["results"]) and r[0]
        ),
        timeout=30,
        what="a device Up",
    )


def run(api, record: dict, operation: str, parameters: dict, state: str = "completed") -> dict:
    response = api.post(
        "/inventory_device_diags/",
        json={"device": record["id"], "operation": operation, "parameters": parameters},
    )
    assert response.status_code == 201, response.json()
    diag_id = response.json()["id"]

    def finished():
        body = api.get("/inventory_device_diags/", params={"id": diag_id}).json()["results"][0]
        return body if body["status"] not in ("initiated", "dispatched", "in_progress") else None

    body = wait_until(finished, timeout=40, what=f"{operation} to finish")
    assert body["status"] == state, body
    return body


def spv_sent(sim, device) -> list[dict]:
    entries = sim.run(lambda: device.journal)
    return [e.args for e in entries if e.method == "SetParameterValues"]


def test_ping_reachable_and_unreachable_hosts_on_tr181(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(1)
    record = up_device(api)
    device = sim.fleet.devices[0]

    body = run(api, record, "ipping", {"host": "127.0.0.1", "number_of_repetitions": 3})
    assert body["object"] == "Device.IP.Diagnostics.IPPing."
    assert body["results"]["reachable"] is True
    assert body["results"]["sent"] == 3 and body["results"]["received"] == 3
    assert body["results"]["loss_percent"] == 0.0
    assert body["results"]["rtt_min_ms"] >= 1
    sent = spv_sent(sim, device)[-1]
    assert sent["parameters"]["Device.IP.Diagnostics.IPPing.DiagnosticsState"] == "Requested"
    assert sent["parameters"]["Device.IP.Diagnostics.IPPing.Host"] == "127.0.0.1"
    assert sim.run(lambda: device.sent_event("8 DIAGNOSTICS COMPLETE"))

    body = run(api, record, "ipping", {"host": "192.0.2.1", "number_of_repetitions": 5})
    assert body["results"]["reachable"] is False
    assert body["results"]["received"] == 0 and body["results"]["loss_percent"] == 100.0

    ping = api.get(f"/inventory_device_ipping/{record['id']}/").json()
    assert ping["host"] == "192.0.2.1" and ping["reachable"] is False
    assert ping["loss_percent"] == 100.0 and ping["last_ping"]["id"] == body["id"]
    by_serial = api.get(f"/inventory_device_serial_ipping/{record['serial_number']}/").json()
    assert by_serial["last_ping"]["id"] == body["id"]

    # Never stored as desired configuration.
    settings = api.get("/inventory_device_setting/", params={"parent_id": record["id"]}).json()
    names = [s.get("variable_name", "") for s in settings.get("results", settings)]
    assert not [n for n in names if "Diagnostics" in n]


def test_ipping_endpoint_runs_a_ping_when_asked(platform, start_fleet):
    api = platform["api"]
    start_fleet(1)
    record = up_device(api)
    response = api.get(
        f"/inventory_device_name_ipping/{record['name']}/",
        params={"run": "true", "host": "localhost"},
    )
    assert response.status_code == 202, response.json()
    assert response.json()["running"]["operation"] == "ipping"
    done = wait_until(
        lambda: (
            (b := api.get(f"/inventory_device_ipping/{record['id']}/").json())["last_ping"] and b
        ),
        timeout=40,
        what="the ping's results",
    )
    assert done["reachable"] is True and done["host"] == "localhost"

    # `linesman diag` against this server, by serial number, waiting for the results.
    cli = Run({"LINESMAN_URL": platform["server"].url, "LINESMAN_TOKEN": platform["token"]})
    result = cli("diag", record["serial_number"], "ping", "192.0.2.44", "--wait", "--timeout", "40")
    assert result.exit_code == 0, result.output
    assert "192.0.2.44: unreachable, 4 sent, 0 received, 100% loss" in result.stdout
    ping = api.get(f"/inventory_device_ipping/{record['id']}/").json()
    assert ping["host"] == "192.0.2.44" and ping["reachable"] is False


def test_an_unresolvable_host_fails_with_the_devices_reason(platform, start_fleet):
    api = platform["api"]
    start_fleet(1)
    record = up_device(api)
    body = run(api, record, "ipping", {"host": "no-such-host.invalid"}, state="failed")
    assert body["device_state"] == "Error_CannotResolveHostName"
    assert "Error_CannotResolveHostName" in body["error"]


def test_download_and_upload_transfer_real_bytes_from_this_server(platform, start_fleet):
    api = platform["api"]
    start_fleet(1)
    record = up_device(api)
    url = platform["server"].url + "/diagnostics/speedtest/250000"
    body = run(api, record, "download", {"download_url": url})
    assert body["results"]["bytes"] == 250000
    assert body["results"]["seconds"] is not None and body["results"]["seconds"] >= 0
    default = run(api, record, "download", {})
    assert default["parameters"]["download_url"].endswith("/diagnostics/speedtest/1000000")
    assert default["results"]["bytes"] == 1000000

    up = run(api, record, "upload", {"test_file_length": 120000})
    assert up["results"]["bytes"] == 120000 and up["results"]["eom_time"]

    broken = run(
        api, record, "download", {"download_url": "http://127.0.0.1:9/nothing"}, state="failed"
    )
    assert broken["device_state"] == "Error_InitConnectionFailed"


def test_traceroute_udpecho_nslookup_and_wifi_scan(platform, start_fleet):
    api = platform["api"]
    start_fleet(1)
    record = up_device(api)

    trace = run(api, record, "traceroute", {"host": "127.0.0.1"})
    assert [h["address"] for h in trace["results"]["hops"]] == ["127.0.0.1"]
    lost = run(api, record, "traceroute", {"host": "192.0.2.7", "max_hop_count": 4}, "failed")
    assert lost["device_state"] == "Error_MaxHopCountExceeded"
    assert len(lost["results"]["hops"]) == 4

    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))
    port = echo.getsockname()[1]
    stop = threading.Event()

    def serve():
        echo.settimeout(0.2)
        while not stop.is_set():
            try:
                data, peer = echo.recvfrom(65536)
            except OSError:
                continue
            echo.sendto(data, peer)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        udp = run(
            api, record, "udpecho", {"host": "127.0.0.1", "port": port, "number_of_repetitions": 3}
        )
    finally:
        stop.set()
        server.join()
        echo.close()
    assert udp["results"]["received"] == 3 and udp["results"]["reachable"] is True
    silent = run(api, record, "udpecho", {"host": "127.0.0.1", "port": port, "timeout": 200})
    assert silent["results"]["received"] == 0  # nobody echoes any more

    found = run(api, record, "nslookup", {"host_name": "gateway.lan"})
    assert found["results"]["answers"][0]["addresses"] == ["192.168.1.1"]
    missing = run(api, record, "nslookup", {"host_name": "nowhere.invalid"})
    assert missing["results"]["answers"][0]["status"] == "Error_HostNameNotResolved"

    scan = run(api, record, "wifi_neighbor", {})
    again = run(api, record, "wifi_neighbor", {})
    assert len(scan["results"]["neighbours"]) == 3
    assert scan["results"]["neighbours"] == again["results"]["neighbours"]  # deterministic


def test_tr098_device_uses_internet_gateway_device_objects(platform, start_fleet):
    api = platform["api"]
    start_fleet(1, flavour="tr098")
    record = up_device(api)
    body = run(api, record, "ipping", {"host": "127.0.0.1"})
    assert body["object"] == "InternetGatewayDevice.IPPingDiagnostics."
    assert body["results"]["reachable"] is True
    url = platform["server"].url + "/diagnostics/speedtest/4096"
    down = run(api, record, "download", {"download_url": url})
    assert down["object"] == "InternetGatewayDevice.DownloadDiagnostics."
    assert down["results"]["bytes"] == 4096
    response = api.post(
        "/inventory_device_diags/",
        json={"device": record["id"], "operation": "nslookup", "parameters": {"host_name": "x"}},
    )
    assert response.status_code == 422, response.json()
