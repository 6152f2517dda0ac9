"""The shared connection-request listener, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from linesman.httpwire.digest import parse_auth_params
from linesman.simulator.auth import DigestVerifier
from linesman.simulator.connreq import ConnectionRequestServer
from linesman.simulator.device import SimulatedDevice
from linesman.simulator.fleet import shared_tree
from linesman.simulator.identity import Profile


class FakeAgent:
    """Stands in for a DeviceAgent: counts kicks."""

    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        self.kicks = 0

    def kick(self) -> None:
        self.kicks += 1


def make_agents(count: int = 2) -> dict[str, FakeAgent]:
    profile = Profile("tr181", "http://127.0.0.1:1/acs")
    agents = {}
    for index in range(1, count + 1):
        device = SimulatedDevice(f"SIM{index:06d}", index, profile, shared_tree("tr181"))
        device.boot()
        agents[device.serial] = FakeAgent(device)
    return agents


def run(
    scenario: Callable[[ConnectionRequestServer, dict[str, FakeAgent]], Coroutine[Any, Any, None]],
    **options: Any,
) -> None:
    async def main() -> None:
        agents = make_agents()
        server = ConnectionRequestServer(agents.get, hold_timeout=5, **options)
        await server.start()
        try:
            await scenario(server, agents)
        finally:
            await server.stop()

    asyncio.run(main())


def client(timeout: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False, timeout=timeout)


def test_digest_request_kicks_the_device() -> None:
    async def scenario(server: ConnectionRequestServer, agents: dict[str, FakeAgent]) -> None:
        agent = agents["SIM000001"]
        async with client() as http:
            reply = await http.get(
                server.url_for("SIM000001"), auth=httpx.DigestAuth("SIM000001", "SIM000001-secret")
            )
        assert reply.status_code == 200
        assert agent.kicks == 1 and agents["SIM000002"].kicks == 0

    run(scenario)


def test_challenge_wrong_password_and_unknown_device() -> None:
    async def scenario(server: ConnectionRequestServer, agents: dict[str, FakeAgent]) -> None:
        url = server.url_for("SIM000001")
        async with client() as http:
            bare = await http.get(url)
            assert bare.status_code == 401
            scheme, _, rest = bare.headers["www-authenticate"].partition(" ")
            challenge = parse_auth_params(rest)
            assert scheme == "Digest" and challenge["qop"] == "auth"
            assert challenge["algorithm"] == "MD5" and challenge["nonce"]
            wrong = await http.get(url, auth=httpx.DigestAuth("SIM000001", "guess"))
            assert wrong.status_code == 401
            other = await http.get(url, auth=httpx.DigestAuth("SIM000002", "SIM000002-secret"))
            assert other.status_code == 401
            basic = await http.get(url, auth=httpx.BasicAuth("SIM000001", "SIM000001-secret"))
            assert basic.status_code == 401  # Basic is off unless enabled
            missing = await http.get(server.url_for("SIM999999"))
            assert missing.status_code == 404
            post = await http.post(url, auth=httpx.DigestAuth("SIM000001", "SIM000001-secret"))
            assert post.status_code == 405
        assert agents["SIM000001"].kicks == 0
        assert agents["SIM000001"].device.counters.connection_requests_rejected == 3

    run(scenario)


def test_basic_when_enabled_and_changed_credentials() -> None:
    async def scenario(server: ConnectionRequestServer, agents: dict[str, FakeAgent]) -> None:
        device = agents["SIM000002"].device
        device.model.set("Device.ManagementServer.ConnectionRequestUsername", "cr-user")
        device.model.set("Device.ManagementServer.ConnectionRequestPassword", "cr-pass")
        url = server.url_for("SIM000002")
        async with client() as http:
            assert (
                await http.get(url, auth=httpx.BasicAuth("cr-user", "cr-pass"))
            ).status_code == 200
            old = httpx.DigestAuth("SIM000002", "SIM000002-secret")
            assert (await http.get(url, auth=old)).status_code == 401
            new = httpx.DigestAuth("cr-user", "cr-pass")
            assert (await http.get(url, auth=new)).status_code == 200
        assert agents["SIM000002"].kicks == 2

    run(scenario, allow_basic=True)


@pytest.mark.parametrize("state", ["unreachable", "offline"])
def test_unreachable_or_rebooting_device_never_answers(state: str) -> None:
    async def scenario(server: ConnectionRequestServer, agents: dict[str, FakeAgent]) -> None:
        device = agents["SIM000001"].device
        if state == "unreachable":
            device.unreachable = True
        else:
            device.online = False
        async with client() as http:
            # Connected, then no answer: only the wait for the answer is short (a loaded
            # machine may take longer than that to accept the connection).
            with pytest.raises(httpx.ReadTimeout):
                await http.get(server.url_for("SIM000001"), timeout=httpx.Timeout(5.0, read=0.3))
            # The listener itself is fine: other devices still answer.
            assert (await http.get(server.url_for("SIM000002"))).status_code == 401
        assert agents["SIM000001"].kicks == 0

    run(scenario)


def test_reject_auth_refuses_even_good_credentials() -> None:
    async def scenario(server: ConnectionRequestServer, agents: dict[str, FakeAgent]) -> None:
        agents["SIM000001"].device.reject_auth = True
        async with client() as http:
            reply = await http.get(
                server.url_for("SIM000001"), auth=httpx.DigestAuth("SIM000001", "SIM000001-secret")
            )
        assert reply.status_code == 401 and agents["SIM000001"].kicks == 0

    run(scenario)


async def raw_exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(65536), 5)
    finally:
        writer.close()


def test_garbage_gets_an_error_and_the_listener_survives() -> None:
    async def scenario(server: ConnectionRequestServer, agents: dict[str, FakeAgent]) -> None:
        port = server.port
        assert (await raw_exchange(port, b"\x00\xff\xfe garbage\r\n\r\n")).startswith(
            b"HTTP/1.1 400"
        )
        assert (await raw_exchange(port, b"GET /SIM000001 HTTP/9.9\r\n\r\n")).startswith(
            b"HTTP/1.1 400"
        )
        huge = b"GET /SIM000001 HTTP/1.1\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n"
        assert (await raw_exchange(port, huge)).startswith(b"HTTP/1.1 431")
        bad_length = b"GET /SIM000001 HTTP/1.1\r\nContent-Length: -5\r\n\r\n"
        assert (await raw_exchange(port, bad_length)).startswith(b"HTTP/1.1 400")
        # A client that opens a connection and goes away mid-request.
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /SIM0")
        writer.close()
        async with client() as http:
            reply = await http.get(
                server.url_for("SIM000001"), auth=httpx.DigestAuth("SIM000001", "SIM000001-secret")
            )
        assert reply.status_code == 200

    run(scenario)


def test_digest_verifier_details() -> None:
    verifier = DigestVerifier("realm", nonce_ttl=60)
    nonce = verifier.new_nonce()
    assert verifier._nonce_state(nonce) == "ok"
    assert verifier._nonce_state("bm9wZQ==") == "bad"
    assert verifier.check("GET", "/x", None, "u", "p") == "fail"
    assert verifier.check("GET", "/x", "Bearer abc", "u", "p") == "fail"
    assert verifier.check("GET", "/x", 'Digest username="u", realm="realm"', "u", "p") == "fail"
    assert parse_auth_params('a=1, b="x, \\"y\\"", junk, c=3') == {
        "a": "1",
        "b": 'x, "y"',
        "c": "3",
    }
