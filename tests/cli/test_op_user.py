"""`linesman op ... --user NAME`: an operation from the local CLI recorded for a Linesman user.

Without --user the history's "by" is the OS user (tests/cli/test_devices_local.py); with it,
the operation is that user's, as if they had started it from the API: the history, the API
and the device page name them, and the audit trail links them. A name that cannot stand
behind the operation (unknown, deactivated, no operator role there) is one line on stderr,
exit 1, and nothing is created.
"""

from __future__ import annotations

import pytest
from django.test import Client

from linesman.audit.models import AuditEntry
from linesman.inventory.models import Device
from linesman.operations.models import Operation, OperationState
from linesman.tenancy.models import Role
from tests.conftest import make_actor


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.fixture(autouse=True)
def _fast_static(no_static_finders):
    """The device page is fetched with a test client: skip WhiteNoise's static scan."""


def test_op_is_recorded_for_the_named_user(run, device_a, operator_a, admin_a):
    result = run("op", device_a.serial_number, "reboot", "--user", "operator_a")
    assert result.exit_code == 0, result.output
    op = Operation.objects.get()
    assert op.kind == "reboot" and op.state == OperationState.INITIATED
    assert op.initiated_by == operator_a.user
    assert op.initiated_by_name == "operator_a"
    entry = AuditEntry.objects.get(message__startswith=op.operation_id)
    assert entry.user == operator_a.user and entry.actor == "operator_a"

    # The API's history and the device page say who, as for an operation from the API.
    history = admin_a.client.get(f"/api/v1/inventory_device/{device_a.pk}/operations/")
    assert history.status_code == 200
    assert [(o["operation_id"], o["initiated_by"]) for o in history.json()["results"]] == [
        (op.operation_id, "operator_a")
    ]
    browser = Client()
    browser.force_login(admin_a.user)
    page = browser.get(f"/ui/devices/{device_a.pk}/state/")
    assert page.status_code == 200
    assert 'class="by">operator_a<' in page.content.decode()


def test_op_json_shows_the_user(run, device_a, operator_a):
    result = run("op", str(device_a.pk), "sync", "--user", "operator_a", "--json")
    assert result.exit_code == 0, result.output
    assert result.json()["initiated_by"] == "operator_a"


def test_a_superuser_may_be_named(run, device_a, superuser):
    result = run("op", str(device_a.pk), "reconf", "--user", "root")
    assert result.exit_code == 0, result.output
    assert Operation.objects.get().initiated_by == superuser.user


def test_firmware_is_recorded_for_the_user(run, device_a, firmware_image, operator_a):
    result = run(
        "op", device_a.serial_number, "firmware", "--image", "2.5.0", "--user", "operator_a"
    )
    assert result.exit_code == 0, result.output
    op = Operation.objects.get()
    assert op.kind == "firmware" and op.initiated_by == operator_a.user
    assert op.initiated_by_name == "operator_a"


def _nothing_created(device: Device) -> None:
    assert not Operation.objects.exists()
    assert not AuditEntry.objects.filter(action="operation").exists()
    device.refresh_from_db()
    assert device.firmware_image is None and not device.firmware_image_is_pending


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("ghost", "Error: no user 'ghost'"),
        (
            "viewer_a",
            "Error: user 'viewer_a' may not run operations on this device "
            "(needs the operator role in its organization)",
        ),
        (
            "admin_b",
            "Error: user 'admin_b' may not run operations on this device "
            "(needs the operator role in its organization)",
        ),
        ("retired", "Error: user 'retired' is deactivated"),
    ],
)
def test_a_user_who_cannot_stand_behind_it_is_refused(
    run, device_a, firmware_image, viewer_a, admin_b, org_a, user, message
):
    retired = make_actor("retired", org_a, Role.OPERATOR).user
    retired.is_active = False
    retired.save()
    for args in (["reboot"], ["firmware", "--image", "2.5.0"]):
        result = run("op", device_a.serial_number, *args, "--user", user)
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == message
        assert result.stdout == ""
        _nothing_created(device_a)


def test_an_unknown_user_is_named_before_an_unknown_device(run, db):
    result = run("op", "NOPE", "reboot", "--user", "ghost")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no user 'ghost'"


def test_an_empty_user_is_a_usage_error(run, device_a):
    result = run("op", str(device_a.pk), "reboot", "--user", " ")
    assert result.exit_code == 2
    assert "Invalid value for '--user': must name a user" in error_line(result)
    assert not Operation.objects.exists()


def test_user_with_a_remote_is_a_usage_error(run, device_a, operator_a):
    result = run(
        "op", str(device_a.pk), "reboot", "--user", "operator_a",
        "--url", "http://127.0.0.1:9", "--token", "lsm_x",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--user is for the local database; remotely the token acts" in error_line(result)
    assert not Operation.objects.exists()


def test_cancel_is_recorded_for_the_user(run, device_a, operator_a, viewer_a):
    started = run("op", str(device_a.pk), "reboot", "--json").json()
    refused = run("op", "cancel", started["operation_id"], "--user", "viewer_a")
    assert refused.exit_code == 1 and "may not run operations" in error_line(refused)
    assert Operation.objects.get().state == OperationState.INITIATED

    result = run("op", "cancel", started["operation_id"], "--user", "operator_a")
    assert result.exit_code == 0, result.output
    op = Operation.objects.get()
    assert op.state == OperationState.CANCELLED
    ended = AuditEntry.objects.get(message__startswith=f"{op.operation_id} cancelled")
    assert ended.user == operator_a.user and ended.actor == "operator_a"
    # The operation itself stays the one who started it.
    assert op.initiated_by is None and op.initiated_by_name.endswith("(local CLI)")

    ghost = run("op", "cancel", started["operation_id"], "--user", "ghost")
    assert ghost.exit_code == 1 and ghost.stderr.strip() == "Error: no user 'ghost'"
