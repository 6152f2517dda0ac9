"""The operation engine where its other tests left behaviour unchecked (found by mutation
testing, issue #16): diagnostics read in several chunks, syncs whose answers come in
several chunks, what one device's operation must leave alone on another device, and the
state an operation is left in between sessions."""

from __future__ import annotations

import pytest

from linesman.cwmp import queue, soap
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.diagnostics import services as diagnostics
from linesman.inventory.models import Setting
from linesman.operations import engine
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device
from tests.operations.cpe import drop_session_at, methods, reloaded, session
from tests.operations.test_engine_sync import CHANNEL, MODE, WIFI, setting, sync

pytestmark = pytest.mark.django_db

PING = "Device.IP.Diagnostics.IPPing."


@pytest.fixture
def other_device(org_a, device_type):
    """A second device of the same organization, never in the sessions of these tests."""
    return make_device(org_a, device_type, "ENG0002")


# --- diagnostics -------------------------------------------------------------------------


def _ping(device) -> Operation:
    op = diagnostics.start(device=device, name="ipping", parameters={"host": "10.0.0.1"})
    assert methods(session()) == ["SetParameterValues"]
    return op


def _diagnostic_answers(names: list[str], values: dict[str, str]):
    def answer(request):
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse([soap.ParameterInfo(n, False) for n in names])
        if isinstance(request, soap.GetParameterValues):
            return soap.GetParameterValuesResponse(
                [soap.ParameterValue(n, values[n]) for n in request.names]
            )
        return None

    return answer


def test_a_diagnostic_with_many_results_is_read_in_chunks_and_keeps_them_all(device):
    """The device's DiagnosticsState comes in the last chunk: the operation neither ends
    before it is read nor forgets the earlier chunks' values."""
    extra = [f"{PING}X_Result{i:03d}" for i in range(60)]
    names = [PING, *extra, PING + "DiagnosticsState"]
    values = {n: "7" for n in extra} | {PING + "DiagnosticsState": "Complete"}
    op = _ping(device)
    received = session(
        events=("8 DIAGNOSTICS COMPLETE",), answer=_diagnostic_answers(names, values)
    )
    assert methods(received) == ["GetParameterNames", "GetParameterValues", "GetParameterValues"]
    assert [len(r.names) for r in received[1:]] == [50, 11]
    assert received[1].names[0] == PING + "X_Result000"
    assert received[2].names[-1] == PING + "DiagnosticsState"
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    assert op.output["diagnostic"]["state"] == "Complete"
    stored = op.output["diagnostic"]["values"]
    assert len(stored) == 61
    assert stored["X_Result000"] == "7" and stored["X_Result059"] == "7"


def test_a_diagnostic_the_device_reports_as_failed_fails_with_the_devices_reason(device):
    names = [PING + "DiagnosticsState"]
    values = {PING + "DiagnosticsState": "Error_CannotResolveHostName"}
    op = _ping(device)
    session(events=("8 DIAGNOSTICS COMPLETE",), answer=_diagnostic_answers(names, values))
    op = reloaded(op)
    assert op.state == OperationState.FAILED and op.error_cause == "diagnostic_error"
    assert op.error == (
        "The device reported the diagnostic ended with Error_CannotResolveHostName."
    )


def test_a_failed_diagnostic_fails_while_another_devices_results_are_being_read(
    device, other_device
):
    """Another device's queued result reads are not this diagnostic's."""
    other = diagnostics.start(device=other_device, name="ipping", parameters={"host": "10.0.0.2"})
    queue.enqueue(
        other_device.pk,
        "GetParameterValues",
        {"names": [PING + "DiagnosticsState"]},
        handler="diag_read",
        operation_id=other.pk,
    )
    names = [PING + "DiagnosticsState"]
    values = {PING + "DiagnosticsState": "Error_Internal"}
    op = _ping(device)
    session(events=("8 DIAGNOSTICS COMPLETE",), answer=_diagnostic_answers(names, values))
    op = reloaded(op)
    assert op.state == OperationState.FAILED
    assert op.error == "The device reported the diagnostic ended with Error_Internal."
    assert reloaded(other).state == OperationState.INITIATED


def test_a_diagnostic_no_longer_waits_for_its_event_once_the_device_sent_it(device):
    """The session breaks right after `8 DIAGNOSTICS COMPLETE`: the operation waits for
    the results it asked for, not for the event (a time-out must not say so)."""
    op = _ping(device)
    assert reloaded(op).phase == engine.AWAIT_DIAGNOSTIC
    received = drop_session_at("GetParameterNames", events=("8 DIAGNOSTICS COMPLETE",))
    assert methods(received) == ["GetParameterNames"]
    op = reloaded(op)
    assert op.state == OperationState.IN_PROGRESS and op.phase == ""
    task = DeviceTask.objects.get(operation=op, method="GetParameterNames")
    assert task.state == TaskState.SENT


# --- sync --------------------------------------------------------------------------------


def test_a_sync_read_in_several_chunks_lists_the_differences_of_every_chunk(device):
    reported = {f"Device.X.P{i:03d}": ("v", "xsd:string") for i in range(60)}
    reported["Device.X.P000"] = ("device-first", "xsd:string")
    reported["Device.X.P055"] = ("device-second", "xsd:string")
    setting(device, "Device.X.P000", "ours-first", pending=False)
    setting(device, "Device.X.P055", "ours-second", pending=True)
    op = sync(device, reported)
    assert op.output["differences"] == [
        {
            "variable_name": "Device.X.P000",
            "desired": "ours-first",
            "device": "device-first",
            "source": "setting",
            "resolution": "adopted",
        },
        {
            "variable_name": "Device.X.P055",
            "desired": "ours-second",
            "device": "device-second",
            "source": "setting",
            "resolution": "pending",
        },
    ]
    first = Setting.objects.get(device=device, variable_name="Device.X.P000")
    assert first.value == "device-first" and not first.pending
    second = Setting.objects.get(device=device, variable_name="Device.X.P055")
    assert second.value == "ours-second" and second.pending


def test_a_sync_leaves_another_devices_setting_of_the_same_name_alone(device, other_device):
    setting(other_device, WIFI, "office", pending=False)
    op = sync(device, {WIFI: ("lobby", "xsd:string")})
    assert op.output["differences"] == []
    row = Setting.objects.get(device=other_device, variable_name=WIFI)
    assert (row.value, row.pending, row.applied) == ("office", False, None)


def test_a_sync_goes_on_past_a_setting_the_device_already_has(device):
    setting(device, WIFI, "same", pending=False)
    setting(device, CHANNEL, "6", pending=False)
    op = sync(device, {WIFI: ("same", "xsd:string"), CHANNEL: ("11", "xsd:string")})
    assert [d["variable_name"] for d in op.output["differences"]] == [CHANNEL]
    assert Setting.objects.get(device=device, variable_name=CHANNEL).value == "11"


def test_a_sync_goes_on_past_a_template_value_it_does_not_compare(device):
    device.type.settings_template = {
        WIFI: "template-ssid",  # the device's own setting: not the template's difference
        "Device.Not.Reported": "x",  # not reported
        MODE: "ac",  # differs
    }
    device.type.save()
    setting(device, WIFI, "mine", pending=False)
    op = sync(device, {WIFI: ("mine", "xsd:string"), MODE: ("n", "xsd:string")})
    assert op.output["differences"] == [
        {
            "variable_name": MODE,
            "desired": "ac",
            "device": "n",
            "source": "template",
            "resolution": "reconf",
        }
    ]
