"""Huey tasks of the ACS: connection requests with retries and exponential backoff."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from linesman.cwmp import connreq
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.inventory.models import Device

MAX_ATTEMPTS = 4
BASE_DELAY = 5  # seconds; then 10, 20


@db_task()
def connection_request(device_id: int, attempt: int = 1) -> bool:
    """Ask the device to connect; retried with backoff while it has work waiting."""
    device = Device.objects.select_related("type").filter(pk=device_id).first()
    if device is None or not connreq.reachable(device):
        return False
    if attempt > 1 and not _work_waits(device_id):
        return False  # the work that asked for it was done or withdrawn meanwhile
    waiting = _active_operation(device_id)
    outcome = connreq.send(device)
    if waiting is not None:
        _note_on_operation(waiting, device, outcome)
    if outcome.ok or attempt >= MAX_ATTEMPTS or outcome.cause in connreq.PERMANENT_CAUSES:
        return outcome.ok
    if _work_waits(device_id):
        connection_request.schedule(
            args=(device_id, attempt + 1), delay=BASE_DELAY * 2 ** (attempt - 1)
        )
    return False


def _active_operation(device_id: int) -> int | None:
    from linesman.operations.models import ACTIVE_STATES, Operation

    return (
        Operation.objects.filter(device_id=device_id, state__in=ACTIVE_STATES)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )


def _note_on_operation(op_id: int, device: Device, outcome: connreq.Outcome) -> None:
    """The methods tried and the one that worked, in the output of the operation that
    asked for the connection request (it may have finished meanwhile: noted all the same)."""
    from django.db import transaction

    from linesman.operations.models import Operation

    with transaction.atomic():
        op = Operation.objects.select_for_update().filter(pk=op_id).first()
        if op is None:
            return
        op.output = {
            **op.output,
            "connection_request": {
                "methods": connreq.methods_of(device),
                "method": outcome.method if outcome.ok else None,
                "ok": outcome.ok,
                "cause": outcome.cause,
            },
        }
        op.save(update_fields=["output"])


def _work_waits(device_id: int) -> bool:
    return DeviceTask.objects.filter(device_id=device_id, state=TaskState.QUEUED).exists()
