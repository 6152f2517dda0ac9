"""What a device sees at the edges of an ACS session, asserted exactly.

The device's own requests inside a session that had nothing to do (stateless cookie) and
inside a database session; an RPC the device moves past without answering, or answers
with the wrong response, until the attempt limit fails it; the 503 of a device that is
already in a session; the InformResponse's fields; a cookie-less request whose header
proves a device but that has no session; what the debug log and the inventory keep.
Written from issue #16's mutation run over `linesman.cwmp.session`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.core import crypto, events
from linesman.cwmp import queue, soap
from linesman.cwmp.models import CwmpSession, DeviceParameters, DeviceTask, TaskState
from linesman.inventory.models import Device
from linesman.operations import services as operations
from linesman.operations.models import OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe, digest_header, inform_message
from tests.cwmp.test_acs_session import finish_session

pytestmark = pytest.mark.django_db

SERIAL = "CPE0001"
ACS_METHODS = ["Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete"]


@pytest.fixture
def device(org_a, device_type):
    return make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def _provisioned(serial: str = SERIAL, username: str = "cpe", password: str = "pw") -> None:
    cpe = ScriptedCpe(username, password)
    assert cpe.inform(serial, events=("0 BOOTSTRAP", "1 BOOT")).status_code == 200
    finish_session(cpe)


def _reboot(device, admin_a):
    return operations.start_operation(
        device=device, kind="reboot", user=admin_a.user, connection_request=False
    )


def _idle_cpe(ns: str = soap.NS_CWMP["1.0"]) -> ScriptedCpe:
    """A provisioned device's periodic session that had nothing to do (stateless cookie)."""
    cpe = ScriptedCpe("cpe", "pw", ns=ns)
    response = cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert response.status_code == 200
    assert response.cookies["lsm_session"].value.startswith("d.")
    return cpe


# --- the device's own requests -------------------------------------------------------------


def _ask(cpe: ScriptedCpe, message: soap.Message) -> soap.Envelope:
    response = cpe.post(message)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    envelope = cpe.parse(response)
    assert envelope.cwmp_id == f"cpe-{cpe.counter}"  # the device's own ID, echoed
    assert envelope.cwmp_ns == cpe.ns
    return envelope


def _own_requests_answered(cpe: ScriptedCpe) -> None:
    methods = _ask(cpe, soap.GetRPCMethods()).body
    assert isinstance(methods, soap.GetRPCMethodsResponse)
    assert methods.methods == ACS_METHODS
    done = _ask(
        cpe,
        soap.AutonomousTransferComplete(
            "", "http://127.0.0.1:9/fw.bin", True, "1 Firmware Upgrade Image", 1024, ""
        ),
    )
    assert isinstance(done.body, soap.AutonomousTransferCompleteResponse)
    transfer = _ask(cpe, soap.TransferComplete("no-such-key"))
    assert isinstance(transfer.body, soap.TransferCompleteResponse)


@pytest.mark.parametrize("version", ["1.0", "1.2", "1.3"])
def test_a_session_with_nothing_to_do_answers_the_devices_own_requests(device, version):
    _provisioned()
    cpe = _idle_cpe(ns=soap.NS_CWMP[version])
    _own_requests_answered(cpe)
    assert cpe.post(None).status_code == 204
    assert not CwmpSession.objects.exists()  # still nothing written for the session


def test_a_database_session_answers_the_devices_own_requests(device, admin_a):
    _provisioned()
    _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw", ns=soap.NS_CWMP["1.1"])
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    assert CwmpSession.objects.filter(device=device).exists()
    _own_requests_answered(cpe)
    assert [r.METHOD for r in finish_session(cpe)] == ["Reboot"]


def test_a_deleted_devices_idle_cookie_gets_an_empty_answer(device):
    _provisioned()
    cpe = _idle_cpe()
    Device.objects.filter(pk=device.pk).delete()
    response = cpe.post(soap.GetRPCMethods())
    assert response.status_code == 204
    assert response.content == b""


# --- RPCs that are not answered --------------------------------------------------------------


def test_an_rpc_the_device_moves_past_is_resent_until_the_limit_fails_it(
    device, admin_a, org_a, device_type
):
    limit = settings.CONFIG.rpc_max_attempts
    _provisioned()
    # Another device is mid-session with an RPC on the wire: it must not be touched.
    other = make_device(
        org_a, device_type, "CPE0002", username="cpe2", password_encrypted=crypto.encrypt("p2")
    )
    _provisioned("CPE0002", "cpe2", "p2")
    _reboot(other, admin_a)
    other_cpe = ScriptedCpe("cpe2", "p2")
    other_cpe.inform("CPE0002", events=("6 CONNECTION REQUEST",))
    assert isinstance(other_cpe.parse(other_cpe.post(None)).body, soap.Reboot)

    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    received = []
    response = cpe.post(None)
    while response.status_code == 200:
        received.append(cpe.parse(response).body.METHOD)
        task = DeviceTask.objects.get(operation=op)
        assert (task.state, task.attempts) == (TaskState.SENT, len(received))
        assert task.sent_at is not None
        # Sent again: the task says why (until it is answered or given up).
        assert task.fault_string == ("" if len(received) == 1 else queue.NOT_ANSWERED)
        assert task.session_key == CwmpSession.objects.get(device=device).key
        response = cpe.post(None)  # goes on without answering
    assert response.status_code == 204
    assert received == ["Reboot"] * limit
    task = DeviceTask.objects.get(operation=op)
    assert task.state == TaskState.FAILED
    assert task.fault_string == f"the device did not answer {limit} times while executing Reboot"
    assert task.finished_at is not None
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert op.error == task.fault_string

    other_task = DeviceTask.objects.get(device=other, method="Reboot")
    assert (other_task.state, other_task.attempts) == (TaskState.SENT, 1)


def test_the_wrong_answer_to_an_rpc_gets_it_sent_again(device, admin_a, caplog):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    with caplog.at_level(logging.WARNING, logger="linesman.cwmp.session"):
        again = cpe.post(soap.FactoryResetResponse())
    assert isinstance(cpe.parse(again).body, soap.Reboot)
    assert f"device {device.pk} answered FactoryResetResponse to Reboot" in caplog.messages
    task = DeviceTask.objects.get(operation=op)
    assert (task.state, task.attempts) == (TaskState.SENT, 2)
    assert cpe.post(soap.RebootResponse()).status_code == 204
    task.refresh_from_db()
    assert task.state == TaskState.DONE


# --- who may start, and how the Inform is answered -------------------------------------------


def test_a_device_already_in_a_session_is_told_to_retry_in_ten_seconds(device):
    assert ScriptedCpe("cpe", "pw").inform(SERIAL).status_code == 200
    second = ScriptedCpe("cpe", "pw").inform(SERIAL)
    assert second.status_code == 503
    assert second["Retry-After"] == "10"
    assert second.content == b"another session of this device is open"


def test_an_unknown_serial_is_logged_with_its_serial(db, caplog):
    """Its first Inform only takes the challenge (answered without the database, see
    cwmp/challenge.py); the one carrying its credentials is refused, and logged."""
    with caplog.at_level(logging.INFO, logger="linesman.cwmp.session"):
        assert ScriptedCpe("nope", "pw").inform("NOPE0001").status_code == 401
    assert "refused Inform from unknown serial 'NOPE0001'" in caplog.messages


@pytest.mark.parametrize("busy", [False, True])
def test_the_inform_response_allows_one_envelope_and_echoes_the_id(device, admin_a, busy):
    _provisioned()
    if busy:
        _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    response = cpe.inform(SERIAL, events=("2 PERIODIC",))
    envelope = cpe.parse(response)
    assert isinstance(envelope.body, soap.InformResponse)
    assert envelope.body.max_envelopes == 1
    assert envelope.cwmp_id == f"cpe-{cpe.counter}"
    assert response.cookies["lsm_session"].value.startswith("d.") is not busy
    assert response.cookies["lsm_session"].value


@pytest.mark.parametrize("busy", [False, True])
def test_an_inform_records_the_devices_address_versions_and_changed_values(device, admin_a, busy):
    _provisioned()
    if busy:
        _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.client.defaults["REMOTE_ADDR"] = "127.0.0.7"
    response = cpe.inform(
        SERIAL,
        events=("4 VALUE CHANGE",),
        software="2.5.0",
        params={"Device.WiFi.SSID.1.SSID": "changed-on-the-box"},
    )
    assert response.status_code == 200
    stored = Device.objects.get(pk=device.pk)
    assert stored.address == "127.0.0.7"
    assert stored.software_version == "2.5.0"
    values = DeviceParameters.objects.get(device=device).values
    assert values["Device.WiFi.SSID.1.SSID"][0] == "changed-on-the-box"


def test_a_known_device_that_bootstraps_again_has_its_tree_read_again(device):
    _provisioned()
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("0 BOOTSTRAP",)).status_code == 200
    methods = [r.METHOD for r in finish_session(cpe)]
    assert "GetParameterNames" in methods


@pytest.mark.parametrize("busy", [False, True])
def test_debug_mode_keeps_the_inform_and_the_answer_of_every_session(device, admin_a, busy):
    _provisioned()
    Device.objects.filter(pk=device.pk).update(debug=True)
    if busy:
        _reboot(device, admin_a)
    AuditEntry.objects.all().delete()
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("2 PERIODIC",)).status_code == 200
    entries = [
        e.message
        for e in AuditEntry.objects.filter(device_id=device.pk, action="soap").order_by("id")
    ]
    assert [e.split("\n", 1)[0] for e in entries] == ["device -> ACS", "ACS -> device"]
    assert "Inform>" in entries[0] and "InformResponse>" in entries[1]


# --- requests without a cookie ---------------------------------------------------------------


def test_a_header_without_a_username_and_without_a_cookie_is_challenged(device):
    response = ScriptedCpe().post(None, HTTP_AUTHORIZATION="Bearer not-a-device")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Digest ")


def test_a_proven_device_without_a_session_ends_quietly(device):
    _provisioned()
    cpe = ScriptedCpe()
    challenge = cpe.post(inform_message(SERIAL))["WWW-Authenticate"]
    nonce = challenge.split('nonce="', 1)[1].split('"', 1)[0]
    header = digest_header("cpe", "pw", nonce)
    assert cpe.post(None, HTTP_AUTHORIZATION=header).status_code == 204
    wrong = digest_header("cpe", "not-pw", nonce, nc=2)
    assert cpe.post(None, HTTP_AUTHORIZATION=wrong).status_code == 401


# --- stored tasks the ACS cannot send --------------------------------------------------------


def _session_with_stored_task(method: str, args) -> DeviceTask:
    """A task row as an older version (or a hand edit) may have left it, and a session."""
    _provisioned()
    task = queue.enqueue(device_id=Device.objects.get(serial_number=SERIAL).pk, method=method)
    DeviceTask.objects.filter(pk=task.pk).update(args=args)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    assert CwmpSession.objects.filter(device_id=task.device_id).exists()  # queued work
    assert finish_session(cpe) == []  # nothing sent, and no 500
    task.refresh_from_db()
    assert (task.state, task.attempts) == (TaskState.FAILED, 0)
    return task


@pytest.mark.parametrize(
    ("method", "args", "why"),
    [
        ("Reboot", ["x"], "'list' object has no attribute 'get'"),
        ("AddObject", ["x"], "list indices must be integers or slices, not str"),
    ],
)
def test_a_stored_task_whose_arguments_are_not_an_object_fails_alone(device, method, args, why):
    task = _session_with_stored_task(method, args)
    assert task.fault_string == f"not sent: cannot build request: {why}"


def test_an_unsendable_parameter_name_is_named_past_other_entries(device):
    parameters = [
        "not-an-entry",
        {"name": "Device.A", "value": 5},
        {"name": "Device.B\x01", "value": "v"},
    ]
    task = _session_with_stored_task("SetParameterValues", {"parameters": parameters})
    assert task.fault_string == (
        "not sent: the name of 'Device.B\\x01' contains the character U+0001 at position 8, "
        "which XML 1.0 (and so a device) cannot carry."
    )


# --- what subscribers hear -------------------------------------------------------------------


@pytest.fixture
def heard():
    """Events the device log, webhooks and metrics would hear, as (name, device, org, data)."""
    got: list[tuple] = []

    def listen(event):
        got.append((event.name, event.device_id, event.organization_id, event.data))

    names = ("session.inform", "device.bootstrapped", "device.booted", "parameter.changed")
    events.subscribe(listen, names)
    yield got
    events.unsubscribe(listen)


@pytest.mark.parametrize("busy", [False, True])
def test_an_inform_is_announced_with_its_events_address_and_changed_values(
    device, admin_a, heard, django_capture_on_commit_callbacks, busy
):
    _provisioned()
    if busy:
        _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.client.defaults["REMOTE_ADDR"] = "127.0.0.9"
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cpe.inform(
            SERIAL,
            events=("0 BOOTSTRAP", "1 BOOT", "4 VALUE CHANGE"),
            params={"Device.WiFi.SSID.1.SSID": "new"},
        )
    where = (device.pk, device.organization_id)
    codes = [["0 BOOTSTRAP", ""], ["1 BOOT", ""], ["4 VALUE CHANGE", ""]]
    by_name = {name: (dev, org, data) for name, dev, org, data in heard}
    assert by_name["session.inform"] == (*where, {"events": codes, "address": "127.0.0.9"})
    assert by_name["device.bootstrapped"] == (*where, {"events": codes})
    assert by_name["device.booted"] == (*where, {"events": codes})
    changed = by_name["parameter.changed"]
    assert changed[:2] == where
    assert changed[2]["values"]["Device.WiFi.SSID.1.SSID"] == "new"
    assert changed[2]["values"]["Device.DeviceInfo.SoftwareVersion"] == "1.0.0"


def test_a_periodic_inform_is_announced_as_nothing_more(
    device, heard, django_capture_on_commit_callbacks
):
    _provisioned()
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ScriptedCpe("cpe", "pw").inform(SERIAL, events=("2 PERIODIC",))
    data = {"events": [["2 PERIODIC", ""]], "address": "127.0.0.1"}
    assert heard == [("session.inform", device.pk, device.organization_id, data)]


def test_work_queued_after_an_idle_inform_goes_out_in_the_devices_namespace(device, admin_a):
    _provisioned()
    cpe = _idle_cpe(ns=soap.NS_CWMP["1.2"])
    _reboot(device, admin_a)
    response = cpe.post(None)
    envelope = cpe.parse(response)
    assert isinstance(envelope.body, soap.Reboot)
    assert envelope.cwmp_ns == soap.NS_CWMP["1.2"]
    # The session now has a row, and the device is handed its key.
    assert response.cookies["lsm_session"].value == CwmpSession.objects.get(device=device).key


def test_the_end_of_a_session_with_work_is_announced(
    device, admin_a, django_capture_on_commit_callbacks
):
    _provisioned()
    _reboot(device, admin_a)
    got = []
    events.subscribe(got.append, ("session.ended",))
    try:
        cpe = ScriptedCpe("cpe", "pw")
        cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
        with django_capture_on_commit_callbacks(execute=True):
            assert [r.METHOD for r in finish_session(cpe)] == ["Reboot"]
    finally:
        events.unsubscribe(got.append)
    assert [(e.name, e.device_id, e.data["rpcs"]) for e in got] == [("session.ended", device.pk, 1)]
    assert 0 <= got[0].data["duration"] < 60


def test_an_rpc_whose_sessions_keep_breaking_fails_at_the_limit(device, admin_a):
    limit = settings.CONFIG.rpc_max_attempts
    _provisioned()
    op = _reboot(device, admin_a)
    for _ in range(limit):
        cpe = ScriptedCpe("cpe", "pw")
        assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
        assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
        # The device drops off without answering; later its session is stale.
        CwmpSession.objects.update(last_activity=timezone.now() - timedelta(minutes=5))
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("1 BOOT",)).status_code == 200
    assert finish_session(cpe) == []  # not sent again
    task = DeviceTask.objects.get(operation=op)
    assert (task.state, task.attempts) == (TaskState.FAILED, limit)
    assert task.fault_string == (
        f"the device dropped the session {limit} times while executing Reboot"
    )
    op.refresh_from_db()
    assert (op.state, op.error) == (OperationState.FAILED, task.fault_string)


def test_an_unsendable_value_fails_its_operation_as_no_device_fault(device, admin_a):
    _provisioned()
    op = operations.start_operation(
        device=device,
        kind="set",
        user=admin_a.user,
        params={"variables": [{"variable_name": "Device.X", "value": "a\x01b"}]},
    )
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    assert finish_session(cpe) == []
    task = DeviceTask.objects.get(operation=op)
    assert task.fault_string.startswith("not sent: the value of 'Device.X' contains")
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert op.error == f"SetParameterValues: fault 0 {task.fault_string}"
    assert "fault" not in op.output  # jobs count device faults; this was none


def test_debug_mode_keeps_the_devices_answers_inside_a_session(device, admin_a):
    _provisioned()
    Device.objects.filter(pk=device.pk).update(debug=True)
    _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    AuditEntry.objects.all().delete()
    assert cpe.post(soap.RebootResponse()).status_code == 204
    entries = AuditEntry.objects.filter(device_id=device.pk, action="soap")
    assert [e.message.split("\n", 1)[0] for e in entries] == ["device -> ACS"]
    assert "RebootResponse" in entries[0].message


def test_an_unknown_method_is_answered_with_a_fault_naming_it(device):
    _provisioned()
    cpe = ScriptedCpe("cpe", "pw", ns=soap.NS_CWMP["1.2"])
    cpe.inform(SERIAL, events=("2 PERIODIC",))
    raw = (
        b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap-env:Header><cwmp:ID '
        b'soap-env:mustUnderstand="1">k-7</cwmp:ID></soap-env:Header><soap-env:Body>'
        b"<cwmp:Kicked><Command>x</Command></cwmp:Kicked></soap-env:Body></soap-env:Envelope>"
    )
    envelope = cpe.parse(cpe.post(raw=raw))
    assert (envelope.cwmp_id, envelope.cwmp_ns) == ("k-7", soap.NS_CWMP["1.2"])
    assert isinstance(envelope.body, soap.Fault)
    assert (envelope.body.fault_code, envelope.body.fault_string) == (
        8000,
        "Method not supported: Kicked",
    )


def test_an_answer_outside_any_session_is_told_to_start_with_an_inform(db):
    response = ScriptedCpe().post(soap.RebootResponse())
    assert response.status_code == 400
    assert response.content == b"no CWMP session: start with an Inform"


def test_the_session_row_shows_whether_the_device_or_the_acs_is_asking(device, admin_a):
    _provisioned()
    _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert CwmpSession.objects.get(device=device).stage == "cpe_requests"
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    live = CwmpSession.objects.get(device=device)
    assert (live.stage, live.rpc_count) == ("acs_requests", 1)


@pytest.mark.parametrize(
    ("answer", "result"),
    [(soap.RebootResponse(), "answered"), (soap.Fault(9002, "Internal error"), "fault")],
)
def test_an_answer_after_the_operation_was_cancelled_is_noted_on_it(
    device, admin_a, answer, result
):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    operations.cancel_operation(op, user=admin_a.user)
    assert cpe.post(answer).status_code == 204
    op.refresh_from_db()
    assert op.state == OperationState.CANCELLED
    assert op.output["answered_after_end"] == [{"method": "Reboot", "result": result}]
    assert DeviceTask.objects.get(operation=op).state == TaskState.CANCELLED


def test_an_empty_post_after_the_operation_was_cancelled_notes_nothing(device, admin_a):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    operations.cancel_operation(op, user=admin_a.user)
    assert cpe.post(None).status_code == 204
    op.refresh_from_db()
    assert "answered_after_end" not in op.output


def test_a_value_change_of_an_idle_device_is_announced_with_the_values(
    device, heard, django_capture_on_commit_callbacks
):
    _provisioned()
    heard.clear()
    cpe = ScriptedCpe("cpe", "pw")
    with django_capture_on_commit_callbacks(execute=True):
        response = cpe.inform(
            SERIAL, events=("4 VALUE CHANGE",), params={"Device.WiFi.SSID.1.SSID": "idle-new"}
        )
    assert response.cookies["lsm_session"].value.startswith("d.")  # no session row needed
    changed = [data for name, _, _, data in heard if name == "parameter.changed"]
    assert [c["values"]["Device.WiFi.SSID.1.SSID"] for c in changed] == ["idle-new"]


def test_an_idle_cookie_picks_up_work_for_its_own_device_only(org_a, device_type, admin_a):
    decoy = make_device(org_a, device_type, "DECOY001")  # the first device id in the table
    mine = make_device(
        org_a, device_type, "CPE0002", username="cpe2", password_encrypted=crypto.encrypt("p2")
    )
    assert decoy.pk < mine.pk
    _provisioned("CPE0002", "cpe2", "p2")
    cpe = ScriptedCpe("cpe2", "p2")
    assert cpe.inform("CPE0002", events=("2 PERIODIC",)).cookies["lsm_session"].value[:2] == "d."
    _reboot(mine, admin_a)
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    assert DeviceTask.objects.get(device=mine, method="Reboot").state == TaskState.SENT


def test_a_changed_value_is_stored_with_its_type(device):
    _provisioned()
    message = inform_message(SERIAL, events=("4 VALUE CHANGE",))
    message.parameters.append(soap.ParameterValue("Device.X.Count", "7", "xsd:unsignedInt"))
    cpe = ScriptedCpe("cpe", "pw")
    challenge = cpe.post(message)["WWW-Authenticate"]
    assert cpe.post(message, challenge=challenge).status_code == 200
    values = DeviceParameters.objects.get(device=device).values
    assert values["Device.X.Count"][:2] == ["7", "xsd:unsignedInt"]


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_device_with_half_its_credentials_is_still_challenged(org_a, device_type, field):
    given = (
        {"username": "only-user"}
        if field == "username"
        else {"password_encrypted": crypto.encrypt("only-pw")}
    )
    make_device(org_a, device_type, "HALF0001", **given)
    response = ScriptedCpe().post(inform_message("HALF0001"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Digest ")


@pytest.mark.parametrize("preset_cr_username", [False, True])
def test_a_first_contact_without_bootstrap_is_provisioned_and_read(device, preset_cr_username):
    if preset_cr_username:  # registered with its connection request account already set
        Device.objects.filter(pk=device.pk).update(connection_request_username="cr")
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("1 BOOT",)).status_code == 200  # never seen before
    methods = [r.METHOD for r in finish_session(cpe)]
    assert methods[0] == "SetParameterValues"
    assert methods[-2:] == ["GetParameterNames", "GetParameterValues"]


def test_an_inform_takes_over_a_session_row_a_dead_server_left(device):
    _provisioned()
    CwmpSession.objects.create(
        key="left-by-a-dead-server",
        device=device,
        cwmp_ns=soap.NS_CWMP["1.0"],
        last_activity=timezone.now() - timedelta(minutes=5),
    )
    cpe = ScriptedCpe("cpe", "pw")
    response = cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert response.cookies["lsm_session"].value != "left-by-a-dead-server"
    assert finish_session(cpe) == []
    assert not CwmpSession.objects.exists()


def test_a_factory_reset_owns_the_reprovisioning_after_its_bootstrap(device, admin_a):
    _provisioned()
    op = operations.start_operation(
        device=device, kind="device_factory", user=admin_a.user, connection_request=False
    )
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert [r.METHOD for r in finish_session(cpe)] == ["FactoryReset"]
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("0 BOOTSTRAP", "1 BOOT")).status_code == 200
    owned = DeviceTask.objects.filter(operation=op, method="SetParameterValues")
    assert owned.exists() and all(t.state == TaskState.QUEUED for t in owned)
    op.refresh_from_db()
    assert op.state != OperationState.COMPLETED  # not before the device is provisioned again
    finish_session(cpe)
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED


def test_a_bootstrap_is_linked_to_this_devices_factory_reset_only(
    device, admin_a, org_a, device_type
):
    other = make_device(
        org_a, device_type, "CPE0002", username="cpe2", password_encrypted=crypto.encrypt("p2")
    )
    resets = {}
    for serial, who, pw in (("CPE0001", device, "pw"), ("CPE0002", other, "p2")):
        user = "cpe2" if serial == "CPE0002" else "cpe"
        _provisioned(serial, user, pw)
        resets[serial] = operations.start_operation(
            device=who, kind="device_factory", user=admin_a.user, connection_request=False
        )
        cpe = ScriptedCpe(user, pw)
        cpe.inform(serial, events=("6 CONNECTION REQUEST",))
        assert [r.METHOD for r in finish_session(cpe)] == ["FactoryReset"]
    assert resets["CPE0001"].pk < resets["CPE0002"].pk  # the other one is newer
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("0 BOOTSTRAP", "1 BOOT")).status_code == 200
    owned = DeviceTask.objects.filter(method="SetParameterValues", state=TaskState.QUEUED)
    assert {t.operation_id for t in owned} == {resets["CPE0001"].pk}
