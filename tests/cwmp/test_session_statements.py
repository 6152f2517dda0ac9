"""The statements a session costs, request by request: the ACS's budget on its hot path.

A bulk job's throughput is set by these (see `bench/bulk.py`): a lookup that stops joining
a related row it needs, or a save that writes every column, shows here as a statement
more. Counted on SQLite only: on PostgreSQL the hot path's statements (`core.hotsql`) run
on psycopg cursors of their own, which Django's query log does not see.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linesman.core import crypto
from linesman.cwmp import soap
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device, needs_logged_hot_statements
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_session_exchanges import SERIAL, _provisioned, _reboot

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org_a, device_type):
    needs_logged_hot_statements()
    return make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def _counted(request) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    verbs = [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]
    # Transaction control is left out: inside a test's transaction it is savepoints.
    return response, [v for v in verbs if v in ("SELECT", "INSERT", "UPDATE", "DELETE")]


def test_a_reboot_costs_its_sessions_these_statements(device, admin_a):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    counts = {}
    response, counts["inform"] = _counted(
        lambda: cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",))
    )
    assert response.status_code == 200
    response, counts["empty POST, Reboot sent"] = _counted(lambda: cpe.post(None))
    assert isinstance(cpe.parse(response).body, soap.Reboot)
    response, counts["RebootResponse"] = _counted(lambda: cpe.post(soap.RebootResponse()))
    assert response.status_code == 204
    boot = ScriptedCpe("cpe", "pw")
    response, counts["boot inform"] = _counted(
        lambda: boot.inform(
            SERIAL, events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id}
        )
    )
    assert response.status_code == 200
    response, counts["empty POST, session ends"] = _counted(lambda: boot.post(None))
    assert response.status_code == 204
    assert Operation.objects.get(pk=op.pk).state == OperationState.COMPLETED
    assert {k: Counter(v) for k, v in counts.items()} == {
        # Two requests: the 401 challenge, then the Inform with credentials.
        "inform": {"SELECT": 2, "INSERT": 2, "UPDATE": 1},
        "empty POST, Reboot sent": {"SELECT": 2, "UPDATE": 3},
        "RebootResponse": {"SELECT": 3, "UPDATE": 2, "DELETE": 1},
        # The boot completes the reboot and leaves nothing: the session's row goes at once.
        "boot inform": {"SELECT": 3, "INSERT": 3, "UPDATE": 3, "DELETE": 1},
        "empty POST, session ends": {"SELECT": 1},
    }


def _session_statements(queries) -> list[str]:
    """The statements on the session table itself (the device lookup's EXISTS on it aside)."""
    own = re.compile(
        r'(SELECT "cwmp_cwmpsession"\.|(INSERT INTO|UPDATE|DELETE FROM) "?cwmp_cwmpsession)'
    )
    return [q["sql"].split(" ", 1)[0] for q in queries.captured_queries if own.match(q["sql"])]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_inform_opens_its_session_with_a_lone_insert(device, admin_a):
    """A server's Inform (no transaction around it) whose lookup found no session row
    creates one with a single INSERT: no locking read of the session table first."""
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    with CaptureQueriesContext(connection) as queries:
        assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    assert _session_statements(queries) == ["INSERT"]
    assert isinstance(cpe.parse(cpe.post(None)).body, soap.Reboot)
    assert cpe.post(soap.RebootResponse()).status_code == 204
    boot = ScriptedCpe("cpe", "pw")
    with CaptureQueriesContext(connection) as queries:
        response = boot.inform(
            SERIAL, events=("1 BOOT", "M Reboot"), keys={"M Reboot": op.operation_id}
        )
    assert response.status_code == 200
    # Its row is the lock while the Inform is applied; the boot settled everything, so it
    # goes in the same transaction.
    assert _session_statements(queries) == ["INSERT", "DELETE"]
    assert boot.post(None).status_code == 204
    assert Operation.objects.get(pk=op.pk).state == OperationState.COMPLETED
