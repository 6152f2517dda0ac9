"""`linesman devices` and `linesman op` on the local database (the pytest-django one)."""

from __future__ import annotations

import os
import pwd

import pytest

from linesman.cli import devices as cli_devices
from linesman.inventory.models import Device, DeviceStatus
from linesman.operations import engine
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --- devices list / show ----------------------------------------------------------------


@pytest.fixture
def fleet(org_a, org_b, device_type, second_type):
    return [
        make_device(org_a, device_type, "L0001", name="up-router", status=DeviceStatus.UP),
        make_device(org_a, second_type, "L0002", name="down-router"),
        make_device(org_b, device_type, "L0003", name="other-org"),
    ]


def test_list_prints_a_table(run, fleet):
    result = run("devices", "list")
    assert result.exit_code == 0, result.output
    assert "Devices (1-3 of 3)" in result.stdout
    for device in fleet:
        assert device.serial_number in result.stdout and device.name in result.stdout


def test_list_json_is_the_api_page(run, fleet):
    data = run("devices", "list", "--json").json()
    assert data["count"] == 3
    assert [d["serial_number"] for d in data["results"]] == ["L0001", "L0002", "L0003"]
    assert {"id", "status", "type_short_name", "pending_settings"} <= set(data["results"][0])


@pytest.mark.parametrize(
    ("args", "serials"),
    [
        (["--status", "up"], ["L0001"]),
        (["--status", "DOWN"], ["L0002", "L0003"]),
        (["--type", "enterprise_router_v2"], ["L0002"]),
        (["--org", "Org B"], ["L0003"]),
        (["--org", "Org A", "--status", "down"], ["L0002"]),
        (["--limit", "1", "--offset", "1"], ["L0002"]),
    ],
)
def test_list_filters(run, fleet, args, serials):
    result = run("devices", "list", *args, "--json")
    assert result.exit_code == 0, result.output
    assert [d["serial_number"] for d in result.json()["results"]] == serials


def test_list_filter_by_type_and_org_ids(run, fleet, second_type, org_b):
    assert run("devices", "list", "--type", str(second_type.pk), "--json").json()["count"] == 1
    assert run("devices", "list", "--org", str(org_b.pk), "--json").json()["count"] == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--type", "nope"], 1, "no device type 'nope'"),
        (["--org", "Nobody"], 1, "no organization 'Nobody'"),
        (["--status", "sideways"], 2, "Invalid value for '--status'"),
        (["--limit", "0"], 2, "Invalid value for '--limit'"),
    ],
)
def test_list_errors(run, fleet, args, code, message):
    result = run("devices", "list", *args)
    assert result.exit_code == code
    assert message in result.stderr


@pytest.mark.parametrize("ref", ["id", "serial", "name"])
def test_show_by_id_serial_or_name(run, device_a, ref):
    key = {"id": str(device_a.pk), "serial": device_a.serial_number, "name": device_a.name}[ref]
    data = run("devices", "show", key, "--json").json()
    assert data["id"] == device_a.pk and data["serial_number"] == device_a.serial_number
    assert "password" not in data


def test_show_text_and_errors(run, device_a):
    result = run("devices", "show", device_a.serial_number)
    assert result.exit_code == 0 and device_a.serial_number in result.stdout
    assert device_a.name in result.stdout
    missing = run("devices", "show", "NOPE")
    assert missing.exit_code == 1
    assert error_line(missing) == "Error: no device with id, serial number or name 'NOPE'"


def test_show_ambiguous_name(run, org_a, org_b, device_type):
    make_device(org_a, device_type, "AMB1", name="twin")
    make_device(org_b, device_type, "AMB2", name="twin")
    result = run("devices", "show", "twin")
    assert result.exit_code == 1 and "several devices are named 'twin'" in result.stderr


# --- devices create / delete ------------------------------------------------------------


def test_create(run, org_a, device_type):
    result = run(
        "devices",
        "create",
        "--serial",
        "NEW1",
        "--name",
        "new-router",
        "--type",
        "enterprise_router",
        "--org",
        "Org A",
        "--username",
        "cpe",
        "--password",
        "s3cret",
        "--update-frequency",
        "60",
    )
    assert result.exit_code == 0, result.output
    device = Device.objects.get(serial_number="NEW1")
    assert result.stdout.strip() == f"Created device new-router (id {device.pk}, serial NEW1)"
    assert device.organization == org_a and device.update_frequency == 60
    assert device.password == "s3cret" and "s3cret" not in device.password_encrypted


def test_create_json(run, org_a, device_type):
    data = run(
        "devices",
        "create",
        "--serial",
        "NEW2",
        "--name",
        "n2",
        "--type",
        str(device_type.pk),
        "--org",
        str(org_a.pk),
        "--json",
    ).json()
    assert data["serial_number"] == "NEW2" and data["organization_id"] == org_a.pk
    assert "password" not in data


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--serial", "ZEQ240100001"], 1, "serial_number: device with this serial number"),
        (["--update-frequency", "1"], 1, "update_frequency: Ensure this value is greater"),
        (["--type", "missing"], 1, "no device type 'missing'"),
        (["--update-frequency", "soon"], 2, "Invalid value for '--update-frequency'"),
    ],
)
def test_create_errors(run, device_a, extra, code, message):
    args = {"--serial": "NEW3", "--name": "n3", "--type": "enterprise_router", "--org": "Org A"}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        args[flag] = value
    result = run("devices", "create", *[x for pair in args.items() for x in pair])
    assert result.exit_code == code
    assert message in result.stderr
    if code == 1:  # a failure is one line; usage errors add click's usage hint
        assert len(result.stderr.strip().splitlines()) == 1


def test_create_needs_the_required_options(run, device_type):
    result = run("devices", "create", "--serial", "X")
    assert result.exit_code == 2 and "Missing option" in result.stderr


def test_delete(run, device_a):
    result = run("devices", "delete", str(device_a.pk))
    assert result.exit_code == 0
    assert result.stdout.strip() == f"Deleted device {device_a.name} (id {device_a.pk})"
    assert not Device.objects.filter(pk=device_a.pk).exists()


def test_delete_json_and_errors(run, device_a, device_b):
    data = run("devices", "delete", device_b.serial_number, "--json").json()
    assert data == {"id": device_b.pk, "serial_number": device_b.serial_number, "deleted": True}
    Operation.objects.create(device=device_a, kind="reboot")
    busy = run("devices", "delete", str(device_a.pk))
    assert busy.exit_code == 1 and "has an operation in progress" in error_line(busy)
    assert run("devices", "delete", "999999").exit_code == 1


# --- devices import ---------------------------------------------------------------------

HEADER = "name,serial_number,type,organization_id,username,password,update_frequency\n"


def test_import_creates_every_row(run, tmp_path, org_a, device_type):
    path = tmp_path / "devices.csv"
    path.write_text(
        HEADER + f"a,IMP1,enterprise_router,Org A,u1,p1,60\nb,IMP2,{device_type.pk},{org_a.pk},,,\n"
    )
    result = run("devices", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Imported 2 of 2 devices (0 failed)"
    first = Device.objects.get(serial_number="IMP1")
    assert first.password == "p1" and first.update_frequency == 60


def test_import_reports_each_bad_row_and_exits_1(run, tmp_path, device_a, org_a):
    path = tmp_path / "devices.csv"
    path.write_text(
        HEADER
        + "ok,IMP3,enterprise_router,Org A,,,\n"
        + f"dup,{device_a.serial_number},enterprise_router,Org A,,,\n"
        + "badtype,IMP4,nope,Org A,,,\n"
        + "badfreq,IMP5,enterprise_router,Org A,,,often\n"
        + "\n"
    )
    result = run("devices", "import", str(path))
    assert result.exit_code == 1
    assert "Imported 1 of 4 devices (3 failed)" in result.stdout
    assert f"line 3 ({device_a.serial_number}): serial_number:" in result.stderr
    assert "line 4 (IMP4): no device type 'nope'" in result.stderr
    assert "line 5 (IMP5): update_frequency 'often' is not a whole number" in result.stderr
    assert Device.objects.filter(serial_number="IMP3").exists()

    as_json = run("devices", "import", str(path), "--json")
    assert as_json.exit_code == 1
    data = as_json.json()
    assert data["created"] == [] and [f["line"] for f in data["failed"]] == [2, 3, 4, 5]


def test_import_file_errors(run, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("serial,name\nX,y\n")
    result = run("devices", "import", str(wrong))
    assert result.exit_code == 1 and "lacks column(s) serial_number, type" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER)
    assert "no device rows" in run("devices", "import", str(empty)).stderr
    missing = run("devices", "import", str(tmp_path / "absent.csv"))
    assert missing.exit_code == 2 and "No such file" in missing.stderr


# --- op ---------------------------------------------------------------------------------


def test_op_queues_and_returns(run, device_a):
    result = run("op", device_a.serial_number, "reboot")
    assert result.exit_code == 0, result.output
    op = Operation.objects.get()
    assert op.kind == "reboot" and op.state == OperationState.INITIATED
    # A device never seen: the operation waits for its first contact, and says so.
    assert result.stdout.strip() == (
        f"Queued reboot on device {device_a.pk} as {op.operation_id}; "
        "waiting for the device's first contact (never seen)"
    )
    # "by" names the person at the keyboard (issue 14), not "system".
    me = pwd.getpwuid(os.getuid()).pw_name
    assert op.initiated_by_name == f"{me} (local CLI)"
    from linesman.audit.models import AuditEntry

    entry = AuditEntry.objects.get(message__startswith=op.operation_id)
    assert entry.actor == f"{me} (local CLI)"


def test_op_json(run, device_a):
    data = run("op", str(device_a.pk), "sync", "--json").json()
    assert data["operation"] == "sync" and data["status"] == "initiated"
    assert data["operation_id"] == Operation.objects.get().operation_id


@pytest.fixture
def device_answers(monkeypatch):
    """The device ends the running operation (in `state`) at the CLI's first poll."""

    def answer(state: str, error: str = ""):
        def finish(seconds: float) -> None:
            for op in Operation.objects.filter(state=OperationState.INITIATED):
                engine.finish(op, state, error=error)

        monkeypatch.setattr(cli_devices, "_sleep", finish)

    return answer


def test_op_wait_completed_exits_0(run, device_a, device_answers):
    device_answers(OperationState.COMPLETED)
    result = run("op", str(device_a.pk), "reboot", "--wait")
    assert result.exit_code == 0, result.output
    op = Operation.objects.get()
    assert result.stdout.strip() == f"reboot {op.operation_id} completed"


def test_op_wait_json_completed(run, device_a, device_answers):
    device_answers(OperationState.COMPLETED)
    result = run("op", str(device_a.pk), "reconf", "--wait", "--json")
    assert result.exit_code == 0
    assert result.json()["status"] == "completed" and result.json()["result"] == "success"


@pytest.mark.parametrize("state", [OperationState.FAILED, OperationState.TIMED_OUT])
def test_op_wait_failed_or_timed_out_exits_1(run, device_a, device_answers, state):
    device_answers(state, error="device said no")
    result = run("op", str(device_a.pk), "factory", "--wait", "--json")
    assert result.exit_code == 1
    assert result.json()["status"] == state
    assert error_line(result).endswith(f"{state}: device said no")


def test_op_wait_timeout_exits_3(run, device_a):
    result = run("op", str(device_a.pk), "reboot", "--wait", "--timeout", "0")
    assert result.exit_code == cli_devices.EXIT_STILL_RUNNING
    assert "is still initiated after 0 s" in result.stderr
    assert Operation.objects.get().state == OperationState.INITIATED


def test_op_errors(run, device_a):
    Operation.objects.create(device=device_a, kind="sync")
    busy = run("op", str(device_a.pk), "reboot")
    assert busy.exit_code == 1 and "is initiated on this device" in error_line(busy)
    assert run("op", "NOPE", "reboot").exit_code == 1
    unknown = run("op", str(device_a.pk), "explode")
    assert unknown.exit_code == 2 and "Invalid value for" in unknown.stderr
    assert run("op", str(device_a.pk), "firmware").exit_code == 2
    assert run("op", str(device_a.pk), "reboot", "--image", "1").exit_code == 2


def test_op_on_a_deactivated_device(run, device_a):
    from django.utils import timezone

    Device.objects.filter(pk=device_a.pk).update(last_connection=timezone.now())
    result = run("op", str(device_a.pk), "sync")
    assert result.exit_code == 1 and "deactivated" in error_line(result)


def test_op_firmware(run, device_a, firmware_image):
    result = run("op", device_a.serial_number, "firmware", "--image", "2.5.0", "--json")
    assert result.exit_code == 0, result.output
    assert result.json()["operation"] == "firmware"
    device_a.refresh_from_db()
    assert device_a.firmware_image == firmware_image and device_a.firmware_image_is_pending
    missing = run("op", device_a.serial_number, "firmware", "--image", "9.9")
    assert missing.exit_code == 1 and "no firmware image '9.9'" in missing.stderr


def test_url_without_token_is_a_usage_error(run):
    result = run("devices", "list", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 2 and "--url needs --token" in result.stderr


def test_unmigrated_database_is_one_clear_line(run, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection.introspection, "table_names", lambda *a, **k: [])
    result = run("devices", "list")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: the database has no schema yet; run `linesman migrate`"
