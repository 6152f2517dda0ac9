"""The ACS endpoint driven by a scripted CPE through the full Django stack."""

from __future__ import annotations

import gzip

import pytest

from linesman.cwmp import soap
from linesman.cwmp.models import CwmpSession, DeviceTask, TaskState
from linesman.inventory.models import Device, DeviceStatus
from linesman.operations import services as operations
from linesman.operations.models import OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe, inform_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org_a, device_type):
    from linesman.core import crypto

    return make_device(
        org_a, device_type, "CPE0001", username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def finish_session(cpe: ScriptedCpe, answer=None):
    """Send the empty POST and answer every RPC with `answer(request)`; return the RPCs."""
    received = []
    response = cpe.post(None)
    while response.status_code == 200:
        envelope = cpe.parse(response)
        received.append(envelope.body)
        reply = answer(envelope.body) if answer else default_answer(envelope.body)
        response = cpe.post(reply)
    assert response.status_code == 204
    return received


def default_answer(request):
    if isinstance(request, soap.SetParameterValues):
        return soap.SetParameterValuesResponse(0)
    if isinstance(request, soap.Reboot):
        return soap.RebootResponse()
    if isinstance(request, soap.FactoryReset):
        return soap.FactoryResetResponse()
    if isinstance(request, soap.GetParameterNames):
        return soap.GetParameterNamesResponse(
            [
                soap.ParameterInfo("Device.DeviceInfo.SoftwareVersion", False),
                soap.ParameterInfo("Device.WiFi.SSID.1.SSID", True),
            ]
        )
    if isinstance(request, soap.GetParameterValues):
        return soap.GetParameterValuesResponse(
            [soap.ParameterValue(n, f"value-of-{n}") for n in request.names]
        )
    raise AssertionError(f"unexpected {request}")


def test_unknown_device_is_refused(db):
    response = ScriptedCpe().inform("NOPE")
    assert response.status_code == 401
    assert not Device.objects.filter(serial_number="NOPE").exists()


def test_digest_challenge_then_session_provisions_first_contact(device):
    cpe = ScriptedCpe("cpe", "pw")
    first = cpe.post(inform_message("CPE0001"))
    assert first.status_code == 401
    assert first["WWW-Authenticate"].startswith("Digest ")

    response = cpe.inform("CPE0001")
    assert response.status_code == 200
    assert isinstance(cpe.parse(response).body, soap.InformResponse)
    device.refresh_from_db()
    assert device.status == DeviceStatus.UP
    assert device.is_active and device.software_version == "1.0.0"
    assert device.connection_request_url == "http://127.0.0.1:9/CPE0001"
    assert device.unique_identifier == "00AABB-HomeGateway-CPE0001"

    rpcs = finish_session(cpe)
    assert isinstance(rpcs[0], soap.SetParameterValues)
    names = {p.name: p.value for p in rpcs[0].parameters}
    assert names["Device.ManagementServer.PeriodicInformInterval"] == "300"
    device.refresh_from_db()
    assert names["Device.ManagementServer.ConnectionRequestUsername"] == (
        device.connection_request_username
    )
    assert names["Device.ManagementServer.ConnectionRequestPassword"] == (
        device.connection_request_password
    )
    assert device.connection_request_password_encrypted != device.connection_request_password
    assert not CwmpSession.objects.exists()


def test_wrong_password_is_refused(device):
    response = ScriptedCpe("cpe", "wrong").inform("CPE0001")
    assert response.status_code == 401
    device.refresh_from_db()
    assert device.last_connection is None


def test_basic_only_where_the_type_allows(device, device_type):
    assert ScriptedCpe("cpe", "pw", basic=True).inform("CPE0001").status_code == 401
    device_type.allow_basic_auth = True
    device_type.save()
    assert ScriptedCpe("cpe", "pw", basic=True).inform("CPE0001").status_code == 200


def test_reboot_operation_completes_on_boot_with_command_key(device, admin_a):
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("0 BOOTSTRAP",))
    finish_session(cpe)
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    assert op.state == OperationState.INITIATED

    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("6 CONNECTION REQUEST",))
    rpcs = finish_session(cpe)
    assert [type(r) for r in rpcs] == [soap.Reboot]
    assert rpcs[0].command_key == op.operation_id
    op.refresh_from_db()
    assert op.state == OperationState.IN_PROGRESS

    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    finish_session(cpe)
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED and op.result == "success"


def test_fault_fails_the_operation_not_the_session(device, admin_a):
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001")
    rpcs = finish_session(
        cpe,
        lambda r: (
            soap.Fault(9000, "Method not supported")
            if isinstance(r, soap.Reboot)
            else default_answer(r)
        ),
    )
    assert soap.Reboot in [type(r) for r in rpcs]
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert "9000" in op.error


def test_sync_reads_names_then_values(device, admin_a):
    op = operations.start_operation(device=device, kind="sync", user=admin_a.user)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001")
    rpcs = finish_session(cpe)
    kinds = [type(r) for r in rpcs]
    assert soap.GetParameterNames in kinds and soap.GetParameterValues in kinds
    gpv = next(r for r in rpcs if isinstance(r, soap.GetParameterValues))
    assert gpv.names == ["Device.DeviceInfo.SoftwareVersion", "Device.WiFi.SSID.1.SSID"]
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED
    device.refresh_from_db()
    assert device.last_configuration is not None
    assert device.parameters.values["Device.WiFi.SSID.1.SSID"][0] == (
        "value-of-Device.WiFi.SSID.1.SSID"
    )
    assert device.parameters.values["Device.WiFi.SSID.1.SSID"][2] is True


def test_abandoned_session_requeues_the_unanswered_rpc(device, admin_a):
    from datetime import timedelta

    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001")
    response = cpe.post(None)
    while not isinstance(cpe.parse(response).body, soap.Reboot):
        response = cpe.post(default_answer(cpe.parse(response).body))
    # The device drops off without answering; later its session is stale.
    CwmpSession.objects.update(
        last_activity=CwmpSession.objects.get().last_activity - timedelta(minutes=5)
    )
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001")
    rpcs = finish_session(cpe)
    assert soap.Reboot in [type(r) for r in rpcs]
    task = DeviceTask.objects.get(operation=op)
    assert task.state == TaskState.DONE and task.attempts == 2


def test_second_concurrent_session_is_refused(device):
    assert ScriptedCpe("cpe", "pw").inform("CPE0001").status_code == 200
    second = ScriptedCpe("cpe", "pw").inform("CPE0001")
    assert second.status_code == 503
    assert second["Retry-After"]


def test_gzip_body_and_odd_prefixes(device):
    cpe = ScriptedCpe("cpe", "pw")
    challenge = cpe.inform("NOPE")  # any 401 carries a challenge
    assert challenge.status_code == 401
    raw = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:c="urn:dslforum-org:cwmp-1-2"><s:Body><c:Inform>'
        b"<DeviceId><Manufacturer>Acme</Manufacturer><OUI>00AABB</OUI>"
        b"<ProductClass>GW</ProductClass><SerialNumber>CPE0001</SerialNumber></DeviceId>"
        b"<Event><EventStruct><EventCode>1 Boot</EventCode><CommandKey/></EventStruct></Event>"
        b"<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime>"
        b"<RetryCount>0</RetryCount><ParameterList/></c:Inform></s:Body></s:Envelope>"
    )
    first = cpe.post(raw=gzip.compress(raw), HTTP_CONTENT_ENCODING="gzip")
    response = cpe.post(
        raw=gzip.compress(raw), HTTP_CONTENT_ENCODING="gzip", challenge=first["WWW-Authenticate"]
    )
    assert response.status_code == 200
    assert b"urn:dslforum-org:cwmp-1-2" in response.content
    assert b"soap-env:Envelope" in response.content


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<soap-env:Envelope",
        b"\x00\x01\x02garbage",
        b'{"json": true}',
    ],
)
def test_hostile_bodies_get_400(device, body):
    response = ScriptedCpe().post(raw=body)
    assert response.status_code == 400
    device.refresh_from_db()
    assert device.last_connection is None


def test_oversized_body_is_refused_unread(device):
    response = ScriptedCpe().post(raw=b"<" + b"a" * (5 * 1024 * 1024))
    assert response.status_code == 413


def test_debug_mode_keeps_raw_exchanges_with_secrets_masked(device):
    from linesman.audit.models import AuditEntry

    device.debug = True
    device.save()
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("0 BOOTSTRAP",))
    finish_session(cpe)
    device.refresh_from_db()
    entries = AuditEntry.objects.filter(device_id=device.pk, action="soap")
    text = "\n".join(e.message for e in entries)
    assert "InformResponse" in text and "SetParameterValues" in text
    assert device.connection_request_password not in text
    assert "********" in text


def test_stray_empty_post_ends_quietly(db):
    response = ScriptedCpe().post(None)
    assert response.status_code == 204


def test_unknown_method_gets_a_fault_not_an_error(device):
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001")
    raw = (
        b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID '
        b'soap-env:mustUnderstand="1">7</cwmp:ID></soap-env:Header><soap-env:Body>'
        b"<cwmp:Kicked><Command>x</Command></cwmp:Kicked></soap-env:Body></soap-env:Envelope>"
    )
    response = cpe.post(raw=raw)
    assert response.status_code == 200
    fault = cpe.parse(response).body
    assert isinstance(fault, soap.Fault) and fault.fault_code == 8000


def _provisioned(device):
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("0 BOOTSTRAP",))
    finish_session(cpe)


def test_idle_inform_needs_no_session_row(device):
    _provisioned(device)
    cpe = ScriptedCpe("cpe", "pw")
    response = cpe.inform("CPE0001", events=("2 PERIODIC",))
    assert response.status_code == 200
    assert response.cookies["lsm_session"].value.startswith("d.")
    assert not CwmpSession.objects.exists()
    assert finish_session(cpe) == []


def test_plain_periodic_inform_stamp_waits_in_the_batch(device, settings, monkeypatch):
    """Batching on (as in `linesman serve`): a session that changes nothing but the time
    the device was seen leaves that stamp for the batch writer."""
    from linesman.cwmp import lastseen

    _provisioned(device)  # first contact: its changes are written at once
    stamped = Device.objects.get(pk=device.pk).last_connection
    assert stamped is not None
    settings.LINESMAN_LAST_SEEN_BATCH = 3600  # the writer thread never wakes in this test
    monkeypatch.setattr(lastseen, "_buffer", None)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform("CPE0001", events=("2 PERIODIC",)).status_code == 200
    assert finish_session(cpe) == []
    assert Device.objects.get(pk=device.pk).last_connection == stamped
    assert lastseen._buffer.pending() == 1
    assert lastseen._buffer.flush() == 1
    assert Device.objects.get(pk=device.pk).last_connection > stamped


@pytest.mark.parametrize("keeps_first_cookie", [False, True])
def test_work_queued_after_an_idle_inform_is_sent_in_the_same_session(
    device, admin_a, keeps_first_cookie
):
    _provisioned(device)
    cpe = ScriptedCpe("cpe", "pw")
    first = cpe.inform("CPE0001", events=("2 PERIODIC",)).cookies["lsm_session"].value
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    response = cpe.post(None)
    assert isinstance(cpe.parse(response).body, soap.Reboot)
    if keeps_first_cookie:
        cpe.client.cookies["lsm_session"] = first
    assert cpe.post(soap.RebootResponse()).status_code == 204
    op.refresh_from_db()
    assert op.state == OperationState.IN_PROGRESS
    assert not CwmpSession.objects.exists()


def test_reboot_whose_answer_was_lost_is_not_sent_again(device, admin_a):
    """The server sent Reboot, then died before reading RebootResponse; the device
    rebooted anyway and comes back with M Reboot and the operation's CommandKey."""
    from datetime import timedelta

    _provisioned(device)
    op = operations.start_operation(device=device, kind="reboot", user=admin_a.user)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001")
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    CwmpSession.objects.update(
        last_activity=CwmpSession.objects.get().last_activity - timedelta(minutes=5)
    )
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    assert finish_session(cpe) == []
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED
    assert DeviceTask.objects.get(operation=op).attempts == 1


def test_first_contact_reads_the_whole_tree_in_the_background(device):
    """A freshly bootstrapped device's page shows its tree, not the Inform's few values
    (issue 14): after provisioning, names then values are read, owned by no operation."""
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("0 BOOTSTRAP",))
    rpcs = finish_session(cpe)
    kinds = [type(r) for r in rpcs]
    assert kinds[0] is soap.SetParameterValues  # provisioning first
    assert kinds[-2:] == [soap.GetParameterNames, soap.GetParameterValues]
    assert rpcs[-2].path == "Device."  # the whole tree of the data model root
    assert rpcs[-1].names == ["Device.DeviceInfo.SoftwareVersion", "Device.WiFi.SSID.1.SSID"]
    device.refresh_from_db()
    values = device.parameters.values
    assert values["Device.WiFi.SSID.1.SSID"] == [
        "value-of-Device.WiFi.SSID.1.SSID",
        values["Device.WiFi.SSID.1.SSID"][1],
        True,
    ]
    assert not device.operations.exists()  # nothing for an operator to wait on or cancel


def test_a_large_tree_is_read_in_requests_of_at_most_a_hundred_names(device):
    """250 parameters: three GetParameterValues (100, 100, 50 names), every value kept."""
    names = [f"Device.X.{i}.Value" for i in range(250)]

    def answer(request):
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse([soap.ParameterInfo(n, False) for n in names])
        return default_answer(request)

    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("0 BOOTSTRAP",))
    reads = [r for r in finish_session(cpe, answer) if isinstance(r, soap.GetParameterValues)]
    assert [len(r.names) for r in reads] == [100, 100, 50]
    assert [n for r in reads for n in r.names] == names
    device.refresh_from_db()
    assert all(device.parameters.values[n][0] == f"value-of-{n}" for n in names)


def test_a_later_periodic_inform_does_not_read_the_tree_again(device):
    _provisioned(device)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("2 PERIODIC",))
    assert finish_session(cpe) == []
