"""Queueing RPCs for a device's next session (DeviceTask rows)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from linesman.core import hotsql
from linesman.cwmp.models import DeviceTask, TaskState


def enqueue(
    device_id: int,
    method: str,
    args: dict[str, Any] | None = None,
    *,
    handler: str = "",
    operation_id: int | None = None,
) -> DeviceTask:
    """Queue an RPC: one prepared INSERT (several per first contact and per operation)."""
    task = DeviceTask(
        device_id=device_id,
        method=method,
        args=args or {},
        handler=handler,
        operation_id=operation_id,
    )
    hotsql.insert(task)
    return task


def cancel_for_operation(operation_id: int, reason: str = "cancelled") -> int:
    """Cancel an operation's tasks that the device has not answered yet."""
    # Plain SQL: every operation that ends runs this, thousands a minute in a bulk job.
    return hotsql.update_where(
        DeviceTask,
        {"state": TaskState.CANCELLED, "finished_at": timezone.now(), "fault_string": reason},
        {"operation": operation_id, "state": (TaskState.QUEUED, TaskState.SENT)},
    )


_PENDING_SQL = (
    f"SELECT 1 FROM {DeviceTask._meta.db_table} WHERE device_id = %s AND state IN (%s, %s) LIMIT 1"
)


def has_pending(device_id: int) -> bool:
    """Whether the device has RPCs queued or sent and not yet answered (on the hot path of
    every periodic session, hence plain SQL)."""
    return hotsql.exists(_PENDING_SQL, [device_id, TaskState.QUEUED.value, TaskState.SENT.value])


_NEXT_TASK = hotsql.Lookup(
    lambda device_id: DeviceTask.objects.filter(
        device_id=device_id, state=TaskState.QUEUED
    ).order_by("id")[:1],
    int,
)


def next_task(device_id: int) -> DeviceTask | None:
    """The device's oldest queued RPC (asked at every step of a session)."""
    return _NEXT_TASK.first(device_id)


#: Why a requeued RPC went back to the queue (its fault_string until it is sent again):
#: the session broke (the device dropped it, crashed, or informed anew), or the device
#: went on in the session without answering.
SESSION_BROKE = "session broke before the answer"
NOT_ANSWERED = "not answered in the session"


@transaction.atomic
def requeue_unanswered(device_id: int) -> int:
    """A session ended half-way: its sent-but-unanswered RPCs go back to the queue.

    Each send counted as an attempt (`DeviceTask.attempts`); the session engine gives up on
    an RPC at the attempt limit instead of sending it again.
    """
    return DeviceTask.objects.filter(device_id=device_id, state=TaskState.SENT).update(
        state=TaskState.QUEUED, session_key="", fault_string=SESSION_BROKE
    )
