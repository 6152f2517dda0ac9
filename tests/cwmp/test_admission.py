"""Shedding new sessions when a server process is saturated (issue #17): past
`LINESMAN_ACS_MAX_SESSIONS` open sessions, the first request of a new session is answered
503 with a spread Retry-After before the challenge; open sessions are always served, and
the process admits again once they end or go silent."""

from __future__ import annotations

import pytest

from linesman.cwmp import admission, endpoint, soap
from linesman.cwmp.models import CwmpSession
from tests.cwmp.acs_client import ScriptedCpe, inform_message
from tests.cwmp.test_session_credentials import _device

# --- the rule alone -------------------------------------------------------------------------


def test_a_new_session_is_refused_only_at_the_limit_of_open_ones():
    sessions = admission.OpenSessions(limit=2, retry_after=60)
    sessions.seen("a", ended=False)
    assert sessions.refusal_wait() is None
    sessions.seen("b", ended=False)
    sessions.seen("b", ended=False)  # a second request of the same session
    waits = {sessions.refusal_wait() for _ in range(200)}
    assert min(waits) >= 30 and max(waits) <= 90  # spread over [0.5, 1.5] x 60 s
    assert len(waits) > 10  # spread, so refused devices do not come back together
    sessions.seen("a", ended=True)
    assert sessions.refusal_wait() is None


def test_a_session_gone_silent_stops_counting(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(admission.time, "monotonic", lambda: now[0])
    sessions = admission.OpenSessions(limit=1, retry_after=10)
    sessions.seen("a", ended=False)
    now[0] += admission.IDLE - 1
    assert sessions.refusal_wait() is not None
    now[0] += 2
    assert sessions.refusal_wait() is None
    assert len(sessions) == 0


def test_a_limit_of_zero_never_refuses():
    sessions = admission.OpenSessions(limit=0, retry_after=10)
    for i in range(1000):
        sessions.seen(str(i), ended=False)
    assert sessions.refusal_wait() is None


# --- through the ACS ----------------------------------------------------------------------


@pytest.fixture
def limit_one(settings):
    settings.LINESMAN_ACS_MAX_SESSIONS = 1
    settings.LINESMAN_ACS_SHED_RETRY_AFTER = 20
    endpoint._open_sessions = None
    yield
    endpoint._open_sessions = None


@pytest.mark.django_db
def test_a_saturated_process_refuses_new_sessions_and_serves_open_ones(
    limit_one, org_a, device_type
):
    from linesman.observability import metrics

    _device(org_a, device_type, "OPEN0001", "first", "pw")
    _device(org_a, device_type, "LATE0001", "second", "pw")
    first = ScriptedCpe("first", "pw")
    opened = first.inform("OPEN0001", events=("0 BOOTSTRAP",))
    assert opened.status_code == 200  # its session is open: provisioning queued
    shed_before = metrics.SESSIONS_SHED._value.get()

    late = ScriptedCpe("second", "pw")
    refused = late.post(inform_message("LATE0001"))
    assert refused.status_code == 503
    assert 10 <= int(refused["Retry-After"]) <= 30
    assert "WWW-Authenticate" not in refused
    assert metrics.SESSIONS_SHED._value.get() == shed_before + 1
    assert not CwmpSession.objects.filter(device__serial_number="LATE0001").exists()

    # A request without a cookie that is not an Inform is no new session: not refused.
    assert late.post(None).status_code != 503
    # Nor is a session the ACS asked for (an operator's action behind it).
    asked = late.post(inform_message("LATE0001", events=("6 CONNECTION REQUEST",)))
    assert asked.status_code == 401  # the challenge: admitted

    # The open session goes on to its end (each RPC it is sent answered with a fault).
    reply, sent = first.post(None), []
    while reply.status_code == 200:
        sent.append(type(soap.parse(reply.content).body).__name__)
        reply = first.post(soap.Fault(9000, "Method not supported"))
    assert reply.status_code == 204
    assert sent[0] == "SetParameterValues"  # the provisioning, not refused

    # Its end made room: the late device is challenged, then served.
    assert late.inform("LATE0001").status_code == 200
