"""Huey tasks for operations: time-outs, and the periodic housekeeping sweeps."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from linesman.operations import engine


@db_task()
def expire_operation(op_pk: int) -> None:
    engine.expire(op_pk)


@db_periodic_task(crontab(minute="*"))
def sweep_timeouts() -> None:
    """Safety net for time-outs whose scheduled task was lost (e.g. the queue was wiped)."""
    from django.utils import timezone

    from linesman.operations.models import ACTIVE_STATES, Operation

    for pk in Operation.objects.filter(
        state__in=ACTIVE_STATES, deadline__lte=timezone.now()
    ).values_list("pk", flat=True):
        engine.expire(pk)


@db_periodic_task(crontab(minute="*"))
def sweep_status() -> None:
    """Mark devices that stopped informing as Down, without anyone polling the API."""
    from linesman.inventory.services import mark_silent_devices_down

    mark_silent_devices_down()
