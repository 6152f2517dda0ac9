"""The session engine where issue #16's second mutation run (mutmut 3.8) over
`linesman.cwmp.session` found it untested: requests of one session served on different
threads or outside any transaction (as in production), the exact edges of its time limits,
the cut of a refusal's text, an idle session while an RPC is on the wire, answers nobody
asked for, repeated headers and Basic auth, whose operation a bootstrap's provisioning
belongs to, and what the debug log keeps of a device not in debug mode.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.core import crypto
from linesman.cwmp import queue, soap
from linesman.cwmp.models import CwmpSession, DeviceTask, TaskState
from linesman.operations import services as operations
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe, digest_header, inform_message
from tests.cwmp.test_acs_session import finish_session
from tests.cwmp.test_session_exchanges import SERIAL, _idle_cpe, _provisioned, _reboot

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org_a, device_type):
    return make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def _on_another_thread(request):
    """Serve `request()` on a new thread, as a threaded server may (its own connection)."""
    got: list = []

    def serve():
        from django.db import connection

        try:
            got.append(request())
        finally:
            connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(30)
    assert got, "the request failed on its thread"
    return got[0]


# --- one session, several threads ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_session_goes_on_when_its_requests_are_served_on_other_threads(device, admin_a):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    sent = _on_another_thread(lambda: cpe.post(None))
    assert isinstance(cpe.parse(sent).body, soap.Reboot)
    assert _on_another_thread(lambda: cpe.post(soap.RebootResponse())).status_code == 204
    assert DeviceTask.objects.get(operation=op).state == TaskState.DONE


# --- the edges of the time limits (time stands still at a whole second) -------------------

#: session.SESSION_TIMEOUT and session.TAKEOVER_AFTER, written out as the module documents them.
SESSION_TIMEOUT = timedelta(seconds=60)
TAKEOVER_AFTER = timedelta(seconds=5)


@pytest.fixture
def still():
    """Time frozen at the next whole second (a stateless cookie stamps whole seconds)."""
    start = datetime.fromtimestamp(int(time.time()) + 1, UTC)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def test_an_idle_sessions_cookie_is_still_good_a_full_session_timeout_later(device, admin_a, still):
    _provisioned()
    cpe = _idle_cpe()
    _reboot(device, admin_a)
    still.shift(SESSION_TIMEOUT)
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)


def test_a_session_is_still_live_a_full_session_timeout_after_its_last_request(
    device, admin_a, still
):
    _provisioned()
    _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    still.shift(SESSION_TIMEOUT)
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)


def test_an_inform_takes_over_a_session_silent_for_exactly_the_takeover_time(
    device, admin_a, still
):
    _provisioned()
    _reboot(device, admin_a)
    first = ScriptedCpe("cpe", "pw")
    assert first.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    first_key = first.client.cookies["lsm_session"].value
    still.shift(TAKEOVER_AFTER)
    second = ScriptedCpe("cpe", "pw")
    response = second.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert response.status_code == 200
    assert response.cookies["lsm_session"].value != first_key
    assert CwmpSession.objects.get(device=device).key == response.cookies["lsm_session"].value


# --- what a refusal says -------------------------------------------------------------------


def test_the_refusal_of_a_malformed_body_is_cut_at_500_bytes(db):
    response = ScriptedCpe().post(raw=b"<" + b"a" * 600 + b"></b>")
    assert response.status_code == 400
    assert len(response.content) == 500
    assert response.content.startswith(
        b"malformed CWMP message: not well-formed XML: Opening and ending tag mismatch: aaa"
    )


# --- outside a test's transaction, as in production ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_inform_takes_over_a_session_row_a_dead_server_left(device):
    """Requests in production run outside any transaction: an Inform of a device without a
    session row takes a one-statement path, one with a row the locking path."""
    _provisioned()
    CwmpSession.objects.create(
        key="left-by-a-dead-server",
        device=device,
        cwmp_ns=soap.NS_CWMP["1.0"],
        last_activity=timezone.now() - timedelta(minutes=5),
    )
    cpe = ScriptedCpe("cpe", "pw")
    response = cpe.inform(SERIAL, events=("2 PERIODIC",))
    assert response.status_code == 200
    key = response.cookies["lsm_session"].value
    assert key != "left-by-a-dead-server"
    assert CwmpSession.objects.get(device=device).key == key


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_device_with_work_and_no_session_row_gets_one(device, admin_a):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    response = cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert response.status_code == 200
    assert CwmpSession.objects.get(device=device).key == response.cookies["lsm_session"].value
    assert [r.METHOD for r in finish_session(cpe)] == ["Reboot"]
    assert DeviceTask.objects.get(operation=op).state == TaskState.DONE


# --- a session that had nothing to do ------------------------------------------------------


def test_an_idle_cookie_sends_nothing_while_the_devices_rpc_is_on_the_wire(device):
    """An RPC marked sent in a session whose row is gone (another server's, lost) is not
    sent again by the empty POST of an idle session: the answer is the plain end."""
    _provisioned()
    cpe = _idle_cpe()
    task = queue.enqueue(device_id=device.pk, method="Reboot")
    DeviceTask.objects.filter(pk=task.pk).update(state=TaskState.SENT, attempts=1)
    response = cpe.post(None)
    assert (response.status_code, response.content) == (204, b"")
    task.refresh_from_db()
    assert (task.state, task.attempts) == (TaskState.SENT, 1)
    assert not CwmpSession.objects.exists()


# --- a database session ----------------------------------------------------------------------


@pytest.mark.parametrize("stray", [soap.RebootResponse(), soap.Fault(9002, "Internal error")])
def test_an_answer_before_the_acs_asked_anything_is_ignored(device, admin_a, stray):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    sent = cpe.post(stray)  # instead of the empty POST
    assert isinstance(cpe.parse(sent).body, soap.Reboot)
    assert cpe.post(soap.RebootResponse()).status_code == 204
    op.refresh_from_db()
    assert "answered_after_end" not in op.output
    assert DeviceTask.objects.get(operation=op).state == TaskState.DONE


def test_a_device_that_repeats_its_authorization_header_is_served_by_its_cookie(device, admin_a):
    """Some CPEs send the header that opened the session with every request: its nonce
    count is spent, so the cookie, not the header, must carry the session."""
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe()
    inform = inform_message(SERIAL, events=("6 CONNECTION REQUEST",))
    challenge = cpe.post(inform)["WWW-Authenticate"]
    header = digest_header("cpe", "pw", re.search(r'nonce="([^"]+)"', challenge).group(1))
    assert cpe.post(inform, HTTP_AUTHORIZATION=header).status_code == 200
    sent = cpe.post(None, HTTP_AUTHORIZATION=header)
    assert isinstance(cpe.parse(sent).body, soap.Reboot)
    assert cpe.post(soap.RebootResponse(), HTTP_AUTHORIZATION=header).status_code == 204
    assert DeviceTask.objects.get(operation=op).state == TaskState.DONE


# --- whose provisioning it is --------------------------------------------------------------


def _queued_provisioning() -> set:
    """The operations the queued bootstrap provisioning belongs to (None: to none)."""
    queued = DeviceTask.objects.filter(method="SetParameterValues", state=TaskState.QUEUED)
    assert queued.exists()
    return {t.operation_id for t in queued}


def test_a_bootstrap_during_a_reboot_is_provisioned_apart_from_the_reboot(device, admin_a):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert [r.METHOD for r in finish_session(cpe)] == ["Reboot"]
    cpe = ScriptedCpe("cpe", "pw")
    events = ("0 BOOTSTRAP", "1 BOOT", "M Reboot")
    assert cpe.inform(SERIAL, events=events, keys={"M Reboot": op.operation_id}).status_code == 200
    assert _queued_provisioning() == {None}


def test_a_boot_without_bootstrap_does_not_hand_the_provisioning_to_a_factory_reset(
    device, admin_a
):
    _provisioned()
    op = operations.start_operation(
        device=device, kind="device_factory", user=admin_a.user, connection_request=False
    )
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    assert [r.METHOD for r in finish_session(cpe)] == ["FactoryReset"]
    cpe = ScriptedCpe("cpe", "pw")
    # Not the bootstrap the reset awaits, but an interval that needs provisioning again.
    interval = {"Device.ManagementServer.PeriodicInformInterval": "999"}
    assert cpe.inform(SERIAL, events=("1 BOOT",), params=interval).status_code == 200
    assert _queued_provisioning() == {None}
    op.refresh_from_db()
    assert op.phase == "awaiting_bootstrap"


def test_a_known_device_provisioned_again_for_its_interval_is_not_read_again(device):
    _provisioned()
    cpe = ScriptedCpe("cpe", "pw")
    interval = {"Device.ManagementServer.PeriodicInformInterval": "999"}
    assert cpe.inform(SERIAL, events=("2 PERIODIC",), params=interval).status_code == 200
    methods = [r.METHOD for r in finish_session(cpe)]
    assert methods[0] == "SetParameterValues"
    assert "GetParameterNames" not in methods


# --- credentials -------------------------------------------------------------------------------


def test_a_device_on_basic_auth_is_admitted_at_each_of_its_sessions(device, device_type):
    """Basic carries no nonce: nothing is claimed, so the same header opens every session."""
    device_type.allow_basic_auth = True
    device_type.save()
    for _ in range(3):
        cpe = ScriptedCpe("cpe", "pw", basic=True)
        assert cpe.inform(SERIAL, events=("2 PERIODIC",)).status_code == 200
        finish_session(cpe)


# --- the debug log -------------------------------------------------------------------------


def test_the_exchanges_of_a_device_not_in_debug_mode_are_not_kept(device, admin_a):
    _provisioned()
    _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    assert [r.METHOD for r in finish_session(cpe)] == ["Reboot"]
    assert not AuditEntry.objects.filter(device_id=device.pk, action="soap").exists()


def test_a_device_with_only_a_username_is_refused_a_header_with_a_wrong_password(
    org_a, device_type
):
    """Only a device recorded with neither username nor password is served without
    credentials; one with a username alone is checked (its password is the empty one)."""
    make_device(org_a, device_type, "HALF0001", username="only-user")
    assert ScriptedCpe("only-user", "guess").inform("HALF0001").status_code == 401
    assert ScriptedCpe("only-user", "").inform("HALF0001").status_code == 200
