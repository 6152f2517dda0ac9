"""The operation engine where its other tests left behaviour unchecked (found by mutation
testing, issue #16): diagnostics read in several chunks, syncs whose answers come in
several chunks, what one device's operation must leave alone on another device, and the
state an operation is left in between sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.cwmp import queue, soap
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.cwmp.parameters import get_values
from linesman.diagnostics import services as diagnostics
from linesman.inventory.models import Setting
from linesman.operations import engine
from linesman.operations import services as operations
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.operations.cpe import (
    SERIAL,
    default_answer,
    drop_session_at,
    methods,
    reloaded,
    session,
    values_read,
)
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
    reported = {f"Device.X.P{i:03d}": ("v", "xsd:string") for i in range(160)}
    reported["Device.X.P000"] = ("device-first", "xsd:string")
    reported["Device.X.P155"] = ("device-second", "xsd:string")
    setting(device, "Device.X.P000", "ours-first", pending=False)
    setting(device, "Device.X.P155", "ours-second", pending=True)
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
            "variable_name": "Device.X.P155",
            "desired": "ours-second",
            "device": "device-second",
            "source": "setting",
            "resolution": "pending",
        },
    ]
    first = Setting.objects.get(device=device, variable_name="Device.X.P000")
    assert first.value == "device-first" and not first.pending
    second = Setting.objects.get(device=device, variable_name="Device.X.P155")
    assert second.value == "ours-second" and second.pending


def test_a_sync_reads_the_tree_in_gets_of_a_hundred_names(device):
    """A sync reads the whole tree, like the read after first contact, and in the same
    chunks: each answer rewrites the stored values and the operation's output, so fewer,
    larger reads cost the device's session less (under load, a sync took 1.8 s with 50)."""
    names = [f"Device.X.P{i:03d}" for i in range(250)]
    operations.start_operation(device=device, kind="sync")
    reads = values_read(names, writable=True)
    assert [len(r) for r in reads] == [100, 100, 50]
    assert [n for r in reads for n in r] == names


def test_a_sync_is_the_devices_last_change(device):
    """An Inform may stamp a change first; the end of the sync is the last one."""
    before = device.last_change
    sync(device, {WIFI: ("x", "xsd:string")})
    device.refresh_from_db()
    assert device.last_configuration is not None
    assert device.last_change == device.last_configuration
    assert before is None or device.last_change > before


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


# --- what an operation leaves alone on other devices -------------------------------------


def test_an_operation_completes_while_another_device_has_rpcs_queued(device, other_device):
    waiting = operations.start_operation(device=other_device, kind="reboot")
    op = operations.start_operation(
        device=device, kind="get", params={"variables": [{"variable_name": WIFI}]}
    )
    assert methods(session()) == ["GetParameterValues"]
    assert reloaded(op).state == OperationState.COMPLETED
    assert DeviceTask.objects.get(operation=waiting).state == TaskState.QUEUED


def test_a_confirmed_write_leaves_another_devices_pending_setting_of_that_value(
    device, other_device
):
    setting(device, WIFI, "mine", pending=True)
    setting(other_device, WIFI, "mine", pending=True)
    op = operations.start_operation(device=device, kind="reconf")
    session()
    assert reloaded(op).state == OperationState.COMPLETED
    assert not Setting.objects.get(device=device, variable_name=WIFI).pending
    theirs = Setting.objects.get(device=other_device, variable_name=WIFI)
    assert theirs.pending and theirs.applied is None


def test_a_lost_reboot_answer_settles_only_this_devices_reboot(device, other_device):
    """Another device's Reboot is on the wire (sent, unanswered) when this device boots
    with its own reboot's CommandKey."""
    theirs = operations.start_operation(device=other_device, kind="reboot")
    DeviceTask.objects.filter(operation=theirs).update(state=TaskState.SENT, attempts=1)
    op = operations.start_operation(device=device, kind="reboot")
    drop_session_at("Reboot")
    assert session(events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id}) == []
    assert reloaded(op).state == OperationState.COMPLETED
    task = DeviceTask.objects.get(operation=theirs)
    assert (task.state, task.fault_string, task.finished_at) == (TaskState.SENT, "", None)
    assert reloaded(theirs).state == OperationState.INITIATED


def test_expiring_an_operation_ends_that_operation_only(org_a, device_type, device, other_device):
    third_device = make_device(org_a, device_type, "ENG0003")
    ops = [
        operations.start_operation(device=d, kind="reboot")
        for d in (device, other_device, third_device)
    ]
    past = timezone.now() - timedelta(seconds=1)
    Operation.objects.filter(pk__in=[op.pk for op in ops]).update(deadline=past)
    engine.expire(ops[1].pk)
    assert [reloaded(op).state for op in ops] == [
        OperationState.INITIATED,
        OperationState.TIMED_OUT,
        OperationState.INITIATED,
    ]


# --- how operations end ------------------------------------------------------------------


def test_a_completed_operation_has_no_error_and_says_so_in_the_audit_trail(admin_a, device):
    op = operations.start_operation(
        device=device, kind="get", params={"variables": [{"variable_name": WIFI}]}
    )
    session()
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    assert (op.error, op.error_cause) == ("", "")
    body = admin_a.client.get(
        "/api/v1/audit_log/", {"device": device.pk, "object_type": "operations.operation"}
    ).json()
    assert [e["message"] for e in body["results"]] == [f"{op.operation_id} completed"]


def test_the_rpcs_an_operation_still_had_are_withdrawn_with_its_final_state(device):
    variables = [{"variable_name": f"Device.X.P{i:03d}", "value": "1"} for i in range(60)]
    op = operations.start_operation(device=device, kind="set", params={"variables": variables})

    def answer(request):
        if isinstance(request, soap.SetParameterValues):
            return soap.Fault(9007, "Invalid parameter value")
        return None

    session(answer=answer)
    assert reloaded(op).state == OperationState.FAILED
    withdrawn = DeviceTask.objects.get(operation=op, state=TaskState.CANCELLED)
    assert withdrawn.fault_string == "failed" and withdrawn.finished_at is not None


def test_who_cancelled_an_operation_is_in_the_audit_trail(admin_a, device):
    op = operations.start_operation(device=device, kind="reboot")
    assert admin_a.client.post(f"/api/v1/operations/{op.operation_id}/cancel/").status_code == 200
    body = admin_a.client.get(
        "/api/v1/audit_log/", {"device": device.pk, "object_type": "operations.operation"}
    ).json()
    (entry,) = body["results"]
    assert entry["message"].startswith(f"{op.operation_id} cancelled")
    assert entry["actor"] == "admin_a"


# --- several steps -----------------------------------------------------------------------


def test_the_next_step_waits_for_nothing_when_it_starts(device):
    """The boot ends the reboot step and the sync starts; the session breaks before the
    sync's answer: the operation waits for that answer, not for an event."""
    op = operations.start_operation(device=device, kind="reboot", steps=["reboot", "sync"])
    assert methods(session()) == ["Reboot"]
    received = drop_session_at("GetParameterNames", events=("1 BOOT",))
    assert methods(received) == ["GetParameterNames"]
    op = reloaded(op)
    assert op.state == OperationState.IN_PROGRESS
    assert op.params["step_index"] == 1 and op.phase == ""


# --- the tree read after a bootstrap -----------------------------------------------------


def _tree(count: int) -> list[str]:
    return [f"Device.X.P{i:05d}" for i in range(count)]


def test_the_tree_read_after_a_bootstrap_reads_values_a_hundred_at_a_time(device):
    names = _tree(150)

    def answer(request):
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse([soap.ParameterInfo(n, True) for n in names])
        return None

    received = session(events=("0 BOOTSTRAP",), answer=answer)
    reads = [r.names for r in received if isinstance(r, soap.GetParameterValues)]
    assert [len(r) for r in reads] == [100, 50]
    assert [n for r in reads for n in r] == names
    stored = get_values(device.pk)
    assert stored["Device.X.P00000"][0] == "v" and stored["Device.X.P00149"][0] == "v"


def test_the_tree_read_reads_the_values_of_twenty_thousand_parameters_at_most(device):
    names = _tree(20001)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("0 BOOTSTRAP",)).status_code == 200
    request = cpe.parse(cpe.post(None)).body
    while not isinstance(request, soap.GetParameterNames):
        request = cpe.parse(cpe.post(default_answer(request))).body
    reply = soap.GetParameterNamesResponse([soap.ParameterInfo(n, True) for n in names])
    assert isinstance(cpe.parse(cpe.post(reply)).body, soap.GetParameterValues)
    reads = DeviceTask.objects.filter(
        device=device, method="GetParameterValues", state__in=[TaskState.QUEUED, TaskState.SENT]
    )
    asked = [n for task in reads.order_by("id") for n in task.args["names"]]
    assert len(asked) == 20000 and asked[-1] == "Device.X.P19999"


# --- events that prove nothing -----------------------------------------------------------


def test_a_bootstrap_before_the_factory_reset_was_sent_is_not_taken_for_it(device):
    """The device bootstraps on its own (someone reset it by hand) before it was sent the
    reset; it then refuses the reset: nothing of the reset happened here."""
    setting(device, WIFI, "mine", pending=False)
    op = operations.start_operation(device=device, kind="factory")

    def answer(request):
        if isinstance(request, soap.FactoryReset):
            return soap.Fault(9001, "Request denied")
        return None

    received = session(events=("0 BOOTSTRAP", "1 BOOT"), answer=answer)
    assert "FactoryReset" in methods(received)
    op = reloaded(op)
    assert op.state == OperationState.FAILED
    assert op.error == "FactoryReset: fault 9001 Request denied"
    assert Setting.objects.filter(device=device, variable_name=WIFI).exists()


# --- what the device confirmed is stored -------------------------------------------------

INFORM_INTERVAL = "Device.ManagementServer.PeriodicInformInterval"


def test_the_management_values_a_bootstrap_set_are_stored_as_the_devices(device):
    device.update_frequency = 900
    device.save()
    session(events=("0 BOOTSTRAP",))
    assert get_values(device.pk)[INFORM_INTERVAL][0] == "900"


def test_the_management_values_a_reconf_set_are_stored_as_the_devices(device):
    device.update_frequency = 1200
    device.save()
    op = operations.start_operation(device=device, kind="reconf")
    session()
    assert reloaded(op).state == OperationState.COMPLETED
    assert get_values(device.pk)[INFORM_INTERVAL][0] == "1200"


# --- a broken subscriber -----------------------------------------------------------------


def test_a_failing_subscriber_is_logged_with_the_operation(
    device, caplog, django_capture_on_commit_callbacks
):
    def broken(op):
        raise RuntimeError("subscriber bug")

    engine.subscribe_finished(broken)
    try:
        op = operations.start_operation(device=device, kind="reboot")
        with django_capture_on_commit_callbacks(execute=True):
            engine.finish(op, OperationState.CANCELLED)
    finally:
        engine._finished_subscribers.remove(broken)
    (record,) = [r for r in caplog.records if r.name == "linesman.operations.engine"]
    assert record.getMessage() == f"operation {op.operation_id}: a finished-subscriber failed"
    assert record.exc_info[1].args == ("subscriber bug",)


def test_a_second_bootstrap_after_an_answered_factory_reset_settles_nothing(device):
    """The reset was answered; the bootstrap session breaks during its provisioning and
    the device bootstraps again: neither the answered reset nor the unanswered write is
    taken as done without an answer."""
    op = operations.start_operation(device=device, kind="factory")
    assert methods(session()) == ["FactoryReset"]
    received = drop_session_at("SetParameterValues", events=("0 BOOTSTRAP", "1 BOOT"))
    assert methods(received) == ["SetParameterValues"]
    received = session(events=("0 BOOTSTRAP", "1 BOOT"))
    assert "SetParameterValues" in methods(received)
    assert reloaded(op).state == OperationState.COMPLETED
    reset = DeviceTask.objects.get(operation=op, method="FactoryReset")
    assert (reset.state, reset.fault_string) == (TaskState.DONE, "")
    assert not DeviceTask.objects.filter(device=device, fault_string="answer lost").exists()
