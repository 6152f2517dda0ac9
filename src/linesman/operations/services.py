"""The operation service: every entry point starts, cancels and inspects operations here.

It validates the request, refuses a second active operation on a device (409), records
the Operation, queues its first RPCs for the device's next session, and asks the device to
connect now (a connection request). The session engine then drives it (see `engine`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from linesman.audit import services as audit
from linesman.audit.models import AuditAction
from linesman.core import events, hotsql
from linesman.inventory.models import Device
from linesman.operations import engine
from linesman.operations.models import (
    ACTIVE_STATES,
    SEED_OPERATIONS,
    Operation,
    OperationKind,
    OperationState,
)
from linesman.operations.timings import estimate_seconds, timeout_seconds

#: The order several operations requested at once run in: reset first, then read the
#: device's configuration, then write ours, then reboot to apply it.
STEP_ORDER = ["factory", "device_factory", "sync", "reconf", "reboot"]


class OperationError(Exception):
    status_code = 400


class UnknownOperation(OperationError):
    status_code = 400


class OperationConflict(OperationError):
    status_code = 409


class NotApplicable(OperationError):
    status_code = 422


def parse_kind(name: Any, allowed: tuple[str, ...] = SEED_OPERATIONS) -> str:
    if not isinstance(name, str) or name not in allowed:
        raise UnknownOperation(f"Unknown operation {name!r}; use one of: {', '.join(allowed)}.")
    return name


def order_steps(kinds: list[str]) -> list[str]:
    if "factory" in kinds and "device_factory" in kinds:
        raise UnknownOperation("factory and device_factory cannot be requested together.")
    return sorted(set(kinds), key=STEP_ORDER.index)


def active_operation(device: Device) -> Operation | None:
    return engine.active_operation(device.pk)


def check_can_start(device: Device) -> None:
    """Raise if an operation cannot start on this device now."""
    current = active_operation(device)
    if current is not None:
        raise OperationConflict(
            f"Operation {current.operation_id} ({current.kind}) is {current.state} on this device."
        )


def firmware_requested(device: Device, data: dict[str, Any]) -> bool:
    """Whether a device update asks for a firmware upgrade (image + pending flag)."""
    if not data.get("firmware_image_is_pending"):
        return False
    return (data.get("firmware_image") or device.firmware_image) is not None


def _actor(user) -> str:
    return audit.actor_name(user)


def start_operation(
    *,
    device: Device,
    kind: str,
    user=None,
    steps: list[str] | None = None,
    params: dict[str, Any] | None = None,
    bulk_job_id: int | None = None,
    timeout: int | None = None,
    connection_request: bool = True,
    actor: str | None = None,
    schedule_expiry: bool = True,
    savepoint: bool = True,
) -> Operation:
    """Record an operation, queue its first RPCs, and ask the device to connect.

    `savepoint=False` for a caller that rolls back to a savepoint of its own when this
    fails (a bulk job starting its devices): PostgreSQL spends a round trip on each.

    `actor` names who started it when there is no user (the local command line: the OS
    user or its `--user`), for the history's "by" and the audit trail. Without
    `schedule_expiry`, no task waits for its deadline: the housekeeping sweep ends it
    instead, within `LINESMAN_SWEEP_INTERVAL` seconds of it (bulk jobs: one scheduled task
    per device would be a queue write per device)."""
    steps = steps or [kind]
    # A device never seen yet is inactive too; its operations wait for its first session.
    # One that has been seen and was then switched off is deactivated.
    if not device.is_active and device.last_connection is not None:
        raise NotApplicable("The device is deactivated; activate it before running operations.")
    now = timezone.now()
    params = dict(params or {})
    params["steps"] = steps
    op = Operation(
        device=device,
        kind=steps[0] if kind in SEED_OPERATIONS else kind,
        params=params,
        initiated_by=user if getattr(user, "is_authenticated", False) else None,
        initiated_by_name=actor if actor and user is None else _actor(user),
        estimated_completion=now + timedelta(seconds=estimate_seconds(steps)),
        deadline=now + timedelta(seconds=timeout or timeout_seconds(steps)),
        bulk_job_id=bulk_job_id,
    )
    try:
        with transaction.atomic(savepoint=savepoint):
            check_can_start(device)
            hotsql.insert(op)  # save() without its machinery: a bulk job starts thousands
            engine.plan_step(op)
            audit.record(
                user=user,
                actor=op.initiated_by_name,
                action=AuditAction.OPERATION,
                instance=device,
                device_id=device.pk,
                message=f"{op.operation_id} {'+'.join(steps)} initiated",
                changes={"operation": [None, op.operation_id], "state": [None, op.state]},
            )
    except IntegrityError:
        # The partial unique index caught a concurrent request that won the race.
        raise OperationConflict("Another operation is already active on this device.") from None
    events.announce(
        "operation.started",
        device_id=device.pk,
        organization_id=device.organization_id,
        operation_id=op.operation_id,
        kind=op.kind,
        steps=steps,
        bulk_job_id=bulk_job_id,
    )
    if op.state in ACTIVE_STATES and (schedule_expiry or connection_request):
        _after_commit(op, connection_request, schedule_expiry)
    return op


def _after_commit(op: Operation, connection_request: bool, schedule_expiry: bool) -> None:
    from linesman.operations import tasks

    def kick() -> None:
        if schedule_expiry:
            tasks.expire_operation.schedule(args=(op.pk,), eta=op.deadline)
        if connection_request:
            from linesman.cwmp import tasks as cwmp_tasks

            cwmp_tasks.connection_request(op.device_id)

    transaction.on_commit(kick)


def start_firmware_upgrade(*, device: Device, user=None, **kwargs) -> Operation:
    image = device.firmware_image
    if image is None:
        raise NotApplicable("The device has no firmware image set.")
    if image.device_type_id != device.type_id:
        raise NotApplicable("The firmware image is for another device type.")
    return start_operation(
        device=device,
        kind=OperationKind.FIRMWARE,
        user=user,
        params={"firmware_image": image.pk, "version": image.version, **kwargs.pop("params", {})},
        **kwargs,
    )


def upgrade_firmware(*, device: Device, image, user=None, actor: str | None = None) -> Operation:
    """Set a device's firmware image and start the upgrade (what the API's PATCH with
    {firmware_image, firmware_image_is_pending: true} does): a busy device is refused
    before anything changes."""
    from linesman.inventory import services as inventory

    if image.device_type_id != device.type_id:
        raise NotApplicable("The firmware image is for another device type.")
    with transaction.atomic():
        check_can_start(device)
        inventory.update_device(
            user=user,
            device=device,
            data={"firmware_image": image, "firmware_image_is_pending": True},
        )
        return start_firmware_upgrade(device=device, user=user, actor=actor)


def cancel_operation(op: Operation, *, user=None, reason: str = "cancelled") -> Operation:
    """End an active operation `cancelled` at once: RPCs not yet sent are withdrawn. One
    already on the wire may still be carried out by the device; the result says so."""
    from linesman.cwmp.models import DeviceTask, TaskState

    on_wire = list(
        DeviceTask.objects.filter(operation_id=op.pk, state=TaskState.SENT).values_list(
            "method", flat=True
        )
    )
    if on_wire:
        reason += (
            f"; {', '.join(on_wire)} had already been sent to the device, which may still "
            "carry it out"
        )
    return engine.finish(op, OperationState.CANCELLED, error=reason, cause="cancelled", user=user)


def withdraw_unstarted(op: Operation, *, user=None, reason: str) -> Operation:
    """Cancel `op` if the device has not started on it yet; the operation as it is now
    (`cancelled` when it was withdrawn).

    For a caller that queued an operation only on condition that the device could be
    reached now: the device may have come in on its own between the queueing and the
    failed connection request, and an operation it is already carrying out stays.
    """
    return engine.finish(
        op,
        OperationState.CANCELLED,
        error=reason,
        cause="cancelled",
        user=user,
        only_from={OperationState.INITIATED},
    )


def last_operation(device: Device) -> Operation | None:
    return device.operations.order_by("-id").first()


#: What an operation that has sent nothing yet waits for.
FIRST_CONTACT = "first_contact"
NEXT_CONTACT = "next_contact"


def waiting(op: Operation) -> dict[str, Any]:
    """What an operation is waiting for before it can start, for people to read.

    {"waiting_for": "first_contact" | "next_contact" | None, "next_contact_expected":
    datetime | None}. An operation that has sent nothing yet waits for the device's first
    contact when it never contacted the ACS, or for its next contact (last contact + its
    inform interval) when it cannot be asked to connect now: it has no connection-request
    URL, or the connection requests since the operation started failed.
    """
    none: dict[str, Any] = {"waiting_for": None, "next_contact_expected": None}
    if op.state != OperationState.INITIATED:
        return none
    device = op.device
    if device.last_connection is None:
        return {"waiting_for": FIRST_CONTACT, "next_contact_expected": None}
    expected = device.last_connection + timedelta(seconds=device.update_frequency)
    if not device.connection_request_url or _connection_requests_failed(op):
        return {"waiting_for": NEXT_CONTACT, "next_contact_expected": expected}
    return none


def _connection_requests_failed(op: Operation) -> bool:
    from linesman.cwmp.models import ConnectionRequestLog

    last = hotsql.first(
        ConnectionRequestLog.objects.filter(
            device_id=op.device_id, time__gte=op.initiated_at
        ).order_by("-id")
    )
    return last is not None and not last.ok
