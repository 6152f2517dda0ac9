"""End-to-end: simulated devices against a tiny throwaway ACS defined in this file.

The ACS speaks real CWMP over HTTP on 127.0.0.1 with the project's codec: it authenticates
devices with Digest, tracks sessions by cookie, answers Informs and TransferCompletes, and
sends queued RPCs one at a time, recording every response.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from linesman.cwmp import soap
from linesman.httpwire.digest import basic_header, parse_auth_params, split_scheme
from linesman.simulator.auth import DigestVerifier
from linesman.simulator.fleet import Fleet, SimulatorThread
from linesman.simulator.http11 import HttpServer, Request, Response
from linesman.simulator.transfer import firmware_image


class TinyAcs:
    """Just enough ACS to drive devices: queue RPCs per serial, read what came back."""

    def __init__(
        self,
        *,
        require_auth: bool = True,
        password: str = "{serial}-secret",
        scheme: str = "digest",
        challenge: bool = True,
    ) -> None:
        self.require_auth = require_auth
        self.password = password
        self.scheme = scheme  # "digest" or "basic"
        self.challenge = challenge  # False: a request without credentials is an error
        self.verifier = DigestVerifier("tiny-acs")
        self.http = HttpServer(self._handle)
        self.queues: dict[str, list[soap.Message | bytes]] = defaultdict(list)
        self.responses: dict[str, list[soap.Message]] = defaultdict(list)
        self.informs: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []
        self.device_ids: dict[str, soap.DeviceId] = {}
        self.transfers: list[tuple[str, soap.TransferComplete]] = []
        self.sessions: dict[str, str] = {}  # cookie -> serial
        self.unavailable = 0  # answer this many requests 503 Retry-After: 0 first
        self.errors: list[str] = []
        self.files: dict[str, bytes] = {}  # path -> body, served on GET
        self.seen: list[Request] = []  # every request, as received
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"{self.http.url}/acs"

    async def start(self) -> None:
        await self.http.start()

    async def stop(self) -> None:
        await self.http.stop()

    def informs_of(self, serial: str) -> list[list[tuple[str, str]]]:
        return [events for s, events, _p in self.informs if s == serial]

    def _authorized(self, request: Request) -> bool:
        header = request.header("authorization") or ""
        scheme, rest = split_scheme(header)
        if self.scheme == "basic":
            try:
                username = base64.b64decode(rest).decode().partition(":")[0]
            except ValueError:
                return False
            return header == basic_header(username, self.password.format(serial=username))
        username = parse_auth_params(rest).get("username", "") if scheme == "digest" else ""
        password = self.password.format(serial=username)
        return self.verifier.check("POST", request.target, header, username, password) == "ok"

    async def _handle(self, request: Request) -> Response:
        self.seen.append(request)
        if request.method == "GET":
            body = self.files.get(request.path)
            return Response(200, body) if body is not None else Response(404)
        if self.unavailable > 0:
            self.unavailable -= 1
            return Response(503, b"busy", [("Retry-After", "0")])
        if self.require_auth and not self._authorized(request):
            if not self.challenge:
                self.errors.append("request without valid credentials")
                return Response(400, b"credentials expected")
            if self.scheme == "basic":
                challenge = 'Basic realm="tiny-acs"'
            else:
                challenge = self.verifier.challenges()[0]
            return Response(401, b"", [("WWW-Authenticate", challenge)])
        cookie = (request.header("cookie") or "").partition("tinyacs=")[2].split(";")[0]
        env = soap.parse(request.body)
        message = env.body if env is not None else None
        if isinstance(message, soap.Inform):
            serial = message.device_id.serial_number
            sid = f"s{next(self._ids)}"
            self.sessions[sid] = serial
            events = [(e.code, e.command_key) for e in message.events]
            params = {p.name: p.value for p in message.parameters}
            self.informs.append((serial, events, params))
            self.device_ids[serial] = message.device_id
            return self._soap(
                soap.InformResponse(1), env.cwmp_id, [("Set-Cookie", f"tinyacs={sid}; Path=/")]
            )
        serial = self.sessions.get(cookie)
        if serial is None:
            self.errors.append(f"request without session cookie: {request.body[:80]!r}")
            return Response(400, b"no session")
        if isinstance(message, soap.TransferComplete):
            self.transfers.append((serial, message))
            return self._soap(soap.TransferCompleteResponse(), env.cwmp_id)
        if message is not None:
            self.responses[serial].append(message)
        queue = self.queues[serial]
        if not queue:
            self.sessions.pop(cookie, None)
            return Response(204)
        item = queue.pop(0)
        if isinstance(item, bytes):  # hand-written XML, for what the codec cannot build
            return Response(200, item, [("Content-Type", "text/xml")])
        return self._soap(item, f"acs-{next(self._ids)}")

    @staticmethod
    def _soap(message: soap.Message, cwmp_id: str | None, headers: Any = ()) -> Response:
        body = soap.serialize(soap.Envelope(message, cwmp_id=cwmp_id))
        return Response(200, body, [("Content-Type", "text/xml"), *headers])


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def run(scenario: Callable[[TinyAcs], Coroutine[Any, Any, None]], **acs_options: Any) -> None:
    async def main() -> None:
        acs = TinyAcs(**acs_options)
        await acs.start()
        try:
            await scenario(acs)
        finally:
            await acs.stop()
        assert not acs.errors, acs.errors

    asyncio.run(main())


def fast_fleet(acs: TinyAcs, count: int = 1, **options: Any) -> Fleet:
    options.setdefault("reboot_delay", 0.05)
    options.setdefault("retry_min_wait", 0.05)
    return Fleet(acs.url, count, **options)


# ---------------------------------------------------------------------------- scenarios


def test_bootstrap_gpv_then_reboot_comes_back_with_command_key() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 2)
        serial = "SIM000001"
        acs.queues[serial] += [
            soap.GetParameterValues(
                ["Device.DeviceInfo.SoftwareVersion", "Device.WiFi.SSID.1.SSID"]
            ),
            soap.Reboot("reboot-42"),
        ]
        await fleet.start()
        try:
            device = fleet.device(serial)
            await wait_for(lambda: device.sent_event("M Reboot", "reboot-42"))
            informs = acs.informs_of(serial)
            assert ("0 BOOTSTRAP", "") in informs[0] and ("1 BOOT", "") in informs[0]
            assert ("1 BOOT", "") in informs[1] and ("M Reboot", "reboot-42") in informs[1]
            assert ("0 BOOTSTRAP", "") not in informs[1]
            gpv = acs.responses[serial][0]
            assert isinstance(gpv, soap.GetParameterValuesResponse)
            assert {p.name: p.value for p in gpv.parameters} == {
                "Device.DeviceInfo.SoftwareVersion": "1.0.0",
                "Device.WiFi.SSID.1.SSID": "Linesman-0001",
            }
            assert isinstance(acs.responses[serial][1], soap.RebootResponse)
            assert [e.method for e in device.journal] == ["GetParameterValues", "Reboot"]
            assert device.journal[1].args == {"command_key": "reboot-42"}
            assert device.counters.reboots == 1 and device.boot_count == 2
            assert device.uptime() < 5
            await wait_for(lambda: fleet.stats().bootstrapped == 2)
            assert fleet.device("SIM000002").counters.rpcs == 0
        finally:
            await fleet.stop()

    run(scenario)


def test_a_session_as_the_acs_receives_it() -> None:
    """Cookieless Inform, 401, the Inform again with Digest (nc 1, a fresh cnonce), then
    every POST with the session cookie, the next nc and a new cnonce, all on one keep-alive
    connection."""

    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs)
        acs.queues["SIM000001"].append(soap.GetRPCMethods())
        await fleet.start()
        try:
            await wait_for(lambda: fleet.stats().sessions_ok == 1)
        finally:
            await fleet.stop()
        first, *authenticated = acs.seen
        assert first.header("authorization") is None and first.header("cookie") is None
        assert first.header("content-type") == 'text/xml; charset="utf-8"'
        assert first.header("soapaction") == ""
        assert len(authenticated) == 3  # Inform, empty POST, GetRPCMethodsResponse (204)
        digests = [parse_auth_params(r.header("authorization") or "") for r in authenticated]
        assert [d["nc"] for d in digests] == ["00000001", "00000002", "00000003"]
        assert len({d["cnonce"] for d in digests}) == 3
        assert {d["uri"] for d in digests} == {"/acs"}
        assert authenticated[0].header("cookie") is None
        assert {r.header("cookie") for r in authenticated[1:]} == {"tinyacs=s1"}
        assert [len(r.body) > 0 for r in authenticated] == [True, False, True]
        assert authenticated[1].header("content-length") == "0"
        assert len({r.peer for r in acs.seen}) == 1  # keep-alive throughout

    run(scenario)


def test_set_values_and_add_object_over_the_wire() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 1, flavour="tr098")
        serial = "SIM000001"
        igd = "InternetGatewayDevice."
        wan = f"{igd}WANDevice.1.WANConnectionDevice.1.WANIPConnection.1."
        acs.queues[serial] += [
            soap.AddObject(f"{wan}PortMapping.", "add-1"),
            soap.SetParameterValues(
                [
                    soap.ParameterValue(
                        f"{wan}PortMapping.1.ExternalPort", "8080", "xsd:unsignedInt"
                    ),
                    soap.ParameterValue(f"{igd}ManagementServer.PeriodicInformInterval", "90"),
                ],
                "spv-1",
            ),
            soap.SetParameterValues([soap.ParameterValue(f"{igd}DeviceInfo.UpTime", "1")], "x"),
            soap.GetRPCMethods(),
        ]
        await fleet.start()
        try:
            await wait_for(lambda: len(acs.responses[serial]) == 4)
            add, spv, fault, methods = acs.responses[serial]
            assert add == soap.AddObjectResponse(1, 0)
            assert spv == soap.SetParameterValuesResponse(0)
            assert isinstance(fault, soap.Fault) and fault.fault_code == 9003
            assert fault.set_parameter_value_faults[0].code == 9008
            assert "Download" in methods.methods
            device = fleet.device(serial)
            assert device.get(f"{wan}PortMapping.1.ExternalPort") == "8080"
            assert device.get(f"{igd}ManagementServer.ParameterKey") == "spv-1"
            assert device.periodic_settings() == (True, 90)
        finally:
            await fleet.stop()

    run(scenario)


def test_connection_request_triggers_session_with_event() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 3)
        await fleet.start()
        try:
            await wait_for(lambda: fleet.stats().bootstrapped == 3)
            device = fleet.device("SIM000002")
            acs.queues[device.serial].append(soap.GetParameterValues(["Device.DeviceInfo.UpTime"]))
            url = acs.informs_of(device.serial)[0] and device.connreq_url
            async with httpx.AsyncClient(trust_env=False) as client:
                reply = await client.get(
                    url, auth=httpx.DigestAuth("SIM000002", "SIM000002-secret")
                )
            assert reply.status_code == 200
            await wait_for(lambda: device.sent_event("6 CONNECTION REQUEST"))
            await wait_for(lambda: len(acs.responses[device.serial]) == 1)
            assert device.counters.connection_requests == 1
            assert fleet.device("SIM000001").counters.connection_requests == 0
        finally:
            await fleet.stop()

    run(scenario)


def test_firmware_download_reports_transfer_complete_after_reboot() -> None:
    async def scenario(acs: TinyAcs) -> None:
        image = firmware_image("2.5.0", padding=1000)
        acs.files["/fw/good.bin"] = image
        acs.files["/fw/bad.bin"] = b"garbage\n" * 10
        fleet = fast_fleet(acs, 2)
        good, bad = fleet.device("SIM000001"), fleet.device("SIM000002")
        base = acs.http.url
        acs.queues[good.serial].append(
            soap.Download(
                "dl-good", "1 Firmware Upgrade Image", f"{base}/fw/good.bin", file_size=len(image)
            )
        )
        acs.queues[bad.serial].append(
            soap.Download("dl-bad", "1 Firmware Upgrade Image", f"{base}/fw/bad.bin")
        )
        await fleet.start()
        try:
            await wait_for(lambda: len(acs.transfers) == 2)
            results = {serial: tc for serial, tc in acs.transfers}
            assert results[good.serial].command_key == "dl-good"
            assert results[good.serial].fault_code == 0
            assert results[bad.serial].fault_code == 9018
            assert good.get("Device.DeviceInfo.SoftwareVersion") == "2.5.0"
            assert bad.get("Device.DeviceInfo.SoftwareVersion") == "1.0.0"
            events = acs.informs_of(good.serial)[-1]
            assert ("7 TRANSFER COMPLETE", "") in events and ("M Download", "dl-good") in events
            assert ("1 BOOT", "") in events
            assert ("1 BOOT", "") not in acs.informs_of(bad.serial)[-1]
            params = [p for s, _e, p in acs.informs if s == good.serial][-1]
            assert params["Device.DeviceInfo.SoftwareVersion"] == "2.5.0"
            assert isinstance(acs.responses[good.serial][0], soap.DownloadResponse)
            assert acs.responses[good.serial][0].status == 1
            assert good.counters.downloads == 1 and bad.counters.downloads_failed == 1
        finally:
            await fleet.stop()

    run(scenario)


def test_factory_reset_bootstraps_again_with_defaults() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 1)
        device = fleet.device("SIM000001")
        ms = "Device.ManagementServer."
        acs.queues[device.serial] += [
            soap.SetParameterValues(
                [
                    soap.ParameterValue(f"{ms}PeriodicInformInterval", "77"),
                    soap.ParameterValue(f"{ms}ConnectionRequestPassword", "changed"),
                ],
                "before-reset",
            ),
            soap.FactoryReset(),
        ]
        await fleet.start()
        try:
            await wait_for(lambda: len(acs.informs_of(device.serial)) == 2)
            second = acs.informs_of(device.serial)[1]
            assert ("0 BOOTSTRAP", "") in second and ("1 BOOT", "") in second
            assert device.counters.factory_resets == 1
            assert device.periodic_settings()[1] == 300
            assert device.connreq_credentials() == ("SIM000001", "SIM000001-secret")
            assert device.get(f"{ms}ParameterKey") == ""
        finally:
            await fleet.stop()

    run(scenario)


def test_schedule_inform_and_retry_after_503() -> None:
    async def scenario(acs: TinyAcs) -> None:
        acs.unavailable = 2
        fleet = fast_fleet(acs, 1)
        device = fleet.device("SIM000001")
        acs.queues[device.serial].append(soap.ScheduleInform(1, "sched-7"))
        await fleet.start()
        try:
            await wait_for(lambda: device.sent_event("M ScheduleInform", "sched-7"))
            assert device.sent_event("3 SCHEDULED")
            assert device.counters.sessions_failed == 2
            assert device.informs[0].retry_count == 2
            assert fleet.stats().errors == {"http": 2}
        finally:
            await fleet.stop()

    run(scenario)


def test_wrong_password_fails_and_fail_methods_answers_9000() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 2, retry_max_wait=0.1)
        broken, picky = fleet.device("SIM000001"), fleet.device("SIM000002")
        broken.model.set("Device.ManagementServer.Password", "wrong")
        picky.fail_methods = frozenset({"GetParameterNames"})
        acs.queues[picky.serial].append(soap.GetParameterNames("Device.", True))
        await fleet.start()
        try:
            await wait_for(lambda: len(acs.responses[picky.serial]) == 1)
            assert acs.responses[picky.serial][0].fault_code == 9000
            await wait_for(lambda: broken.counters.sessions_failed >= 2)
            assert broken.counters.informs == 0
            assert fleet.stats().errors.get("auth", 0) >= 2
        finally:
            await fleet.stop()

    run(scenario)


def test_periodic_informs_follow_the_configured_interval() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 1, periodic_interval=1, jitter=0.0)
        device = fleet.device("SIM000001")
        await fleet.start()
        try:

            def periodic() -> list[float]:
                return [r.at for r in device.informs if ("2 PERIODIC", "") in r.events]

            await wait_for(lambda: len(periodic()) >= 2, timeout=8)
            first, second = periodic()[:2]
            # Interval 1 s, no jitter; the upper bound leaves room for a loaded machine.
            assert 0.7 < second - first < 3.0
        finally:
            await fleet.stop()

    run(scenario)


def test_simulator_thread_from_synchronous_code() -> None:
    acs = TinyAcs(require_auth=False)
    fleet = Fleet("http://127.0.0.1:9/unused", 2, reboot_delay=0.05, retry_min_wait=0.05)
    with SimulatorThread(fleet) as sim:
        sim.call(acs.start())
        try:
            for device in fleet:
                sim.run(lambda d=device: d.model.set("Device.ManagementServer.URL", acs.url))
            # Devices that failed to reach the unused URL retry against the ACS now.
            assert sim.wait_until(lambda: fleet.stats().bootstrapped == 2, timeout=15)
        finally:
            sim.call(acs.stop())
    assert sim.loop is None


def test_basic_auth_answered_on_challenge_or_sent_preemptively() -> None:
    async def answer_challenge(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 2)
        await fleet.start()
        try:
            await wait_for(lambda: fleet.stats().bootstrapped == 2)
        finally:
            await fleet.stop()

    run(answer_challenge, scheme="basic")

    async def preemptive(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 2, auth_mode="basic_preemptive")
        acs.queues["SIM000002"].append(soap.GetRPCMethods())
        await fleet.start()
        try:
            await wait_for(lambda: fleet.stats().bootstrapped == 2)
            await wait_for(lambda: len(acs.responses["SIM000002"]) == 1)
        finally:
            await fleet.stop()

    run(preemptive, scheme="basic", challenge=False)


def test_unreachable_device_never_informs() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 2)
        fleet.device("SIM000001").unreachable = True
        await fleet.start()
        try:
            await wait_for(lambda: fleet.device("SIM000002").bootstrapped)
            assert acs.informs_of("SIM000001") == []
            fleet.device("SIM000001").unreachable = False  # back online: it catches up
            await wait_for(lambda: fleet.device("SIM000001").bootstrapped, timeout=5)
        finally:
            await fleet.stop()

    run(scenario)


UNKNOWN_RPC = b"""<?xml version="1.0"?>
<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:cwmp="urn:dslforum-org:cwmp-1-2">
  <soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">odd-1</cwmp:ID></soap-env:Header>
  <soap-env:Body><cwmp:X_ACME_Frobnicate><Level>9</Level></cwmp:X_ACME_Frobnicate></soap-env:Body>
</soap-env:Envelope>"""


def test_unknown_rpc_is_answered_with_fault_9000_and_session_goes_on() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 1)
        serial = "SIM000001"
        acs.queues[serial] += [UNKNOWN_RPC, soap.GetRPCMethods()]
        await fleet.start()
        try:
            await wait_for(lambda: len(acs.responses[serial]) == 2)
            fault, methods = acs.responses[serial]
            assert isinstance(fault, soap.Fault) and fault.fault_code == 9000
            assert isinstance(methods, soap.GetRPCMethodsResponse)
            assert [e.method for e in fleet.device(serial).journal] == [
                "X_ACME_Frobnicate",
                "GetRPCMethods",
            ]
        finally:
            await fleet.stop()

    run(scenario)


def test_interval_set_by_the_acs_takes_effect() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 1, periodic_interval=3600)
        device = fleet.device("SIM000001")
        acs.queues[device.serial].append(
            soap.SetParameterValues(
                [soap.ParameterValue("Device.ManagementServer.PeriodicInformInterval", "1")], "p"
            )
        )
        await fleet.start()
        try:
            await wait_for(lambda: device.sent_event("2 PERIODIC"), timeout=5)
        finally:
            await fleet.stop()

    run(scenario)
