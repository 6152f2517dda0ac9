"""Attempts across sessions: an RPC whose session breaks counts as an attempt; at the limit
(LINESMAN_RPC_MAX_ATTEMPTS) its operation fails with a reason and nothing more is sent.

Driven by a scripted CPE through the full Django stack; "the session broke" is a session
that went quiet (its row idle past the takeover time) followed by a new Inform.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from linesman.cwmp import soap
from linesman.cwmp.models import CwmpSession, DeviceTask, TaskState
from linesman.operations import services as operations
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe

pytestmark = pytest.mark.django_db

SERIAL = "CPE0001"


@pytest.fixture
def device(org_a, device_type):
    from linesman.core import crypto

    device = make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    cpe = ScriptedCpe("cpe", "pw")  # first contact: bootstrap provisioning, all answered
    cpe.inform(SERIAL, events=("0 BOOTSTRAP", "1 BOOT"))
    answer_all(cpe)
    return device


def answer(request):
    if isinstance(request, soap.SetParameterValues):
        return soap.SetParameterValuesResponse(0)
    if isinstance(request, soap.Reboot):
        return soap.RebootResponse()
    if isinstance(request, soap.FactoryReset):
        return soap.FactoryResetResponse()
    if isinstance(request, soap.GetParameterValues):
        return soap.GetParameterValuesResponse([soap.ParameterValue(n, "v") for n in request.names])
    if isinstance(request, soap.GetParameterNames):  # the tree read after first contact
        return soap.GetParameterNamesResponse(
            [soap.ParameterInfo("Device.DeviceInfo.SoftwareVersion", False)]
        )
    raise AssertionError(f"unexpected {request}")


def answer_all(cpe: ScriptedCpe) -> list[soap.Message]:
    received = []
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        received.append(request)
        response = cpe.post(answer(request))
    assert response.status_code == 204
    return received


def session_until(events, method: str) -> list[soap.Message]:
    """A session that answers everything until `method` arrives, then goes silent (the
    device crashed or dropped the connection); returns what it received."""
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=events).status_code == 200
    received = []
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        received.append(request)
        if method == request.METHOD:
            break
        response = cpe.post(answer(request))
    # Gone quiet: the next Inform, after the takeover time, takes the session over.
    CwmpSession.objects.update(
        last_activity=CwmpSession.objects.get().last_activity - timedelta(minutes=5)
    )
    return received


def methods(messages) -> list[str]:
    return [m.METHOD for m in messages]


def test_an_rpc_the_device_crashes_on_is_sent_three_times_then_the_operation_fails(device, admin_a):
    op = operations.start_operation(
        device=device,
        kind="set",
        user=admin_a.user,
        params={"variables": [{"variable_name": "Device.WiFi.SSID.1.SSID", "value": "x"}]},
    )
    sent = []
    for _ in range(3):
        sent += session_until(("6 CONNECTION REQUEST",), "SetParameterValues")
    op.refresh_from_db()
    assert op.state == OperationState.DISPATCHED  # two attempts are not yet the limit...
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    sent += answer_all(cpe)
    assert methods(sent) == ["SetParameterValues"] * 3  # ...and nothing is sent after it
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert op.error == "the device dropped the session 3 times while executing SetParameterValues"
    assert op.error_cause == "session_dropped"
    assert DeviceTask.objects.get(operation=op).state == TaskState.FAILED
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert answer_all(cpe) == []


def test_the_limit_is_configurable(device, admin_a, settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, rpc_max_attempts=1)
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    assert methods(session_until(("6 CONNECTION REQUEST",), "Reboot")) == ["Reboot"]
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert answer_all(cpe) == []
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert op.error == "the device dropped the session 1 times while executing Reboot"


def test_reboot_dropped_then_a_session_without_boot_is_a_failed_attempt(device, admin_a):
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    session_until(("6 CONNECTION REQUEST",), "Reboot")
    # The device did not reboot: its next session carries no boot, so Reboot is sent again.
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    response = cpe.post(None)
    assert cpe.parse(response).body.METHOD == "Reboot"
    assert DeviceTask.objects.get(operation=op).attempts == 2
    cpe.post(soap.RebootResponse())
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    answer_all(cpe)
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED


def test_reboot_dropped_then_boot_with_the_command_key_completes_without_resending(device, admin_a):
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    session_until(("6 CONNECTION REQUEST",), "Reboot")
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    assert answer_all(cpe) == []
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED


def test_factory_reset_whose_answer_was_lost_is_settled_by_the_bootstrap(device, admin_a):
    op = operations.start_operation(device=device, kind="device_factory", user=admin_a.user)
    session_until(("6 CONNECTION REQUEST",), "FactoryReset")
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("0 BOOTSTRAP", "1 BOOT"))
    received = answer_all(cpe)
    assert "FactoryReset" not in methods(received)  # not sent again
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED
    assert DeviceTask.objects.get(operation=op, method="FactoryReset").attempts == 1


def test_factory_reset_lost_and_no_bootstrap_is_sent_again(device, admin_a):
    op = operations.start_operation(device=device, kind="factory", user=admin_a.user)
    session_until(("6 CONNECTION REQUEST",), "FactoryReset")
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert cpe.parse(cpe.post(None)).body.METHOD == "FactoryReset"
    assert DeviceTask.objects.get(operation=op, method="FactoryReset").attempts == 2


def test_an_rpc_not_answered_within_sessions_fails_at_the_limit(device, admin_a):
    """The device goes on with an empty POST instead of answering, every time."""
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    sent = []
    for _ in range(4):
        cpe = ScriptedCpe("cpe", "pw")
        cpe.inform(SERIAL, events=("2 PERIODIC",))
        response = cpe.post(None)
        while response.status_code == 200:
            sent.append(cpe.parse(response).body)
            response = cpe.post(None)
    assert methods(sent) == ["Reboot"] * 3
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert op.error == "the device did not answer 3 times while executing Reboot"


def test_an_rpc_withdrawn_while_on_the_wire_is_not_queued_again_when_left_unanswered(
    device, admin_a
):
    """The session read its RPC as sent; the operation was cancelled before the device's
    empty POST was handled: the withdrawn RPC stays withdrawn."""
    from linesman.cwmp import session

    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert cpe.parse(cpe.post(None)).body.METHOD == "Reboot"
    as_read = DeviceTask.objects.get(operation=op)
    operations.cancel_operation(Operation.objects.get(pk=op.pk))
    session._unanswered(as_read)
    assert DeviceTask.objects.get(pk=as_read.pk).state == TaskState.CANCELLED
    assert cpe.post(None).status_code == 204
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert cpe.post(None).status_code == 204  # nothing sent again


def test_an_answer_to_an_rpc_of_a_cancelled_operation_is_noted_not_applied(device, admin_a):
    op = operations.start_operation(
        device=device,
        kind="set",
        user=admin_a.user,
        params={"variables": [{"variable_name": "Device.WiFi.SSID.1.SSID", "value": "x"}]},
    )
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert cpe.parse(cpe.post(None)).body.METHOD == "SetParameterValues"
    operations.cancel_operation(Operation.objects.get(pk=op.pk))  # while it is on the wire
    assert cpe.post(soap.SetParameterValuesResponse(0)).status_code == 204
    op.refresh_from_db()
    assert op.state == OperationState.CANCELLED and op.result == "cancelled"
    assert op.output["answered_after_end"] == [
        {"method": "SetParameterValues", "result": "answered"}
    ]
