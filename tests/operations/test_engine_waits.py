"""Operations that wait for the device: a reboot for its boot, several steps one after the
other, `reconf` for its answers, a firmware upgrade for the version it reports."""

from __future__ import annotations

import pytest

from linesman.cwmp import soap
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.cwmp.parameters import get_values
from linesman.inventory.models import Setting
from linesman.operations import services as operations
from linesman.operations.models import OperationState
from tests.conftest import make_device
from tests.operations.cpe import SERIAL, drop_session_at, methods, reloaded, session

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org_a, device_type):
    from linesman.core import crypto

    device = make_device(
        org_a,
        device_type,
        SERIAL,
        username="cpe",
        password_encrypted=crypto.encrypt("pw"),
        update_frequency=600,
    )
    session(events=("0 BOOTSTRAP", "1 BOOT"))
    device.refresh_from_db()
    return device


# --- reboot ------------------------------------------------------------------------------


def test_a_reboot_carries_the_operation_id_as_command_key(device):
    op = operations.start_operation(device=device, kind="reboot")
    received = session()
    assert methods(received) == ["Reboot"]
    assert received[0].command_key == op.operation_id
    assert reloaded(op).phase == "awaiting_boot"


def test_a_reboot_completes_on_a_boot_without_its_command_key(device):
    op = operations.start_operation(device=device, kind="reboot")
    session()
    session(events=("1 BOOT",))
    assert reloaded(op).state == OperationState.COMPLETED


def test_a_reboot_waits_through_sessions_that_are_not_its_boot(device):
    op = operations.start_operation(device=device, kind="reboot")
    session()
    session(events=("2 PERIODIC",))
    session(events=("M Reboot",), keys={"M Reboot": "someone-else"})
    op = reloaded(op)
    assert op.state == OperationState.IN_PROGRESS and op.phase == "awaiting_boot"
    session(events=("M Reboot",), keys={"M Reboot": op.operation_id})
    assert reloaded(op).state == OperationState.COMPLETED


def test_a_lost_reboot_answer_is_not_settled_by_another_operations_key(device):
    op = operations.start_operation(device=device, kind="reboot")
    drop_session_at("Reboot")
    received = session(events=("M Reboot",), keys={"M Reboot": "op_someone_else"})
    assert methods(received) == ["Reboot"]  # not proven done: sent again
    assert reloaded(op).phase == "awaiting_boot"


def test_a_reboot_whose_answer_was_lost_is_settled_by_its_boot_as_answer_lost(device):
    op = operations.start_operation(device=device, kind="reboot")
    drop_session_at("Reboot")
    received = session(events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    assert received == []
    assert reloaded(op).state == OperationState.COMPLETED
    task = DeviceTask.objects.get(operation=op)
    assert task.state == TaskState.DONE and task.fault_string == "answer lost"
    assert task.finished_at is not None


# --- several steps -----------------------------------------------------------------------


def test_steps_run_one_after_the_other_in_the_same_session(device):
    op = operations.start_operation(device=device, kind="sync", steps=["reconf", "reboot"])
    received = session()
    # reconf's SetParameterValues first, then (its answers in) the reboot in the same session.
    assert methods(received)[-1] == "Reboot"
    assert set(methods(received)[:-1]) == {"SetParameterValues"}
    op = reloaded(op)
    assert op.params["step_index"] == 1 and op.phase == "awaiting_boot"
    assert op.state == OperationState.IN_PROGRESS
    session(events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED and op.phase == ""


def test_a_reboot_then_a_sync_syncs_after_the_boot(device):
    op = operations.start_operation(device=device, kind="reboot", steps=["reboot", "sync"])
    assert methods(session()) == ["Reboot"]
    received = session(events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    assert methods(received) == ["GetParameterNames", "GetParameterValues"]
    assert received[0].path == "Device." and received[0].next_level is False
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    device.refresh_from_db()
    assert device.last_configuration is not None


# --- reconf ------------------------------------------------------------------------------


def test_reconf_asserts_management_settings_then_the_desired_configuration(device):
    device.type.settings_template = {"Device.WiFi.Radio.1.Channel": "6"}
    device.type.save()
    Setting.objects.create(
        device=device, variable_name="Device.WiFi.SSID.1.SSID", value="mine", pending=True
    )
    op = operations.start_operation(device=device, kind="reconf")
    received = session()
    assert methods(received) == ["SetParameterValues", "SetParameterValues"]
    assert all(r.parameter_key == op.operation_id for r in received)
    management = {p.name: p.value for p in received[0].parameters}
    assert management["Device.ManagementServer.PeriodicInformInterval"] == "600"
    assert management["Device.ManagementServer.PeriodicInformEnable"] == "true"
    desired = {p.name: p.value for p in received[1].parameters}
    assert desired == {"Device.WiFi.Radio.1.Channel": "6", "Device.WiFi.SSID.1.SSID": "mine"}
    assert reloaded(op).state == OperationState.COMPLETED
    # The device confirmed it: the setting is applied, and its value is stored.
    row = Setting.objects.get(device=device)
    assert not row.pending and row.applied is not None
    stored = get_values(device.pk)
    assert stored["Device.WiFi.SSID.1.SSID"][0] == "mine"
    # The connection request password is never stored (only a reference was sent).
    assert "Device.ManagementServer.ConnectionRequestPassword" not in stored


def test_a_setting_changed_while_its_write_was_on_the_wire_stays_pending(device):
    Setting.objects.create(
        device=device, variable_name="Device.WiFi.SSID.1.SSID", value="first", pending=True
    )
    op = operations.start_operation(device=device, kind="reconf")

    def answer(request):
        if isinstance(request, soap.SetParameterValues):
            # An operator changes the setting before the device's answer arrives.
            Setting.objects.filter(device=device).update(value="second")
        return None

    session(answer=answer)
    assert reloaded(op).state == OperationState.COMPLETED
    row = Setting.objects.get(device=device)
    assert row.pending and row.value == "second"
