"""Delayed tasks on the real task queue: operation time-outs and connection-request retries
with backoff run when the clock reaches them and not before (scheduled bulk starts:
tests/bulk/test_scheduled_start.py)."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.cwmp.models import ConnectionRequestLog
from linesman.operations.models import Operation

pytestmark = pytest.mark.django_db

OP_URL = "/api/v1/inventory_device_operation/{}/"


def _start(actor, device, operation: str, captured) -> Operation:
    with captured(execute=True):
        response = actor.client.put(
            OP_URL.format(device.pk), {"operation": operation}, format="json"
        )
    assert response.status_code == 200, response.json()
    return Operation.objects.get(device=device)


def test_an_operation_times_out_at_its_deadline_and_not_before(
    task_clock, operator_a, device_a, django_capture_on_commit_callbacks
):
    op = _start(operator_a, device_a, "reboot", django_capture_on_commit_callbacks)
    # A reboot is given 15 minutes (README: LINESMAN_OPERATION_TIMEOUT, per kind).
    assert abs(op.deadline - op.initiated_at - timedelta(minutes=15)) < timedelta(seconds=1)
    waiting = [s for s in task_clock.scheduled() if s.name == "expire_operation"]
    assert [s.args for s in waiting] == [(op.pk,)]

    task_clock.advance(15 * 60 - 5)
    op.refresh_from_db()
    assert op.state == "initiated" and op.completed_at is None

    ran = task_clock.advance(10)
    assert [s.name for s in ran] == ["expire_operation"]
    op.refresh_from_db()
    assert (op.state, op.result, op.error_cause) == ("timed_out", "timeout", "operation_timeouts")
    assert op.completed_at is not None
    # Its queued Reboot is withdrawn: the device will not get it at its next session.
    assert list(op.tasks.values_list("method", "state")) == [("Reboot", "cancelled")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_connection_requests_are_retried_with_backoff_while_work_waits(
    task_clock, operator_a, device_a, django_capture_on_commit_callbacks, settings
):
    device_a.connection_request_url = f"http://127.0.0.1:{_closed_port()}/cr"
    device_a.last_connection = timezone.now()
    device_a.is_active = True
    device_a.save()

    def attempts() -> int:
        return ConnectionRequestLog.objects.filter(device=device_a).count()

    _start(operator_a, device_a, "reboot", django_capture_on_commit_callbacks)
    assert attempts() == 1  # at once
    assert not ConnectionRequestLog.objects.get(device=device_a).ok

    # Then after 5 s, 10 s and 20 s (cwmp.tasks: BASE_DELAY doubling, 4 attempts in all).
    for gap, total in ((5, 2), (10, 3), (20, 4)):
        task_clock.advance(gap - 1)
        assert attempts() == total - 1, f"retry {total} ran early"
        task_clock.advance(1.5)
        assert attempts() == total, f"retry {total} did not run on time"
    task_clock.advance(3600)
    assert attempts() == 4
    assert not any(s.name == "connection_request" for s in task_clock.scheduled())


def test_no_retry_once_the_work_is_gone(
    task_clock, operator_a, device_a, django_capture_on_commit_callbacks
):
    device_a.connection_request_url = f"http://127.0.0.1:{_closed_port()}/cr"
    device_a.last_connection = timezone.now()
    device_a.is_active = True
    device_a.save()
    op = _start(operator_a, device_a, "reboot", django_capture_on_commit_callbacks)
    from linesman.operations import services

    services.cancel_operation(op, user=operator_a.user)
    task_clock.advance(60)
    assert ConnectionRequestLog.objects.filter(device=device_a).count() == 1
