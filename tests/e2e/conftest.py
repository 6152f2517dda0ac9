"""Fixtures of end-to-end tests: a live server with an admin token, an org and a type."""

from __future__ import annotations

import pytest

from tests.e2e.live import Api, Database, LiveServer


@pytest.fixture
def live_server(tmp_path):
    database = Database(tmp_path)
    server = LiveServer(tmp_path, database)
    server.cli("migrate")
    yield server
    server.stop()
    database.drop()


@pytest.fixture
def platform(live_server):
    """A started server with an organization, a device type and a superuser's API."""
    server = live_server
    org = server.cli_json("org", "create", "E2E Org")
    server.cli("user", "create", "root", "--superuser")
    token = server.cli_json("token", "create", "--user", "root")["token"]
    server.start()
    api = Api(server, token)
    dtype = api.post("/inventory_type/", json={"short_name": "sim_gateway",
                                               "name": "Simulated gateway"}).json()
    return {"server": server, "api": api, "org": org["id"], "type": dtype["id"],
            "token": token}
