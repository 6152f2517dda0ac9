"""The simulator's diagnostics: results follow the inputs, tables are rewritten per run."""

from __future__ import annotations

import asyncio

import httpx

from linesman.cwmp import soap
from linesman.simulator import diagnostics
from tests.simulator.test_device import ask, make, pv

PING = "Device.IP.Diagnostics.IPPing."
TRACE = "Device.IP.Diagnostics.TraceRoute."
WIFI = "Device.WiFi.NeighboringWiFiDiagnostic."


def request(device, obj: str, **inputs: str) -> None:
    values = [pv(obj + k, v) for k, v in inputs.items()]
    answer = ask(
        device, soap.SetParameterValues([*values, pv(obj + "DiagnosticsState", "Requested")], "k")
    )
    assert isinstance(answer, soap.SetParameterValuesResponse), answer
    (requested,) = device.take_diagnostics()

    async def go():
        async with httpx.AsyncClient() as client:
            await diagnostics.run(device, requested, client)

    asyncio.run(go())


def test_names_resolve_only_in_the_simulated_world() -> None:
    assert diagnostics.resolve("192.0.2.5") == "192.0.2.5"
    assert diagnostics.resolve("gateway.lan") == "192.168.1.1"
    assert diagnostics.resolve("localhost").startswith("127.")
    assert diagnostics.resolve("example.com") is None  # no real DNS


def test_ping_loses_every_packet_to_an_unreachable_host_and_none_on_loopback() -> None:
    d = make()
    request(d, PING, Host="192.0.2.1", NumberOfRepetitions="6")
    assert (d.get(PING + "DiagnosticsState"), d.get(PING + "SuccessCount")) == ("Complete", "0")
    assert d.get(PING + "FailureCount") == "6"
    request(d, PING, Host="127.0.0.1", NumberOfRepetitions="2", DataBlockSize="3000")
    assert (d.get(PING + "SuccessCount"), d.get(PING + "FailureCount")) == ("2", "0")
    assert d.get(PING + "AverageResponseTime") == "4"  # 1 ms on loopback + 3 per 3000 bytes
    request(d, PING, Host="nowhere.invalid")
    assert d.get(PING + "DiagnosticsState") == "Error_CannotResolveHostName"


def test_trace_route_rows_are_replaced_on_each_run() -> None:
    d = make()
    request(d, TRACE, Host="192.0.2.1", MaxHopCount="5")
    assert d.get(TRACE + "DiagnosticsState") == "Error_MaxHopCountExceeded"
    assert len(d.model.instances(TRACE + "RouteHops.")) == 5
    assert d.get(TRACE + "RouteHops.1.HostAddress") == "100.64.0.1"  # the WAN gateway
    request(d, TRACE, Host="localhost")
    rows = d.model.instances(TRACE + "RouteHops.")
    assert len(rows) == 1 and d.get(f"{TRACE}RouteHops.{rows[0]}.HostAddress").startswith("127.")


def test_wifi_scan_is_deterministic_per_serial() -> None:
    a, b, other = make(serial="SIM000007"), make(serial="SIM000007"), make(serial="SIM000008")
    for d in (a, b, other):
        request(d, WIFI)

    def ssids(d):
        return [d.get(f"{WIFI}Result.{n}.SSID") for n in d.model.instances(WIFI + "Result.")]

    assert ssids(a) == ssids(b) and len(ssids(a)) == 3
    assert ssids(a) != ssids(other)


def test_tr098_devices_have_the_internet_gateway_device_objects() -> None:
    d = make("tr098")
    obj = "InternetGatewayDevice.DownloadDiagnostics."
    request(d, obj, DownloadURL="http://127.0.0.1:9/none")
    assert d.get(obj + "DiagnosticsState") == "Error_InitConnectionFailed"
    assert d.model.exists("InternetGatewayDevice.TraceRouteDiagnostics.MaxHopCount")
    assert not d.model.exists("InternetGatewayDevice.UDPEchoDiagnostics.")


UPLOAD = "Device.IP.Diagnostics.UploadDiagnostics."


def run_with_server(device, obj: str, handler) -> None:
    (requested,) = device.take_diagnostics()

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await diagnostics.run(device, requested, client)

    asyncio.run(go())


def test_upload_streams_the_test_file_and_believes_the_server_about_what_arrived() -> None:
    seen: list[int] = []

    async def counting(request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        seen.append(len(body))
        return httpx.Response(200, json={"received": len(body)})

    async def short(request: httpx.Request) -> httpx.Response:
        await request.aread()
        return httpx.Response(200, json={"received": 10})

    d = make()
    for handler, state in ((counting, "Complete"), (short, "Error_IncorrectSize")):
        values = [pv(UPLOAD + "UploadURL", "http://127.0.0.1:1/up")]
        values += [
            pv(UPLOAD + "TestFileLength", "200000"),
            pv(UPLOAD + "DiagnosticsState", "Requested"),
        ]
        ask(d, soap.SetParameterValues(values, "k"))
        run_with_server(d, UPLOAD, handler)
        assert d.get(UPLOAD + "DiagnosticsState") == state
    assert seen == [200000]
    assert d.get(UPLOAD + "TotalBytesSent") == "200000"
