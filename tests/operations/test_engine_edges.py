"""The operation engine's edges: time stamps, faults and late answers, time-outs naming what
they waited for, diagnostics that report nothing, parameter attributes, and the subscribers
told when an operation ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.cwmp import soap
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.diagnostics import services as diagnostics
from linesman.operations import attributes, engine
from linesman.operations import services as operations
from linesman.operations.models import Operation, OperationState
from tests.cwmp.acs_client import ScriptedCpe
from tests.operations.cpe import SERIAL, default_answer, methods, reloaded, session

pytestmark = pytest.mark.django_db

PING = "Device.IP.Diagnostics.IPPing."


def setter(device, count: int = 1) -> Operation:
    variables = [{"variable_name": f"Device.X.P{i:03d}", "value": "1"} for i in range(count)]
    return operations.start_operation(device=device, kind="set", params={"variables": variables})


# --- stamps ------------------------------------------------------------------------------


def test_an_operation_is_stamped_when_first_sent_and_first_answered(device):
    op = setter(device, count=60)  # two SetParameterValues in one session
    assert reloaded(op).dispatched_at is None and reloaded(op).started_at is None
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    first = cpe.parse(cpe.post(None)).body
    sent = reloaded(op)
    assert sent.state == OperationState.DISPATCHED and sent.dispatched_at is not None
    assert sent.started_at is None
    second = cpe.parse(cpe.post(default_answer(first))).body
    answered = reloaded(op)
    assert answered.state == OperationState.IN_PROGRESS and answered.started_at is not None
    assert answered.dispatched_at == sent.dispatched_at
    assert cpe.post(default_answer(second)).status_code == 204
    done = reloaded(op)
    assert done.state == OperationState.COMPLETED
    # Stamped once: the second answer changes neither.
    assert (done.dispatched_at, done.started_at) == (sent.dispatched_at, answered.started_at)
    assert done.completed_at >= done.started_at >= done.dispatched_at


# --- faults and late answers -------------------------------------------------------------


def test_a_fault_fails_the_operation_with_the_method_code_and_message(device):
    op = setter(device, count=60)

    def answer(request):
        if isinstance(request, soap.SetParameterValues):
            return soap.Fault(9007, "Invalid parameter value")
        return None

    received = session(answer=answer)
    assert methods(received) == ["SetParameterValues"]  # the second chunk is withdrawn
    op = reloaded(op)
    assert op.state == OperationState.FAILED and op.result == "failure"
    assert op.error == "SetParameterValues: fault 9007 Invalid parameter value"
    assert op.error_cause == "device_faults"
    assert op.output["fault"] == {
        "method": "SetParameterValues",
        "code": 9007,
        "message": "Invalid parameter value",
    }
    states = set(DeviceTask.objects.filter(operation=op).values_list("state", flat=True))
    assert states == {TaskState.FAILED, TaskState.CANCELLED}


def test_a_fault_answered_after_the_operation_was_cancelled_is_noted(device):
    op = setter(device)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert cpe.parse(cpe.post(None)).body.METHOD == "SetParameterValues"
    operations.cancel_operation(reloaded(op))
    assert cpe.post(soap.Fault(9002, "Internal error")).status_code == 204
    op = reloaded(op)
    assert op.state == OperationState.CANCELLED and "fault" not in op.output
    assert op.output["answered_after_end"] == [{"method": "SetParameterValues", "result": "fault"}]


def test_a_finished_operation_is_not_finished_again(device):
    op = setter(device)
    first = engine.finish(op, OperationState.CANCELLED, error="stop")
    again = engine.finish(op, OperationState.FAILED, error="late")
    assert again.state == OperationState.CANCELLED and again.error == "stop"
    assert reloaded(op).completed_at == first.completed_at


def test_an_error_longer_than_two_thousand_characters_is_cut(device):
    op = engine.finish(setter(device), OperationState.FAILED, error="x" * 2500, cause="c")
    assert reloaded(op).error == "x" * 2000


# --- time-outs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "waited"),
    [
        ("", None),
        (engine.AWAIT_BOOT, "its reboot"),
        (engine.AWAIT_BOOTSTRAP, "its bootstrap after the reset"),
        (engine.AWAIT_TRANSFER, "the end of its download"),
        (engine.AWAIT_VERSION, "the new firmware version"),
        (engine.AWAIT_INFORM, "its next inform"),
        (engine.AWAIT_DIAGNOSTIC, "the end of its diagnostic (8 DIAGNOSTICS COMPLETE)"),
        ("awaiting_something_new", "awaiting_something_new"),
    ],
)
def test_a_time_out_after_dispatch_says_what_it_waited_for(device, phase, waited):
    op = setter(device)
    Operation.objects.filter(pk=op.pk).update(
        dispatched_at=timezone.now(), phase=phase, deadline=timezone.now() - timedelta(seconds=1)
    )
    engine.expire(op.pk)
    op = reloaded(op)
    assert op.state == OperationState.TIMED_OUT and op.error_cause == "operation_timeouts"
    if waited is None:
        assert op.error == "The device did not complete the operation in time."
    else:
        assert op.error == (
            f"The device did not complete the operation in time (waiting for {waited})."
        )
    assert op.phase == ""


def test_an_operation_expires_at_its_deadline_exactly(device):
    import time_machine

    op = setter(device)
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        Operation.objects.filter(pk=op.pk).update(deadline=timezone.now())
        engine.expire(op.pk)
    assert reloaded(op).state == OperationState.TIMED_OUT


def test_an_operation_without_a_deadline_never_expires(device):
    op = setter(device)
    Operation.objects.filter(pk=op.pk).update(deadline=None)
    engine.expire(op.pk)
    assert reloaded(op).state == OperationState.INITIATED


def test_an_ended_operation_is_not_expired(device):
    op = setter(device)
    engine.finish(op, OperationState.COMPLETED)
    Operation.objects.filter(pk=op.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    engine.expire(op.pk)
    assert reloaded(op).state == OperationState.COMPLETED


# --- diagnostics -------------------------------------------------------------------------


def _diagnostic_session(device, names: list[str], values: dict[str, str]) -> Operation:
    op = diagnostics.start(device=device, name="ipping", parameters={"host": "10.0.0.1"})
    (request,) = session()
    assert request.METHOD == "SetParameterValues" and request.parameter_key == op.operation_id
    assert {(p.name, p.value) for p in request.parameters} >= {
        (PING + "Host", "10.0.0.1"),
        (PING + "DiagnosticsState", "Requested"),
    }
    assert reloaded(op).phase == engine.AWAIT_DIAGNOSTIC

    def answer(request):
        if isinstance(request, soap.GetParameterNames):
            assert (request.path, request.next_level) == (PING, False)
            return soap.GetParameterNamesResponse([soap.ParameterInfo(n, False) for n in names])
        if isinstance(request, soap.GetParameterValues):
            return soap.GetParameterValuesResponse(
                [soap.ParameterValue(n, values[n]) for n in request.names]
            )
        return None

    received = session(events=("8 DIAGNOSTICS COMPLETE",), answer=answer)
    assert methods(received)[0] == "GetParameterNames"
    return reloaded(op)


def test_a_diagnostic_object_without_parameters_fails_the_diagnostic(device):
    op = _diagnostic_session(device, [PING], {})
    assert op.state == OperationState.FAILED
    assert op.error == f"The device reported no parameters under {PING}."
    assert op.error_cause == "diagnostic_error"


def test_a_diagnostic_without_a_state_fails_saying_so(device):
    op = _diagnostic_session(device, [PING + "Host"], {PING + "Host": "10.0.0.1"})
    assert op.state == OperationState.FAILED
    assert op.error == "The device reported the diagnostic ended with no DiagnosticsState."
    assert op.error_cause == "diagnostic_error"
    assert op.output["diagnostic"] == {"state": "", "values": {"Host": "10.0.0.1"}}


def test_a_complete_diagnostic_keeps_its_values_relative_to_its_object(device):
    names = [PING + "DiagnosticsState", PING + "SuccessCount"]
    op = _diagnostic_session(
        device, names, {PING + "DiagnosticsState": "Complete", PING + "SuccessCount": "4"}
    )
    assert op.state == OperationState.COMPLETED
    assert op.output["diagnostic"] == {
        "state": "Complete",
        "values": {"DiagnosticsState": "Complete", "SuccessCount": "4"},
    }


def test_a_diagnostic_waits_for_its_event_not_any_inform(device):
    op = diagnostics.start(device=device, name="ipping", parameters={"host": "10.0.0.1"})
    session()
    assert session(events=("2 PERIODIC",)) == []
    assert reloaded(op).phase == engine.AWAIT_DIAGNOSTIC


# --- parameter attributes ----------------------------------------------------------------


def test_reading_attributes_records_notification_and_access_list(device):
    names = ["Device.WiFi.SSID.1.SSID", "Device.DeviceInfo.UpTime"]
    op = attributes.read_attributes(device=device, user=None, names=names)

    def answer(request):
        if isinstance(request, soap.GetParameterAttributes):
            assert request.names == names
            return soap.GetParameterAttributesResponse(
                [
                    soap.ParameterAttribute(names[0], 2, ["Subscriber"]),
                    soap.ParameterAttribute(names[1], 0, []),
                ]
            )
        return None

    assert methods(session(answer=answer)) == ["GetParameterAttributes"]
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    assert op.output["attributes"] == {
        names[0]: {"notification": 2, "access_list": ["Subscriber"]},
        names[1]: {"notification": 0, "access_list": []},
    }


def test_setting_attributes_of_many_parameters_goes_in_chunks_of_fifty(device):
    wanted = [
        {"variable_name": f"Device.X.P{i:03d}", "notification": 1, "access_list": []}
        for i in range(51)
    ]
    op = attributes.set_attributes(device=device, user=None, attributes=wanted)
    received = session()
    assert methods(received) == ["SetParameterAttributes", "SetParameterAttributes"]
    assert [len(r.parameters) for r in received] == [50, 1]
    assert received[1].parameters[0].name == "Device.X.P050"
    assert received[0].parameters[0].notification == 1
    assert reloaded(op).state == OperationState.COMPLETED


# --- who is told that an operation ended -------------------------------------------------


@pytest.fixture
def subscribers():
    added = []

    def add(callback):
        engine.subscribe_finished(callback)
        if callback not in added:
            added.append(callback)

    yield add
    for callback in added:
        engine._finished_subscribers.remove(callback)


def test_a_failing_subscriber_does_not_stop_the_others_or_the_operation(
    device, subscribers, django_capture_on_commit_callbacks
):
    told: list[tuple[str, str]] = []

    def broken(op):
        raise RuntimeError("subscriber bug")

    def listener(op):
        told.append((op.operation_id, op.state))

    subscribers(broken)
    subscribers(listener)
    subscribers(listener)  # subscribing twice is telling once
    op = setter(device)
    with django_capture_on_commit_callbacks(execute=True):
        engine.finish(op, OperationState.COMPLETED)
    assert told == [(op.operation_id, OperationState.COMPLETED)]
    assert reloaded(op).state == OperationState.COMPLETED


@pytest.fixture
def heard():
    """The events announced (webhooks, the device log and bulk jobs listen to them)."""
    from linesman.core import events

    received: list = []
    events.subscribe(received.append)
    yield received
    events.unsubscribe(received.append)


@pytest.mark.parametrize("in_a_job", [False, True], ids=["alone", "in-a-bulk-job"])
def test_the_end_of_an_operation_is_announced_with_what_webhooks_need(
    device, heard, django_capture_on_commit_callbacks, in_a_job
):
    from linesman.operations.bulk.models import BulkJob

    job = (
        BulkJob.objects.create(operation_type="reboot", execute_at=timezone.now())
        if in_a_job
        else None
    )
    op = operations.start_operation(
        device=device, kind="reboot", bulk_job_id=job.pk if job else None
    )
    with django_capture_on_commit_callbacks(execute=True):
        engine.finish(op, OperationState.FAILED, error="it broke", cause="device_faults")
    (event,) = [e for e in heard if e.name == "operation.finished"]
    assert (event.device_id, event.organization_id) == (device.pk, device.organization_id)
    assert event.data == {
        "operation_id": op.operation_id,
        "kind": "reboot",
        "state": "failed",
        "result": "failure",
        "error": "it broke",
        "cause": "device_faults",
        "bulk_job_id": job.pk if job else None,
    }
    assert not [e for e in heard if e.name == "diagnostic.finished"]


def test_the_end_of_a_diagnostic_is_announced_with_its_results(
    device, heard, django_capture_on_commit_callbacks
):
    names = [PING + "DiagnosticsState", PING + "SuccessCount"]
    with django_capture_on_commit_callbacks(execute=True):
        op = _diagnostic_session(
            device, names, {PING + "DiagnosticsState": "Complete", PING + "SuccessCount": "4"}
        )
    (event,) = [e for e in heard if e.name == "diagnostic.finished"]
    assert (event.device_id, event.organization_id) == (device.pk, device.organization_id)
    assert event.data == {
        "operation_id": op.operation_id,
        "kind": "ipping",
        "state": "completed",
        "results": {"DiagnosticsState": "Complete", "SuccessCount": "4"},
    }


def test_a_diagnostic_that_timed_out_is_announced_without_results(
    device, heard, django_capture_on_commit_callbacks
):
    op = diagnostics.start(device=device, name="ipping", parameters={"host": "10.0.0.1"})
    Operation.objects.filter(pk=op.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        engine.expire(op.pk)
    (event,) = [e for e in heard if e.name == "diagnostic.finished"]
    assert event.data["state"] == "timed_out" and event.data["results"] == {}


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        (OperationState.FAILED, "it broke", "{id} failed: it broke"),
        (OperationState.COMPLETED, "", "{id} completed"),
    ],
)
def test_the_end_of_an_operation_is_in_the_audit_trail(admin_a, device, state, error, message):
    op = setter(device)
    engine.finish(op, state, error=error, cause="c" if error else "")
    body = admin_a.client.get(
        "/api/v1/audit_log/", {"device": device.pk, "object_type": "operations.operation"}
    ).json()
    (entry,) = body["results"]
    assert entry["action"] == "operation" and entry["device_id"] == device.pk
    assert entry["object_id"] == op.operation_id
    assert entry["object_repr"] == f"set {op.operation_id}"
    assert entry["organization_id"] == device.organization_id
    assert entry["changes"] == {"state": ["active", state]}
    assert entry["message"] == message.format(id=op.operation_id)
