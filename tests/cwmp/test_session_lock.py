"""The session row is the device's lock: Informs racing for one device open one session.

The row is written inside the Inform's transaction with `INSERT ... ON CONFLICT DO
NOTHING`: the loser of a race waits for the winner's commit, then skips and is refused
with 503, and nothing of its Inform is written (no IntegrityError spoils a transaction).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from linesman.core import crypto, hotsql
from linesman.cwmp import queue, soap
from linesman.cwmp.models import CwmpSession, DeviceTask, TaskState
from linesman.operations import services as operations_services
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe, inform_message
from tests.cwmp.test_acs_session import finish_session
from tests.cwmp.test_session_exchanges import SERIAL, _provisioned, _reboot

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org_a, device_type):
    return make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def _session(device, key: str) -> CwmpSession:
    return CwmpSession(
        key=key, device=device, cwmp_ns=soap.NS_CWMP["1.0"], last_activity=timezone.now()
    )


def test_a_conflicting_row_is_skipped_and_the_transaction_stays_usable(device):
    first, second = _session(device, "first"), _session(device, "second")
    with transaction.atomic():
        assert hotsql.insert(first, skip_on_conflict=True) is True
        assert first.pk is not None
        assert hotsql.insert(second, skip_on_conflict=True) is False
        assert second.pk is None and second._state.adding
        # On PostgreSQL a raised IntegrityError would have aborted the transaction here.
        assert list(CwmpSession.objects.values_list("key", flat=True)) == ["first"]
    assert CwmpSession.objects.get(device=device).pk == first.pk


@pytest.mark.django_db(transaction=True)
def test_informs_racing_for_one_device_open_exactly_one_session(device, admin_a):
    _provisioned()
    op = _reboot(device, admin_a)
    racers = 4
    start = threading.Barrier(racers)
    answers: list = []

    def inform() -> None:
        try:
            cpe = ScriptedCpe("cpe", "pw")
            challenge = cpe.post(_inform_body())
            start.wait(10)
            answers.append((cpe, cpe.post(_inform_body(), challenge=challenge["WWW-Authenticate"])))
        finally:
            connection.close()

    threads = [threading.Thread(target=inform) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    codes = sorted(response.status_code for _, response in answers)
    assert codes == [200] + [503] * (racers - 1)
    winner = next(cpe for cpe, response in answers if response.status_code == 200)
    assert CwmpSession.objects.count() == 1
    assert [r.METHOD for r in finish_session(winner)] == ["Reboot"]
    task = DeviceTask.objects.get(operation=op)
    assert task.state == TaskState.DONE and task.attempts == 1
    assert not CwmpSession.objects.exists()


def _inform_body():
    return inform_message(SERIAL, events=("6 CONNECTION REQUEST",))


# --- a session its Inform settled ------------------------------------------------------------


def _rebooted(device, admin_a) -> tuple[object, ScriptedCpe]:
    """A reboot sent and answered; the device's boot session is yet to come."""
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    assert [r.METHOD for r in finish_session(cpe)] == ["Reboot"]
    return op, ScriptedCpe("cpe", "pw")


def test_a_boot_that_completes_the_reboot_leaves_no_session_row(device, admin_a):
    op, boot = _rebooted(device, admin_a)
    response = boot.inform(
        SERIAL, events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id}
    )
    assert response.status_code == 200
    assert response.cookies["lsm_session"].value.startswith("d.")  # the stateless cookie
    assert not CwmpSession.objects.exists()
    op.refresh_from_db()
    assert op.state == "completed"
    assert boot.post(None).status_code == 204
    assert not CwmpSession.objects.exists()


def test_work_queued_after_such_a_boot_is_sent_in_the_same_session(device, admin_a):
    op, boot = _rebooted(device, admin_a)
    boot.inform(SERIAL, events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id})
    assert not CwmpSession.objects.exists()
    later = operations_services.start_operation(
        device=device, kind="reboot", user=admin_a.user, connection_request=False
    )
    assert [r.METHOD for r in finish_session(boot)] == ["Reboot"]
    assert DeviceTask.objects.get(operation=later).state == TaskState.DONE


def test_a_boot_that_leaves_work_queued_keeps_its_session(device, admin_a):
    op, boot = _rebooted(device, admin_a)
    # An RPC of nobody's operation, still to send.
    queue.enqueue(device.pk, "GetParameterValues", {"names": ["Device.DeviceInfo."]})
    response = boot.inform(
        SERIAL, events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id}
    )
    assert response.status_code == 200
    assert CwmpSession.objects.get(device=device).key == response.cookies["lsm_session"].value
    assert [r.METHOD for r in finish_session(boot)] == ["GetParameterValues"]
    assert not CwmpSession.objects.exists()


def test_a_periodic_inform_while_the_reboot_awaits_its_boot_keeps_its_session(device, admin_a):
    """No boot at all: the reboot is not settled, and the session keeps its row."""
    op, periodic = _rebooted(device, admin_a)
    response = periodic.inform(SERIAL, events=("2 PERIODIC",))
    assert response.status_code == 200
    assert CwmpSession.objects.get(device=device).key == response.cookies["lsm_session"].value
    op.refresh_from_db()
    assert op.state in ("dispatched", "in_progress")
