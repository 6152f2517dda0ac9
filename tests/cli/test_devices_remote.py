"""`linesman devices` and `linesman op` with --url/--token against a live Linesman."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Run
from tests.dashboard import live_stack
from tests.e2e.live import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = live_stack.start(tmp_path_factory.mktemp("cli"), devices=1)
    yield running
    running.stop()


@pytest.fixture
def remote(stack):
    """The CLI pointed at the live server with the superuser's token (through the env)."""
    return Run({"LINESMAN_URL": stack.url, "LINESMAN_TOKEN": stack.root_token})


def test_list_table_and_json(remote, stack):
    serial = stack.devices[0]["serial_number"]
    table = remote("devices", "list")
    assert table.exit_code == 0, table.output
    assert serial in table.stdout and "Devices (1-1 of 1)" in table.stdout
    page = remote("devices", "list", "--status", "up", "--json").json()
    assert page["count"] == 1 and page["results"][0]["serial_number"] == serial
    assert remote("devices", "list", "--status", "down", "--json").json()["count"] == 0
    assert (
        remote("devices", "list", "--type", "sim_gateway", "--org", "NOC Org", "--json").json()[
            "count"
        ]
        == 1
    )


def test_show_by_id_serial_and_name(remote, stack):
    record = stack.devices[0]
    for ref in (str(record["id"]), record["serial_number"], record["name"]):
        data = remote("devices", "show", ref, "--json").json()
        assert data["id"] == record["id"] and data["status"] == "Up"
    missing = remote("devices", "show", "NOPE")
    assert missing.exit_code == 1
    assert "no device with id, serial number or name 'NOPE'" in missing.stderr


def test_create_import_and_delete(remote, stack, tmp_path):
    created = remote(
        "devices",
        "create",
        "--serial",
        "REM1",
        "--name",
        "remote-1",
        "--type",
        "sim_gateway",
        "--org",
        "NOC Org",
        "--password",
        "pw",
        "--json",
    )
    assert created.exit_code == 0, created.output
    assert created.json()["serial_number"] == "REM1" and "password" not in created.json()
    duplicate = remote(
        "devices",
        "create",
        "--serial",
        "REM1",
        "--name",
        "remote-x",
        "--type",
        str(stack.type_id),
        "--org",
        str(stack.org_id),
    )
    assert duplicate.exit_code == 1
    assert duplicate.stderr.strip() == (
        "Error: HTTP 400: serial_number: device with this serial number already exists."
    )

    path = tmp_path / "import.csv"
    path.write_text(
        "name,serial_number,type,organization_id,username,password,update_frequency\n"
        f"remote-2,REM2,sim_gateway,{stack.org_id},u,p,120\n"
        "remote-3,REM3,sim_gateway,No Such Org,,,\n"
    )
    imported = remote("devices", "import", str(path), "--json")
    assert imported.exit_code == 1
    data = imported.json()
    assert [c["serial_number"] for c in data["created"]] == ["REM2"]
    assert data["failed"] == [
        {"line": 3, "serial_number": "REM3", "error": "no organization 'No Such Org'"}
    ]

    for serial in ("REM1", "REM2"):
        deleted = remote("devices", "delete", serial, "--json")
        assert deleted.exit_code == 0 and deleted.json()["deleted"] is True
    assert remote("devices", "show", "REM1").exit_code == 1


def test_op_reboot_waits_for_the_simulated_device(remote, stack):
    serial = stack.devices[0]["serial_number"]
    result = remote("op", serial, "reboot", "--wait", "--timeout", "60", "--json")
    assert result.exit_code == 0, result.output
    op = result.json()
    assert op["status"] == "completed" and op["initiated_by"] == "root"
    assert stack.sim.run(lambda: stack.sim.fleet.devices[0].counters.reboots) >= 1

    queued = remote("op", serial, "sync")
    assert queued.exit_code == 0 and queued.stdout.startswith("Queued sync on device")
    busy = remote("op", serial, "reconf")
    # Either the sync is still running (409) or it already finished and reconf queued.
    assert busy.exit_code == 0 or "HTTP 409" in busy.stderr


def test_viewer_token_is_refused_operations(stack):
    viewer = Run({"LINESMAN_URL": stack.url, "LINESMAN_TOKEN": stack.tokens["viewer"]})
    assert viewer("devices", "list", "--json").json()["count"] >= 1
    refused = viewer("op", str(stack.devices[0]["id"]), "reboot")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: HTTP 403: This needs the operator role")


def test_bad_token_and_unreachable_server(stack):
    bad = Run()("devices", "list", "--url", stack.url, "--token", "lsm_wrong")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == "Error: the server refused the token (401); check --token"
    down = Run()("devices", "list", "--url", f"http://127.0.0.1:{free_port()}", "--token", "t")
    assert down.exit_code == 1 and "cannot reach http://127.0.0.1:" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
