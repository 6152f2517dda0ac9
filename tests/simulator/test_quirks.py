"""The misbehaving-device kit: each quirk, seen from a tiny ACS over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time

import httpx
import pytest

from linesman.cwmp import soap
from linesman.simulator.device import Quirks
from linesman.simulator.fleet import shared_tree
from linesman.simulator.http11 import Request, Response
from tests.simulator.test_connreq import client, make_agents
from tests.simulator.test_connreq import run as run_connreq
from tests.simulator.test_e2e import TinyAcs, fast_fleet, run, wait_for

SSID = "Device.WiFi.SSID.1.SSID"


class RecordingAcs(TinyAcs):
    """TinyAcs that also notes, per serial, the cwmp:ID of each request it sent and of each
    answer it got, and when each answer arrived."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.sent_ids: list[str] = []
        self.answer_ids: list[str] = []
        self.answered_at: list[float] = []

    async def _handle(self, request: Request) -> Response:
        if request.method == "POST" and request.body:
            env = soap.parse(request.body)
            if env is not None and not isinstance(env.body, soap.Inform | soap.TransferComplete):
                self.answer_ids.append(env.cwmp_id)
                self.answered_at.append(time.monotonic())
        response = await super()._handle(request)
        if response.status == 200 and response.body and b"Response>" not in response.body:
            sent = soap.parse(response.body)
            if sent is not None:
                self.sent_ids.append(sent.cwmp_id)
        return response


def run_recording(scenario) -> None:
    import asyncio

    async def main() -> None:
        acs = RecordingAcs(require_auth=False)
        await acs.start()
        try:
            await scenario(acs)
        finally:
            await acs.stop()
        assert not acs.errors, acs.errors

    asyncio.run(main())


def test_crash_on_a_named_rpc_abandons_the_session_without_acting() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(
            acs, 1, quirks={"SIM000001": Quirks(crash_on=frozenset({"SetParameterValues"}))}
        )
        device = fleet.device("SIM000001")
        acs.queues[device.serial].append(
            soap.SetParameterValues([soap.ParameterValue(SSID, "crashed", "xsd:string")], "k1")
        )
        await fleet.start()
        try:
            await wait_for(lambda: device.received("SetParameterValues"))
            # It comes back with a new session (a retry), having applied nothing.
            await wait_for(lambda: len(acs.informs_of(device.serial)) >= 2)
            assert device.get(SSID) != "crashed"
            assert acs.responses[device.serial] == []
            assert fleet.stats().errors.get("crash") == 1
        finally:
            await fleet.stop()

    run(scenario, require_auth=False)


def test_drop_on_reboot_reboots_but_never_answers() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 1, quirks={"SIM000001": Quirks(drop_on_reboot=True)})
        device = fleet.device("SIM000001")
        acs.queues[device.serial].append(soap.Reboot("rb-1"))
        await fleet.start()
        try:
            await wait_for(lambda: device.sent_event("M Reboot", "rb-1"))
            assert device.counters.reboots == 1
            assert acs.responses[device.serial] == []  # no RebootResponse ever reached the ACS
            assert ("1 BOOT", "") in acs.informs_of(device.serial)[-1]
            assert fleet.stats().errors.get("dropped") == 1
        finally:
            await fleet.stop()

    run(scenario, require_auth=False)


def test_hang_sits_silent_then_abandons_the_session() -> None:
    async def scenario(acs: TinyAcs) -> None:
        quirks = Quirks(hang_on=frozenset({"GetParameterValues"}), hang_seconds=0.5)
        fleet = fast_fleet(acs, 1, quirks={"SIM000001": quirks})
        device = fleet.device("SIM000001")
        acs.queues[device.serial].append(soap.GetParameterValues([SSID]))
        await fleet.start()
        try:
            await wait_for(lambda: device.received("GetParameterValues"))
            received = time.monotonic()
            await wait_for(lambda: fleet.stats().errors.get("hung") == 1)
            assert time.monotonic() - received >= 0.4
            assert acs.responses[device.serial] == []
        finally:
            await fleet.stop()

    run(scenario, require_auth=False)


def test_answer_delay_answers_late_and_wrong_id_answers_with_another_id() -> None:
    async def scenario(acs: RecordingAcs) -> None:
        quirks = Quirks(
            answer_delay=0.6,
            delay_on=frozenset({"GetParameterValues"}),
            wrong_id_on=frozenset({"GetParameterNames"}),
        )
        fleet = fast_fleet(acs, 1, quirks={"SIM000001": quirks})
        device = fleet.device("SIM000001")
        acs.queues[device.serial] += [
            soap.GetParameterValues([SSID]),
            soap.GetParameterNames("Device.DeviceInfo.", True),
        ]
        await fleet.start()
        try:
            await wait_for(lambda: len(acs.responses[device.serial]) == 2)
            gpv_received = device.received("GetParameterValues")[0].at
            # The journal stamps wall-clock time; the ACS stamps monotonic: compare spans.
            gpn_received = device.received("GetParameterNames")[0].at
            assert gpn_received - gpv_received >= 0.55  # the GPV answer came 0.6 s late
            assert acs.sent_ids[0] == acs.answer_ids[0]  # GPV: the right ID
            assert acs.answer_ids[1] != acs.sent_ids[1]  # GPN: another ID
            assert isinstance(acs.responses[device.serial][1], soap.GetParameterNamesResponse)
        finally:
            await fleet.stop()

    run_recording(scenario)


def test_fault_on_answers_the_given_fault_code_and_applies_nothing() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(
            acs, 1, quirks={"SIM000001": Quirks(fault_on={"SetParameterValues": 9002})}
        )
        device = fleet.device("SIM000001")
        acs.queues[device.serial].append(
            soap.SetParameterValues([soap.ParameterValue(SSID, "nope", "xsd:string")], "k2")
        )
        await fleet.start()
        try:
            await wait_for(lambda: len(acs.responses[device.serial]) == 1)
            fault = acs.responses[device.serial][0]
            assert isinstance(fault, soap.Fault) and fault.fault_code == 9002
            assert device.get(SSID) != "nope"
        finally:
            await fleet.stop()

    run(scenario, require_auth=False)


def test_version_after_transfer_reports_what_the_quirk_says() -> None:
    from linesman.simulator.device import SimulatedDevice
    from linesman.simulator.identity import Profile

    device = SimulatedDevice("SIM000009", 9, Profile("tr181", "http://x/"), shared_tree("tr181"))
    device.apply_firmware("2.0.0")
    assert device.firmware == "2.0.0"
    device.quirks = Quirks(version_after_transfer="1.0.0")
    device.apply_firmware("3.0.0")
    assert device.firmware == "1.0.0"
    assert device.get("Device.DeviceInfo.SoftwareVersion") == "1.0.0"


def test_ignore_connreq_accepts_and_never_comes() -> None:
    async def scenario(server, agents) -> None:
        agent = agents["SIM000001"]
        agent.device.quirks = Quirks(ignore_connreq=True)
        async with client() as http:
            reply = await http.get(
                server.url_for("SIM000001"), auth=httpx.DigestAuth("SIM000001", "SIM000001-secret")
            )
        assert reply.status_code == 200
        assert agent.kicks == 0

    run_connreq(scenario)


def test_never_connect_never_informs_and_leaves_connection_requests_unanswered() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 2, quirks={"SIM000001": Quirks(never_connect=True)})
        await fleet.start()
        try:
            await wait_for(lambda: fleet.device("SIM000002").bootstrapped)
            async with client(timeout=0.3) as http:
                with pytest.raises(httpx.ReadTimeout):
                    await http.get(fleet.connreq.url_for("SIM000001"))
            assert acs.informs_of("SIM000001") == []
        finally:
            await fleet.stop()

    run(scenario, require_auth=False)


def test_connreq_agents_default_to_no_quirks() -> None:
    agents = make_agents(1)
    assert agents["SIM000001"].device.quirks == Quirks()
