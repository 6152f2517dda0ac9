"""The ACS session engine's less travelled branches, each by what a device or user sees.

Multi-step operations, transfer faults, auto-registration, devices without credentials,
stateless cookies that are forged, expired or another device's, CWMP version negotiation,
answers that arrive after their operation ended, and a FactoryReset whose answer was lost.
"""

from __future__ import annotations

import pytest

from linesman.core import crypto
from linesman.cwmp import session as acs
from linesman.cwmp import soap
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.inventory.models import Device
from linesman.operations import services as operations
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe, inform_message
from tests.cwmp.test_acs_session import default_answer, finish_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org_a, device_type):
    return make_device(
        org_a, device_type, "CPE0001", username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def _bootstrapped(serial: str = "CPE0001") -> None:
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(serial, events=("0 BOOTSTRAP", "1 BOOT")).status_code == 200
    finish_session(cpe)


def _session(events=("6 CONNECTION REQUEST",), answer=None, serial="CPE0001", **kwargs):
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(serial, events=events, **kwargs).status_code == 200
    return finish_session(cpe, answer)


# --- multi-step operations ---------------------------------------------------------------


def test_sync_then_reconf_run_both_in_order_and_complete_only_after_the_last(device, admin_a):
    _bootstrapped()
    device.settings.create(variable_name="Device.WiFi.SSID.1.SSID", value="lobby")
    op = operations.start_operation(
        device=device, kind="sync", steps=["sync", "reconf"], user=admin_a.user
    )
    seen: list[str] = []

    def answer(request):
        seen.append(request.METHOD)
        op.refresh_from_db()
        if isinstance(request, soap.SetParameterValues):
            # The sync step is over before any write: reading comes first.
            assert {"GetParameterNames", "GetParameterValues"} <= set(seen)
        assert op.state != OperationState.COMPLETED, f"completed before {request.METHOD}"
        return default_answer(request)

    _session(answer=answer)
    assert seen[0] == "GetParameterNames"
    first_write = seen.index("SetParameterValues")
    assert "GetParameterValues" in seen[:first_write]
    assert set(seen[first_write:]) == {"SetParameterValues"}
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED
    assert op.params["step_index"] == 1
    setting = device.settings.get()
    assert not setting.pending  # reconf confirmed it on the device


# --- transfers ---------------------------------------------------------------------------


def test_transfer_complete_with_a_fault_fails_the_upgrade(device, admin_a, firmware_image):
    _bootstrapped()
    device.firmware_image = firmware_image
    device.save()
    op = operations.start_firmware_upgrade(device=device, user=admin_a.user)

    downloads = []

    def answer(request):
        if not isinstance(request, soap.Download):
            return default_answer(request)
        downloads.append(request)
        return soap.DownloadResponse(1)

    _session(answer=answer)
    assert [d.command_key for d in downloads] == [op.operation_id]
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform("CPE0001", events=("7 TRANSFER COMPLETE",)).status_code == 200
    reply = cpe.post(soap.TransferComplete(op.operation_id, 9010, "Download failed: HTTP 404"))
    assert isinstance(cpe.parse(reply).body, soap.TransferCompleteResponse)
    finish_session(cpe)
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert "9010" in op.error and "HTTP 404" in op.error
    device.refresh_from_db()
    assert device.software_version == "1.0.0"


def test_transfer_complete_for_another_command_key_changes_nothing(device, admin_a, firmware_image):
    _bootstrapped()
    device.firmware_image = firmware_image
    device.save()
    op = operations.start_firmware_upgrade(device=device, user=admin_a.user)
    _session(
        answer=lambda r: (
            soap.DownloadResponse(1) if isinstance(r, soap.Download) else default_answer(r)
        )
    )
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("7 TRANSFER COMPLETE",))
    cpe.post(soap.TransferComplete("someone-elses-key", 9010, "nope"))
    finish_session(cpe)
    op.refresh_from_db()
    assert op.state in (OperationState.DISPATCHED, OperationState.IN_PROGRESS)


# --- who may start a session -------------------------------------------------------------


def test_auto_registration_into_the_configured_org_and_type(settings, org_a, device_type, db):
    settings.LINESMAN_AUTO_REGISTER_ORG = org_a.name
    settings.LINESMAN_AUTO_REGISTER_TYPE = device_type.short_name
    response = ScriptedCpe().inform("NEW0001", events=("0 BOOTSTRAP",))
    assert response.status_code == 200
    device = Device.objects.get(serial_number="NEW0001")
    assert (device.organization_id, device.type_id) == (org_a.pk, device_type.pk)
    assert device.last_connection is not None


def test_auto_registration_by_ids_too(settings, org_a, device_type, db):
    settings.LINESMAN_AUTO_REGISTER_ORG = str(org_a.pk)
    settings.LINESMAN_AUTO_REGISTER_TYPE = str(device_type.pk)
    assert ScriptedCpe().inform("NEW0002").status_code == 200
    assert Device.objects.get(serial_number="NEW0002").organization_id == org_a.pk


def test_without_auto_registration_an_unknown_device_gets_nothing(settings, db):
    settings.LINESMAN_AUTO_REGISTER_ORG = ""
    settings.LINESMAN_AUTO_REGISTER_TYPE = ""
    assert ScriptedCpe().inform("NEW0003").status_code == 401
    assert not Device.objects.filter(serial_number="NEW0003").exists()


def test_a_device_recorded_without_credentials_is_not_challenged(org_a, device_type):
    make_device(org_a, device_type, "OPEN0001")
    cpe = ScriptedCpe()  # no credentials at all
    response = cpe.post(inform_message("OPEN0001"))
    assert response.status_code == 200
    assert "WWW-Authenticate" not in response


def test_a_device_with_credentials_is_challenged_when_it_sends_none(device):
    response = ScriptedCpe().post(inform_message("CPE0001"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Digest ")


# --- stateless cookies -------------------------------------------------------------------


def _idle_session_cookie(cpe: ScriptedCpe) -> str:
    response = cpe.inform("CPE0001", events=("2 PERIODIC",))
    assert response.status_code == 200
    cookie = response.cookies[acs.COOKIE].value
    assert cookie.startswith("d.")
    return cookie


def _queue_reboot(device, admin_a) -> Operation:
    return operations.start_operation(
        device=device, kind="reboot", user=admin_a.user, connection_request=False
    )


def test_an_idle_sessions_cookie_picks_up_work_queued_after_the_inform(device, admin_a):
    _bootstrapped()
    cpe = ScriptedCpe("cpe", "pw")
    _idle_session_cookie(cpe)
    _queue_reboot(device, admin_a)
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)


@pytest.mark.parametrize("tamper", ["signature", "other_device", "garbage"])
def test_a_forged_stateless_cookie_gets_no_work(device, admin_a, org_a, device_type, tamper):
    _bootstrapped()
    victim = make_device(org_a, device_type, "CPE0002")
    cpe = ScriptedCpe("cpe", "pw")
    cookie = _idle_session_cookie(cpe)
    _queue_reboot(device, admin_a)
    _queue_reboot(victim, admin_a)
    text, _, signature = cookie.rpartition(".")
    parts = text.split(".")
    if tamper == "signature":
        forged = f"{text}.{'A' * len(signature)}"
    elif tamper == "other_device":
        parts[1] = str(victim.pk)  # keeps this device's signature
        forged = f"{'.'.join(parts)}.{signature}"
    else:
        forged = "d.1.1.0.999"
    cpe.client.cookies[acs.COOKIE] = forged
    response = cpe.post(None)
    assert response.status_code in (204, 400)
    assert not response.content.startswith(b"<")  # no RPC of anybody's
    sent = DeviceTask.objects.filter(state=TaskState.SENT)
    assert not sent.exists()


def test_an_expired_stateless_cookie_gets_no_work(device, admin_a, task_clock):
    _bootstrapped()
    cpe = ScriptedCpe("cpe", "pw")
    _idle_session_cookie(cpe)
    _queue_reboot(device, admin_a)
    task_clock.advance(acs.SESSION_TIMEOUT.total_seconds() + 1)
    response = cpe.post(None)
    assert response.status_code in (204, 400) and not response.content.startswith(b"<")
    assert not DeviceTask.objects.filter(state=TaskState.SENT).exists()


# --- CWMP version negotiation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [("1.0,1.1,1.2", "1.2"), ("1.4, 1.1", "1.4"), ("1.0", "1.0"), ("2.0,9.9", None)],
)
def test_the_acs_answers_with_the_highest_common_version(device, offered, chosen):
    cpe = ScriptedCpe("cpe", "pw")
    challenge = cpe.post(inform_message("CPE0001"))["WWW-Authenticate"]
    raw = soap.serialize(
        soap.Envelope(
            inform_message("CPE0001"),
            cwmp_id="v1",
            cwmp_ns=soap.NS_CWMP["1.2"],
            supported_cwmp_versions=offered,
        )
    )
    response = cpe.post(raw=raw, challenge=challenge)
    assert response.status_code == 200
    envelope = cpe.parse(response)
    assert envelope.use_cwmp_version == chosen
    assert envelope.cwmp_ns == soap.NS_CWMP["1.2"]  # answered in the device's namespace
    assert envelope.cwmp_id == "v1"


# --- answers after the end ---------------------------------------------------------------


def test_a_late_answer_to_an_ended_operation_changes_nothing(device, admin_a):
    _bootstrapped()
    op = _queue_reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("6 CONNECTION REQUEST",))
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    operations.cancel_operation(op, user=admin_a.user)
    response = cpe.post(soap.RebootResponse())  # the device answers after the cancel
    assert response.status_code == 204
    op.refresh_from_db()
    assert op.state == OperationState.CANCELLED and op.phase == ""
    assert op.result == "cancelled"


def test_a_factory_reset_whose_answer_was_lost_completes_on_bootstrap(device, admin_a, task_clock):
    _bootstrapped()
    op = operations.start_operation(
        device=device, kind="device_factory", user=admin_a.user, connection_request=False
    )
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("6 CONNECTION REQUEST",))
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.FactoryReset)
    # The device resets without answering; it comes back as new after its reboot.
    task_clock.advance(acs.TAKEOVER_AFTER.total_seconds() + 1)
    rpcs = _session(events=("0 BOOTSTRAP", "1 BOOT"))
    assert not any(isinstance(r, soap.FactoryReset) for r in rpcs)
    assert any(isinstance(r, soap.SetParameterValues) for r in rpcs)  # re-provisioned
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED
    assert op.tasks.filter(method="FactoryReset").count() == 1
