"""Fixtures of end-to-end tests: a live server with an admin token, an org and a type."""

from __future__ import annotations

import pytest

from tests.e2e.live import Api, Database, LiveServer


def server_env() -> dict:
    """Extra environment for the server; a test module can override this fixture."""
    return {}


@pytest.fixture(name="server_env")
def _server_env() -> dict:
    return server_env()


@pytest.fixture
def server_process(tmp_path, server_env):
    database = Database(tmp_path)
    server = LiveServer(tmp_path, database, extra_env=server_env)
    server.cli("migrate")
    yield server
    server.stop()
    database.drop()


@pytest.fixture
def platform(server_process):
    """A started server with an organization, a device type and a superuser's API."""
    server = server_process
    org = server.cli_json("org", "create", "E2E Org")
    server.cli("user", "create", "root", "--superuser")
    token = server.cli_json("token", "create", "--user", "root")["token"]
    server.start()
    api = Api(server, token)
    dtype = api.post(
        "/inventory_type/", json={"short_name": "sim_gateway", "name": "Simulated gateway"}
    ).json()
    return {"server": server, "api": api, "org": org["id"], "type": dtype["id"], "token": token}


@pytest.fixture
def start_fleet(platform):
    """Register and start simulated devices: start_fleet(count, **Fleet options)."""
    import asyncio

    from linesman.simulator.fleet import Fleet, SimulatorThread, register_via_api

    running: list[SimulatorThread] = []

    def start(count: int, *, org: int | None = None, prefix: str = "SIM", **options):
        options.setdefault("periodic_interval", 300)
        options.setdefault("reboot_delay", 0.2)
        options.setdefault("retry_min_wait", 0.5)
        options.setdefault("retry_max_wait", 2.0)
        fleet = Fleet(platform["server"].url + "/cwmp/", count, serial_prefix=prefix, **options)
        result = asyncio.run(
            register_via_api(
                platform["server"].url,
                platform["token"],
                fleet,
                platform["type"],
                org or platform["org"],
            )
        )
        assert result.created == count, result.failed[:3]
        sim = SimulatorThread(fleet)
        sim.start()
        running.append(sim)
        return sim

    yield start
    for sim in running:
        sim.stop()
