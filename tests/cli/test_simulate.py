"""`linesman simulate`: its CSV goes into `devices import`; --register fails loudly."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from linesman.cli.simulate import simulate
from linesman.inventory.models import Device
from tests.dashboard import live_stack


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize("by", ["name", "id"])
def test_csv_round_trips_through_devices_import(run, tmp_path, org_a, device_type, by):
    type_ref = device_type.short_name if by == "name" else str(device_type.pk)
    org_ref = org_a.name if by == "name" else str(org_a.pk)
    printed = run(
        "simulate", "--csv", "--devices", "3", "--serial-prefix", "RT", "--type", type_ref,
        "--org", org_ref, "--interval", "120",
    )  # fmt: skip
    assert printed.exit_code == 0, printed.output
    path = tmp_path / "fleet.csv"
    path.write_text(printed.stdout)
    imported = run("devices", "import", str(path))
    assert imported.exit_code == 0, imported.output
    assert "Imported 3 of 3 devices (0 failed)" in imported.stdout
    devices = Device.objects.filter(serial_number__startswith="RT").order_by("serial_number")
    assert [d.serial_number for d in devices] == ["RT000001", "RT000002", "RT000003"]
    assert {(d.type_id, d.organization_id, d.update_frequency) for d in devices} == {
        (device_type.pk, org_a.pk, 120)
    }
    assert devices[0].username == "RT000001"


def test_csv_without_type_and_org_says_what_import_needs(run):
    result = run("simulate", "--csv", "--devices", "1")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("name,serial_number,type,organization_id,")
    assert "needs --type and --org" in result.stderr


def test_register_that_creates_nothing_exits_1_with_one_line():
    api = f"http://127.0.0.1:{_closed_port()}"
    result = CliRunner().invoke(
        simulate,
        [
            "--acs", "http://127.0.0.1:1/cwmp/", "--devices", "2", "--register",
            "--api", api, "--token", "t", "--type", "999999", "--org", "1",
            "--duration", "5",
        ],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert _last_line(result.output).startswith("Error: registered none of 2 devices (")
    assert "summary" not in result.output


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = live_stack.start(tmp_path_factory.mktemp("simulate"), devices=0)
    yield running
    running.stop()


@pytest.mark.e2e
def test_register_with_an_unknown_type_name_fails_before_registering(stack):
    result = CliRunner().invoke(
        simulate,
        [
            "--acs", stack.url + "/cwmp/", "--devices", "2", "--register", "--api", stack.url,
            "--token", stack.root_token, "--type", "no_such_type", "--org", str(stack.org_id),
            "--duration", "5",
        ],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert _last_line(result.output) == f"Error: no device type 'no_such_type' on {stack.url}"
    assert stack.api().get("/inventory_device/").json()["count"] == 0
