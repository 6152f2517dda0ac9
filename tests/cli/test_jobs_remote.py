"""`linesman jobs` against a live server with --url/--token (LINESMAN_URL/LINESMAN_TOKEN)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Run
from tests.dashboard import live_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = live_stack.start(tmp_path_factory.mktemp("jobs"), devices=1)
    yield running
    running.stop()


@pytest.fixture
def remote(stack):
    return Run({"LINESMAN_URL": stack.url, "LINESMAN_TOKEN": stack.root_token})


def test_create_list_show_cancel_on_a_remote_server(remote, stack):
    serial = stack.devices[0]["serial_number"]
    made = remote(
        "jobs", "create", "--type", "inventory_audit", "--serial", serial,
        "--execute-at", "2099-01-01T00:00:00Z", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    job = made.json()
    assert job["target_device_count"] == 1 and job["status"] == "scheduled"
    # The server has it: the API lists what the CLI created.
    api_jobs = stack.api().get("/inventory_device_headless_operation/").json()["results"]
    assert [j["id"] for j in api_jobs] == [job["id"]]

    listed = remote("jobs", "list")
    assert listed.exit_code == 0, listed.output
    assert "inventory_audit" in listed.stdout and "2099-01-01T00:00Z" in listed.stdout
    shown = remote("jobs", "show", str(job["id"]), "--devices", "--json")
    assert shown.exit_code == 0, shown.output
    assert [d["serial_number"] for d in shown.json()["devices"]] == [serial]
    text = remote("jobs", "show", str(job["id"]))
    assert "scheduled  2099-01-01T00:00:00Z" in text.stdout

    cancelled = remote("jobs", "cancel", str(job["id"]), "--json")
    assert cancelled.exit_code == 0, cancelled.output
    assert cancelled.json()["status"] == "cancelled"


def test_remote_errors_are_one_line(remote, stack):
    missing = remote("jobs", "show", "999999")
    assert missing.exit_code == 1
    assert missing.stderr.strip().splitlines() == ["Error: no job 999999"]
    bad = remote("jobs", "create", "--type", "reboot", "--serial", "NO-SUCH-SERIAL")
    assert bad.exit_code == 1
    (line,) = bad.stderr.strip().splitlines()
    assert line.startswith("Error: the job was not created: HTTP 4")
    as_user = remote("jobs", "list", "--user", "someone")
    assert as_user.exit_code == 2 and "--user is for the local database" in as_user.stderr
    wrong_token = Run({"LINESMAN_URL": stack.url, "LINESMAN_TOKEN": "lsm_wrong"})("jobs", "list")
    assert wrong_token.exit_code == 1 and "401" in wrong_token.stderr


def test_devices_show_card_from_a_remote_server(remote, stack):
    device = stack.devices[0]
    org_name = stack.api().get(f"/organization/{stack.org_id}/").json()["name"]
    result = remote("devices", "show", device["serial_number"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"{device['name']}  (device {device['id']})"
    assert f"  organization  {org_name}" in result.stdout
    assert "Recent operations" in result.stdout
