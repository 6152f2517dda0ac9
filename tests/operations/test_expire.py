"""An operation past its deadline ends `timed_out` with a reason naming what it waited for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from linesman.operations import engine, services
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


def expired(device, **fields) -> Operation:
    op = services.start_operation(device=device, kind="reboot", connection_request=False)
    Operation.objects.filter(pk=op.pk).update(
        deadline=timezone.now() - timedelta(seconds=1), **fields
    )
    engine.expire(op.pk)
    op.refresh_from_db()
    assert op.state == OperationState.TIMED_OUT and op.result == "timeout"
    return op


def test_a_device_never_seen(org_a, device_type):
    op = expired(make_device(org_a, device_type, "E1"))
    assert op.error == "The device never contacted the ACS before the operation's deadline."
    assert op.error_cause == "operation_timeouts"


def test_a_device_seen_that_did_not_come(org_a, device_type):
    seen = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    op = expired(make_device(org_a, device_type, "E2", last_connection=seen, is_active=True))
    assert op.error == (
        "The device did not contact the ACS before the operation's deadline (last contact "
        "2026-03-01T12:00:00Z); nothing was sent to it."
    )
    assert op.error_cause == "operation_timeouts"


def test_a_device_that_never_came_back_from_its_reboot(org_a, device_type):
    device = make_device(org_a, device_type, "E3", last_connection=timezone.now(), is_active=True)
    op = expired(device, dispatched_at=timezone.now(), phase=engine.AWAIT_BOOT)
    assert op.error == "The device did not complete the operation in time (waiting for its reboot)."
    assert op.error_cause == "operation_timeouts"


def test_not_yet_due_is_left_alone(org_a, device_type):
    op = services.start_operation(
        device=make_device(org_a, device_type, "E4"), kind="reboot", connection_request=False
    )
    engine.expire(op.pk)
    op.refresh_from_db()
    assert op.state == OperationState.INITIATED
