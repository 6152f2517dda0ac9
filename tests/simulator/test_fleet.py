"""Fleet construction, inventory CSV and API registration, the CLI, connection-request
coalescing."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from linesman.cli.simulate import simulate
from linesman.simulator.fleet import Fleet, fleet_csv, register_via_api
from linesman.simulator.http11 import HttpServer, Request, Response
from tests.simulator.test_e2e import TinyAcs, fast_fleet, run, wait_for


def test_fleet_serials_flavours_and_credentials() -> None:
    fleet = Fleet(
        "http://127.0.0.1:1/acs",
        4,
        serial_prefix="LAB",
        first_index=9,
        flavour="mixed",
        password="pw-{index}",
        periodic_interval=120,
    )
    assert [d.serial for d in fleet] == ["LAB000009", "LAB000010", "LAB000011", "LAB000012"]
    assert [d.flavour for d in fleet] == ["tr181", "tr098", "tr181", "tr098"]
    device = fleet.device("LAB000010")
    assert device.credentials() == ("LAB000010", "pw-10")
    assert device.connreq_credentials() == ("LAB000010", "pw-10")
    assert device.periodic_settings() == (True, 120)
    assert device.get("InternetGatewayDevice.ManagementServer.URL") == "http://127.0.0.1:1/acs"
    with pytest.raises(KeyError):
        fleet.device("LAB000001")
    with pytest.raises(ValueError):
        Fleet("http://x", 1, flavour="tr069")
    with pytest.raises(ValueError):
        Fleet("http://x", 1, auth_mode="kerberos")
    tokens = Fleet("http://x", 2, connreq_path="token")
    paths = [d.connreq_path for d in tokens]
    assert len(set(paths)) == 2 and "SIM000001" not in paths


def test_fleet_csv() -> None:
    text = fleet_csv(Fleet("http://x", 2, periodic_interval=60))
    assert text.splitlines() == [
        "name,serial_number,username,password,update_frequency",
        "SIM000001,SIM000001,SIM000001,SIM000001-secret,60",
        "SIM000002,SIM000002,SIM000002,SIM000002-secret,60",
    ]


def test_register_via_api_posts_every_device() -> None:
    seen: list[Request] = []

    async def api(request: Request) -> Response:
        seen.append(request)
        body = json.loads(request.body)
        if body["serial_number"] == "SIM000003":
            return Response(
                400, b'{"serial_number": ["already exists"], "echo": "SIM000003-secret"}'
            )
        return Response(201, b"{}")

    async def main() -> None:
        server = HttpServer(api)
        await server.start()
        progress: list[tuple[int, int]] = []
        try:
            result = await register_via_api(
                server.url + "/",
                "tok-123",
                Fleet("http://x", 3, periodic_interval=90),
                7,
                11,
                concurrency=2,
                progress=lambda done, total: progress.append((done, total)),
            )
        finally:
            await server.stop()
        assert result.created == 2
        assert len(result.failed) == 1 and result.failed[0][0] == "SIM000003"
        assert "SIM000003-secret" not in result.failed[0][1]
        assert progress[-1] == (3, 3)

    asyncio.run(main())
    assert {r.path for r in seen} == {"/api/v1/inventory_device/"}
    assert all(r.header("authorization") == "Bearer tok-123" for r in seen)
    first = json.loads(min(seen, key=lambda r: r.body).body)
    assert first == {
        "name": "SIM000001",
        "serial_number": "SIM000001",
        "type": 7,
        "organization_id": 11,
        "username": "SIM000001",
        "password": "SIM000001-secret",
        "update_frequency": 90,
    }


def test_connection_requests_coalesce_into_one_session() -> None:
    async def scenario(acs: TinyAcs) -> None:
        fleet = fast_fleet(acs, 1)
        await fleet.start()
        try:
            device = fleet.device("SIM000001")
            await wait_for(lambda: device.bootstrapped and not device.in_session)
            await wait_for(lambda: not device.has_events())
            agent = fleet.agent("SIM000001")
            agent.kick()
            agent.kick()
            await wait_for(lambda: device.sent_event("6 CONNECTION REQUEST"))
            await wait_for(lambda: not device.in_session and not device.has_events())
            kicked = [r for r in device.informs if ("6 CONNECTION REQUEST", "") in r.events]
            assert len(kicked) == 1 and device.counters.connection_requests == 2
        finally:
            await fleet.stop()

    run(scenario)


@pytest.fixture
def acs_in_thread() -> Iterator[TinyAcs]:
    acs = TinyAcs()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(acs.start(), loop).result(10)
    try:
        yield acs
    finally:
        asyncio.run_coroutine_threadsafe(acs.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_cli_runs_for_a_duration_and_summarises(acs_in_thread: TinyAcs) -> None:
    acs = acs_in_thread
    result = CliRunner().invoke(
        simulate,
        ["--acs", acs.url, "--devices", "3", "--flavour", "tr098", "--duration", "1"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "summary" in result.output
    assert sorted({serial for serial, _e, _p in acs.informs}) == [
        "SIM000001",
        "SIM000002",
        "SIM000003",
    ]
    assert all(("0 BOOTSTRAP", "") in events for _s, events, _p in acs.informs[:3])


def test_cli_csv_and_usage_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(simulate, ["--csv", "--devices", "2", "--serial-prefix", "CPE"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2].startswith("CPE000002,CPE000002,")
    assert runner.invoke(simulate, ["--devices", "2"]).exit_code == 2  # --acs missing
    missing = runner.invoke(simulate, ["--acs", "http://127.0.0.1:1/", "--register"])
    assert missing.exit_code == 2 and "--api" in missing.output


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "linesman.simulator", "--csv", "--devices", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.splitlines()[1].startswith("SIM000001,")


def test_a_tr098_device_informs_the_acs_over_http(acs_in_thread: TinyAcs) -> None:
    # The Inform travels over a real HTTP session and the ACS side of the codec reads it.
    result = CliRunner().invoke(
        simulate,
        ["--acs", acs_in_thread.url, "--devices", "1", "--flavour", "tr098", "--duration", "1"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert acs_in_thread.errors == []
    device_id = acs_in_thread.device_ids["SIM000001"]
    assert device_id.product_class == "LS-IGD-098"
    assert device_id.serial_number == "SIM000001"
    _serial, events, params = acs_in_thread.informs[0]
    assert ("0 BOOTSTRAP", "") in events
    url = params["InternetGatewayDevice.ManagementServer.ConnectionRequestURL"]
    assert httpx.URL(url).host == "127.0.0.1"
