"""Shedding new sessions when a server process is saturated (issue #17): past
`LINESMAN_ACS_MAX_SESSIONS` open sessions, or while devices' requests wait longer than
`LINESMAN_ACS_SHED_DELAY_MS` to reach the process after their InformResponse, the first
request of a new session is answered 503 with a spread Retry-After before the challenge;
open sessions are always served, and the process admits again once they end or go silent,
or once the wait is short again."""

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


def _clock(monkeypatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(admission.time, "monotonic", lambda: now[0])
    return now


def _session_waiting(sessions, cookie: str, now: list[float], wait: float) -> None:
    """A session opened by its InformResponse whose next request arrives `wait` s later."""
    sessions.seen(cookie, ended=False, opened=True)
    now[0] += wait
    sessions.arrived(cookie)
    sessions.seen(cookie, ended=True)


def test_requests_waiting_long_after_the_inform_response_make_new_sessions_wait(monkeypatch):
    now = _clock(monkeypatch)
    sessions = admission.OpenSessions(limit=1000, retry_after=60, max_delay=0.5)
    for i in range(100):
        _session_waiting(sessions, f"quick{i}", now, 0.05)  # round trips, no queue
    assert sessions.refusal_wait() is None
    assert 0.04 < sessions.delay < 0.06
    for i in range(100):
        _session_waiting(sessions, f"queued{i}", now, 1.5)  # a second and a half in a queue
    assert sessions.delay > 0.5
    assert 30 <= sessions.refusal_wait() <= 90
    assert len(sessions) == 0  # no open session counts toward the limit


def test_only_the_first_request_after_the_inform_response_is_timed(monkeypatch):
    """Later requests answer RPCs, which a device takes its own time over."""
    now = _clock(monkeypatch)
    sessions = admission.OpenSessions(limit=1000, retry_after=60, max_delay=0.5)
    sessions.seen("a", ended=False, opened=True)
    now[0] += 0.01
    sessions.arrived("a")
    sessions.seen("a", ended=False)  # the ACS sent an RPC
    for _ in range(50):
        now[0] += 5  # a device slow to answer each RPC
        sessions.arrived("a")
        sessions.seen("a", ended=False)
    assert sessions.delay < 0.01
    assert sessions.refusal_wait() is None


def test_a_long_wait_no_longer_measured_admits_again(monkeypatch):
    """Refusing every new session leaves nothing to measure: the process admits again, and
    the sessions it admits measure the queue anew."""
    now = _clock(monkeypatch)
    sessions = admission.OpenSessions(limit=1000, retry_after=60, max_delay=0.5)
    for i in range(100):
        _session_waiting(sessions, str(i), now, 2.0)
    assert sessions.refusal_wait() is not None
    now[0] += admission.FRESH - 0.1
    assert sessions.refusal_wait() is not None
    now[0] += 0.2
    assert sessions.refusal_wait() is None


def test_a_max_delay_of_zero_never_refuses_for_the_wait(monkeypatch):
    now = _clock(monkeypatch)
    sessions = admission.OpenSessions(limit=1000, retry_after=60, max_delay=0)
    for i in range(100):
        _session_waiting(sessions, str(i), now, 30.0)
    assert sessions.refusal_wait() is None


# --- through the ACS ----------------------------------------------------------------------


@pytest.fixture
def shedding(settings):
    """Sets the ACS's shedding settings (Retry-After around 20 s) for a fresh count."""

    def configure(**values) -> None:
        settings.LINESMAN_ACS_SHED_RETRY_AFTER = 20
        for name, value in values.items():
            setattr(settings, name, value)
        endpoint._open_sessions = None

    yield configure
    endpoint._open_sessions = None


@pytest.mark.django_db
def test_a_saturated_process_refuses_new_sessions_and_serves_open_ones(
    shedding, org_a, device_type
):
    from linesman.observability import metrics

    shedding(LINESMAN_ACS_MAX_SESSIONS=1)

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


@pytest.mark.django_db
def test_a_process_whose_requests_wait_refuses_new_sessions_until_they_do_not(
    shedding, org_a, device_type, monkeypatch
):
    shedding(LINESMAN_ACS_SHED_DELAY=0.05)
    now = _clock(monkeypatch)
    _device(org_a, device_type, "SLOW0001", "first", "pw")
    _device(org_a, device_type, "LATE0001", "second", "pw")
    first = ScriptedCpe("first", "pw")
    assert first.inform("SLOW0001", events=("2 PERIODIC",)).status_code == 200
    now[0] += 2.0  # its next request waited two seconds to reach the process
    first.post(None)
    assert endpoint.open_sessions().delay == pytest.approx(2.0 * admission.SMOOTHING)

    late = ScriptedCpe("second", "pw")
    refused = late.post(inform_message("LATE0001", events=("2 PERIODIC",)))
    assert refused.status_code == 503
    assert 10 <= int(refused["Retry-After"]) <= 30
    # A session the ACS asked for is admitted all the same.
    asked = late.post(inform_message("LATE0001", events=("6 CONNECTION REQUEST",)))
    assert asked.status_code == 401

    now[0] += admission.FRESH + 0.1  # nothing measured since: admitted again
    assert late.inform("LATE0001", events=("2 PERIODIC",)).status_code == 200
