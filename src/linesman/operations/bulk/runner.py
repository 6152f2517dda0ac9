"""Running bulk jobs: the start at execute_at, bounded fan-out, outcomes, and resume.

Device-operation jobs (reboot, sync, get, set, firmware_upgrade, bulk_serial_sync, ...)
keep at most `max_concurrency` targets running: `fill` claims pending targets and starts
their operations through the operation service, in the same transaction, so a target is
running exactly when its operation exists. When an operation ends, the engine calls
`bulk.on_operation_finished`, which asks for the job's progress to be recorded
(`operation_ended`): a task records every outcome since the last time and fills the freed
slots, with one lock and one save of the job for the lot, off the device's session.

Probe and snapshot jobs (status_refresh, inventory_audit) contact no operation: a Huey task
works through them batch by batch (`run_batches`).

Every state change is a row update inside a transaction that holds the job row's lock
(SQLite serialises writers anyway), and targets only move pending -> running -> done by
conditional updates, so no target is started twice. `resume`, called by the housekeeping
sweep of every process, repairs what a crash can leave behind: a scheduled start that was
lost, an outcome that was never recorded, a slot never refilled, a connection request never
sent, a batch runner that died.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from linesman.core import events, hotsql
from linesman.core.times import iso_z as _stamp
from linesman.operations.bulk.models import (
    FINAL_JOB_STATES,
    BulkJob,
    BulkJobStatus,
    BulkJobTarget,
    BulkOperationType,
    TargetState,
)
from linesman.operations.models import ACTIVE_STATES, FINAL_STATES, Operation, OperationState

log = logging.getLogger(__name__)

#: Bulk operation type -> the kind of device operation it runs on each target.
OPERATION_KINDS: dict[str, str] = {
    BulkOperationType.REBOOT: "reboot",
    BulkOperationType.FACTORY: "factory",
    BulkOperationType.DEVICE_FACTORY: "device_factory",
    BulkOperationType.SYNC: "sync",
    BulkOperationType.RECONF: "reconf",
    BulkOperationType.FIRMWARE_UPGRADE: "firmware",
    BulkOperationType.GET: "get",
    BulkOperationType.SET: "set",
    BulkOperationType.ADD_OBJECT: "add.obj",
    BulkOperationType.DELETE_OBJECT: "del.obj",
    BulkOperationType.BULK_SERIAL_SYNC: "get",
    BulkOperationType.GET_ATTRIBUTES: "get.attr",
    BulkOperationType.SET_ATTRIBUTES: "set.attr",
}
BATCH_TYPES = (BulkOperationType.STATUS_REFRESH, BulkOperationType.INVENTORY_AUDIT)
#: Snapshots contact no device, so they go in larger batches than max_concurrency.
AUDIT_BATCH = 500
#: A batch runner silent this long is taken for dead; its running targets are retried.
LEASE = timedelta(seconds=60)
#: A scheduled start this late was lost (its worker died); the sweep starts the job.
START_GRACE = timedelta(seconds=30)
#: Huey priorities (Redis honours them; higher runs first).
HUEY_PRIORITY = {"low": 10, "normal": 50, "high": 90}

#: DeviceInfo parameters that bulk_serial_sync reads, and the device fields they update.
DEVICE_INFO = {
    "SerialNumber": None,
    "Manufacturer": "manufacturer",
    "ManufacturerOUI": "oui",
    "ModelName": None,
    "ProductClass": "product_class",
    "HardwareVersion": "hardware_version",
    "SoftwareVersion": "software_version",
}
FIRMWARE_FIELDS = ("software_version", "hardware_version")

COUNTER_FIELDS = [
    "status",
    "running_devices",
    "succeeded_devices",
    "failed_devices",
    "skipped_devices",
    "peak_running",
    "error_summary",
    "started_at",
    "finished_at",
    "heartbeat_at",
]


class TaskQueue(Protocol):
    """Where the runner hands its next steps: `bulk.tasks` (Huey) registers itself here at
    import, so the runner needs no import of the tasks that call it."""

    def schedule_start(self, job: BulkJob) -> None: ...

    def start(self, job_id: int, priority: int) -> None: ...

    def kick(self, job_id: int, op_pks: list[int], priority: int) -> None: ...

    def run_batches(self, job_id: int, priority: int) -> None: ...

    def record_progress(self, job_id: int) -> None: ...


_task_queue: TaskQueue | None = None


def use_queue(queue: TaskQueue) -> None:
    global _task_queue
    _task_queue = queue


def _queue() -> TaskQueue:
    if _task_queue is None:
        raise RuntimeError("no task queue: linesman.operations.bulk.tasks was never imported")
    return _task_queue


def huey_priority(job: BulkJob) -> int:
    return HUEY_PRIORITY.get(job.priority, HUEY_PRIORITY["normal"])


_JOB_FOR_UPDATE = hotsql.Lookup(
    lambda pk: BulkJob.objects.select_for_update().filter(pk=pk)[:1], int
)
_OPERATION = hotsql.Lookup(lambda pk: Operation.objects.filter(pk=pk)[:1], int)
_RUNNING_TARGET = hotsql.Lookup(
    lambda job_id, op_pk: BulkJobTarget.objects.filter(
        job_id=job_id, operation_id=op_pk, state=TargetState.RUNNING
    )[:1],
    int,
    int,
)

_USER = hotsql.Lookup(lambda pk: get_user_model().objects.filter(pk=pk)[:1], int)
_NEXT_PENDING = hotsql.Lookup(
    lambda job_id: (
        BulkJobTarget.objects.filter(job_id=job_id, state=TargetState.PENDING)
        .select_related("device", "device__type")
        .order_by("id")[:1]
    ),
    int,
)


def _lock(job_id: int) -> BulkJob | None:
    return _JOB_FOR_UPDATE.first(job_id)


def _save(job: BulkJob) -> None:
    hotsql.update_fields(BulkJob, job.pk, {name: getattr(job, name) for name in COUNTER_FIELDS})


def _transition(
    job: BulkJob, target_pk: int, old: str, new: str, summary_key: str = "", **fields: Any
) -> bool:
    """Move one target from `old` to `new` (if it still is `old`) and count it on the job
    (a failure in the error summary under `summary_key`, by default its cause)."""
    if not hotsql.update_fields(BulkJobTarget, target_pk, {"state": new, **fields}, {"state": old}):
        return False
    if old == TargetState.RUNNING:
        job.running_devices -= 1
    if new == TargetState.RUNNING:
        job.running_devices += 1
        job.peak_running = max(job.peak_running, job.running_devices)
    elif new == TargetState.SUCCEEDED:
        job.succeeded_devices += 1
    elif new == TargetState.FAILED:
        job.failed_devices += 1
        cause = summary_key or fields.get("cause") or "other"
        job.error_summary = {**job.error_summary, cause: job.error_summary.get(cause, 0) + 1}
    elif new == TargetState.SKIPPED:
        job.skipped_devices += 1
    return True


def _settle(job: BulkJob) -> None:
    """Give the job its final status once nothing is pending or running."""
    if job.running_devices or job.pending_devices:
        return
    if job.status == BulkJobStatus.IN_PROGRESS:
        if not job.failed_devices:
            job.status = BulkJobStatus.COMPLETED
        elif not job.succeeded_devices:
            job.status = BulkJobStatus.FAILED
        else:
            job.status = BulkJobStatus.COMPLETED_WITH_ERRORS
    if job.status in FINAL_JOB_STATES and job.finished_at is None:
        job.finished_at = timezone.now()
        events.announce(
            "bulk_job.finished",
            job_id=job.pk,
            status=job.status,
            succeeded=job.succeeded_devices,
            failed=job.failed_devices,
            skipped=job.skipped_devices,
        )


# --- starting ----------------------------------------------------------------------------


def start(job_id: int) -> bool:
    """Start a scheduled job whose time has come (never before execute_at)."""
    now = timezone.now()
    with transaction.atomic():
        job = _lock(job_id)
        if job is None or job.status != BulkJobStatus.SCHEDULED:
            return False
        if job.execute_at > now:
            # Woken early (the job was rescheduled, or a clock differs): wait again.

            transaction.on_commit(lambda: _queue().schedule_start(job))
            return False
        job.status = BulkJobStatus.IN_PROGRESS
        job.started_at = job.heartbeat_at = now
        _settle(job)
        _save(job)
    log.info("bulk job %s (%s) started", job_id, job.operation_type)
    if job.operation_type in BATCH_TYPES:
        run_batches(job_id)
    else:
        fill(job_id)
    return True


# --- device operations -------------------------------------------------------------------


class _Taken(Exception):
    """The target was no longer pending when its operation was to be linked to it."""


class _NotStarted(Exception):
    def __init__(self, cause: str, message: str):
        super().__init__(message)
        self.cause = cause


def _device_info_variables(device) -> list[dict[str, str]]:
    root = device.data_model_root or "Device."
    return [{"variable_name": f"{root}DeviceInfo.{name}"} for name in DEVICE_INFO]


def _start_device(job: BulkJob, target: BulkJobTarget, user) -> Operation:
    """Start the target's device operation; _NotStarted says why it could not."""
    from linesman.operations import services

    device = target.device
    if device is None:
        raise _NotStarted("device_deleted", "The device was deleted after the job was created.")
    kind = OPERATION_KINDS[job.operation_type]
    timeout = job.options.get("timeout_minutes")
    common = {
        "user": user,
        "bulk_job_id": job.pk,
        "timeout": max(1, round(timeout * 60)) if timeout else None,
        # Connection requests go out in batches from a task, not one by one from here.
        "connection_request": False,
        # Overdue operations are ended by the housekeeping sweep, not a task per device.
        "schedule_expiry": False,
    }
    try:
        if job.operation_type == BulkOperationType.FIRMWARE_UPGRADE:
            return _start_firmware(job, device, common)
        if job.operation_type == BulkOperationType.SET_ATTRIBUTES:
            from linesman.operations import attributes

            # Stored as each device's desired attributes, as a single-device request does.
            return attributes.set_attributes(
                device=device, attributes=job.params.get("variables") or [], **common
            )
        params: dict[str, Any] = {}
        if job.operation_type == BulkOperationType.BULK_SERIAL_SYNC:
            params["variables"] = _device_info_variables(device)
        elif job.params.get("variables"):
            params["variables"] = job.params["variables"]
        # This device's own savepoint is the caller's (`_fill`): none nested within it.
        return services.start_operation(
            device=device, kind=kind, params=params, savepoint=False, **common
        )
    except services.OperationConflict as exc:
        raise _NotStarted("conflicts", str(exc)) from None
    except services.NotApplicable as exc:
        raise _NotStarted("not_applicable", str(exc)) from None


def _start_firmware(job: BulkJob, device, common: dict[str, Any]) -> Operation:
    from linesman.inventory import services as inventory
    from linesman.inventory.models import FirmwareImage
    from linesman.operations import services

    image = FirmwareImage.objects.filter(pk=job.params.get("firmware_image")).first()
    if image is None:
        raise _NotStarted("not_applicable", "The firmware image was deleted.")
    services.check_can_start(device)
    # The image becomes the device's desired firmware, as a PATCH would make it.
    device = inventory.update_device(
        user=common["user"],
        device=device,
        data={"firmware_image": image, "firmware_image_is_pending": True},
    )
    return services.start_firmware_upgrade(device=device, **common)


def fill(job_id: int) -> int:
    """Start pending targets until max_concurrency are running; returns how many started."""
    return _advance(job_id, record_ended=False)[1]


def _advance(job_id: int, *, record_ended: bool) -> tuple[int, int]:
    """Under the job's lock: count the operations that ended (with `record_ended`), start
    pending targets in the free slots, settle and save the job; the connection requests of
    the operations started go out once that is committed. Returns (recorded, started)."""
    with transaction.atomic():
        job = _lock(job_id)
        recorded = 0
        if record_ended:
            # Cleared once the job is locked, not before: an operation that ends while
            # this task waits for the lock finds the key set and queues nothing, so at
            # most one task waits behind the one running. (Cleared before the lock, every
            # ending queued another, and all the worker's threads ended up waiting on this
            # job's lock while the connection requests of the devices just started waited
            # for a free thread.) What ends from here on queues a new task; what ended
            # before is read below.
            from django.core.cache import cache

            cache.delete(_progress_queued_key(job_id))
            if job is not None:
                for target in _ENDED_TARGETS.all(job_id):
                    recorded += _record_target(job, target.pk, target.operation)
        if job is None:
            return 0, 0
        started = _fill(job)
        if not recorded and started is None:
            return 0, 0
        _settle(job)
        _save(job)
        priority = huey_priority(job)
    if started:
        _kick_after_commit(job_id, started, priority)
    return recorded, len(started or ())


def _creator(job: BulkJob):
    return _USER.first(job.created_by_id) if job.created_by_id else None


def _fill(job: BulkJob) -> list[int] | None:
    """`fill` on a locked job, without saving it: the operations started, or None when the
    job takes no new devices (not running, or a batch job)."""
    if job.status != BulkJobStatus.IN_PROGRESS or job.operation_type in BATCH_TYPES:
        return None
    started: list[int] = []
    user = None
    while job.running_devices < job.max_concurrency:
        room = job.max_concurrency - job.running_devices
        # One slot is the steady state (an operation ended, the next device starts); at
        # a job's tail nothing is pending however many slots are free.
        batch = _NEXT_PENDING.all(job.pk)
        if batch and room > 1:
            batch = list(
                job.targets.filter(state=TargetState.PENDING)
                .select_related("device", "device__type")
                .order_by("id")[:room]
            )
        if not batch:
            break
        if user is None:
            user = _creator(job)
        for target in batch:
            now = timezone.now()
            try:
                with transaction.atomic():
                    op = _start_device(job, target, user)
                    # Claimed with its operation in one write; a target no longer pending
                    # (taken meanwhile) rolls its operation back with the savepoint.
                    if not _transition(
                        job,
                        target.pk,
                        TargetState.PENDING,
                        TargetState.RUNNING,
                        started_at=now,
                        operation=op,
                        kicked_at=now,
                    ):
                        raise _Taken
            except _Taken:
                continue
            except _NotStarted as exc:
                reason = (exc.cause, str(exc))
            except Exception as exc:  # one bad device must not stall the whole job
                log.exception("bulk job %s: starting device %s failed", job.pk, target.pk)
                reason = ("internal_error", f"{type(exc).__name__}: {exc}")
            else:
                started.append(op.pk)
                continue
            _transition(
                job,
                target.pk,
                TargetState.PENDING,
                TargetState.FAILED,
                cause=reason[0],
                error=reason[1][:2000],
                started_at=now,
                finished_at=now,
            )
    return started


def _kick_after_commit(job_id: int, op_pks: list[int], priority: int) -> None:

    transaction.on_commit(lambda: _queue().kick(job_id, op_pks, priority))


def kick(job_id: int, op_pks: list[int]) -> dict[str, int]:
    """Connection requests for operations just started, concurrently.

    With `validate_connectivity` ("fail unreachable devices fast"), a device that never
    contacted the ACS fails at once as `never_connected`, one without a connection request
    URL as `unreachable`, and one that does not answer (or refuses our credentials) with
    that cause. Otherwise its operation stays queued for its next inform while the ACS
    retries the connection request with backoff; a device without a connection request URL
    is left to its next periodic inform.
    """
    from linesman.cwmp import connreq
    from linesman.cwmp import tasks as cwmp_tasks
    from linesman.operations import engine

    job = hotsql.first(BulkJob.objects.filter(pk=job_id).only("options"))
    validate = bool(job and job.options.get("validate_connectivity"))
    started = list(
        Operation.objects.filter(pk__in=op_pks, state=OperationState.INITIATED).select_related(
            "device", "device__type"
        )
    )
    ops = []
    failed = 0
    for op in started:
        device = op.device
        if validate and device.last_connection is None:
            failed += 1
            engine.finish(
                op,
                OperationState.FAILED,
                error="The device has never contacted the ACS.",
                cause="never_connected",
            )
        elif validate and not device.connection_request_url:
            failed += 1
            engine.finish(
                op,
                OperationState.FAILED,
                error="The device has no connection request URL: it cannot be asked to "
                "connect, only waited for until its next inform.",
                cause="unreachable",
            )
        elif device.connection_request_url:
            ops.append(op)
    if not ops:
        return {"sent": 0, "failed": failed}
    outcomes = {
        o.device_id: o
        for o in connreq.send_many([op.device for op in ops], concurrency=min(100, len(ops)))
    }
    for op in ops:
        outcome = outcomes.get(op.device_id)
        if outcome is None or outcome.ok:
            continue
        failed += 1
        if validate:
            # A device that informed on its own meanwhile is reachable after all.
            if not Operation.objects.filter(pk=op.pk, state=OperationState.INITIATED).exists():
                continue
            engine.finish(
                op,
                OperationState.FAILED,
                error=f"Connection request failed: {outcome.error}",
                cause=outcome.cause,
            )
        else:
            cwmp_tasks.connection_request.schedule(
                args=(op.device_id, 2), delay=cwmp_tasks.BASE_DELAY
            )
    return {"sent": len(ops), "failed": failed}


def _unreached_cause(op: Operation) -> str:
    """Why a device never started its operation, from its connection request log."""
    from linesman.cwmp.models import ConnectionRequestLog

    last = (
        ConnectionRequestLog.objects.filter(device_id=op.device_id, time__gte=op.initiated_at)
        .order_by("-id")
        .first()
    )
    if last is None or last.ok:
        return ""
    return "authentication_failures" if last.status_code in (401, 403) else "connection_timeouts"


def _operation_outcome(op: Operation) -> tuple[str, str, str, dict[str, Any]]:
    result: dict[str, Any] = {"operation_id": op.operation_id, "operation_state": op.state}
    result.update(op.output or {})
    if op.state == OperationState.COMPLETED:
        return TargetState.SUCCEEDED, "", "", result
    if op.state == OperationState.CANCELLED:
        # Withdrawn (the job or the operation was cancelled), not failed by the device.
        return TargetState.SKIPPED, "cancelled", op.error or op.state, result
    if op.state == OperationState.TIMED_OUT:
        # A device never reached is a connectivity problem, not a slow operation.
        cause = (op.dispatched_at is None and _unreached_cause(op)) or "operation_timeouts"
    else:
        cause = op.error_cause or "device_faults"
    return TargetState.FAILED, cause, op.error or op.state, result


def _summary_key(cause: str, result: dict[str, Any]) -> str:
    """A device fault is counted by its code and message ("device_faults: 9002 Internal
    error"), so the job's summary says what the devices answered, not only that they
    refused."""
    fault = result.get("fault")
    if cause != "device_faults" or not isinstance(fault, dict) or not fault.get("code"):
        return cause
    return f"device_faults: {fault['code']} {fault.get('message') or ''}".strip()[:120]


def _sync_inventory(job: BulkJob, op: Operation) -> dict[str, Any]:
    """bulk_serial_sync: what the device reported goes into the inventory."""
    from linesman.inventory import services as inventory
    from linesman.inventory.models import Device

    device = hotsql.first(Device.objects.filter(pk=op.device_id))
    if device is None:
        return {}
    values = op.output.get("values", {})
    reported = {
        name: value
        for path, value in values.items()
        for name in DEVICE_INFO
        if path.endswith(f".DeviceInfo.{name}")
    }
    data: dict[str, Any] = {}
    for name, field in DEVICE_INFO.items():
        if field is None or name not in reported:
            continue
        if field in FIRMWARE_FIELDS and not job.options.get("update_firmware_info", True):
            continue
        if (getattr(device, field) or "") != reported[name]:
            data[field] = reported[name]
    changes = {field: [getattr(device, field), value] for field, value in data.items()}
    if data:
        inventory.update_device(user=job.created_by, device=device, data=data)
    serial = reported.get("SerialNumber")
    return {
        "device_info": reported,
        "inventory_updates": changes,
        "serial_matches": serial is None or serial == device.serial_number,
    }


def record_operation(op_pk: int) -> bool:
    """Count a finished operation on its job (once); returns whether it was counted now."""
    with transaction.atomic():
        op = _OPERATION.first(op_pk)
        if op is None or op.bulk_job_id is None or op.state in ACTIVE_STATES:
            return False
        job = _lock(op.bulk_job_id)
        if job is None or not _record(job, op):
            return False
        _settle(job)
        _save(job)
    return True


def _record(job: BulkJob, op: Operation) -> bool:
    """`record_operation` on a locked job, without saving it."""
    target = _RUNNING_TARGET.first(job.pk, op.pk)
    if target is None:
        return False
    return _record_target(job, target.pk, op)


def _record_target(job: BulkJob, target_pk: int, op: Operation) -> bool:
    """Count the ended `op` of the job's running target `target_pk` on the locked job."""
    state, cause, error, result = _operation_outcome(op)
    if state == TargetState.SUCCEEDED and job.operation_type == "bulk_serial_sync":
        result.update(_sync_inventory(job, op))
    return _transition(
        job,
        target_pk,
        TargetState.RUNNING,
        state,
        summary_key=_summary_key(cause, result),
        cause=cause,
        error=error[:2000],
        result=result,
        finished_at=op.completed_at or timezone.now(),
    )


def _progress_queued_key(job_id: int) -> str:
    """Set while a `record_progress` task of the job is queued and not yet started: the
    operations that end meanwhile are recorded by that task, not by one task each."""
    return f"linesman:bulk-progress-queued:{job_id}"


def operation_ended(job_id: int) -> None:
    """An operation of the job ended (and was committed): have it recorded, with the
    others ending about now, by one `record_progress` task."""
    from django.core.cache import cache

    # `add` is atomic (Redis SET NX; the file cache's worst case is a second task, which
    # finds nothing left). An expired key only means one more task, never a lost outcome:
    # the housekeeping sweep's `resume` records what nothing else did.
    key = _progress_queued_key(job_id)
    if cache.add(key, 1, timeout=60):
        try:
            _queue().record_progress(job_id)
        except Exception:
            cache.delete(key)  # else the next minute's outcomes would wait for the sweep
            raise


_ENDED_TARGETS = hotsql.Lookup(
    lambda job_id: BulkJobTarget.objects.filter(
        job_id=job_id, state=TargetState.RUNNING, operation__state__in=FINAL_STATES
    ).select_related("operation"),
    int,
)


def record_progress(job_id: int) -> int:
    """Record every operation of the job that has ended since the last call and start
    pending targets in the freed slots; returns how many outcomes were recorded."""
    return _advance(job_id, record_ended=True)[0]


# --- probe and snapshot jobs -------------------------------------------------------------


def _claim_batch(job_id: int) -> list[BulkJobTarget]:
    with transaction.atomic():
        job = _lock(job_id)
        if job is None or job.status != BulkJobStatus.IN_PROGRESS:
            return []
        size = (
            AUDIT_BATCH
            if job.operation_type == BulkOperationType.INVENTORY_AUDIT
            else job.max_concurrency
        )
        room = max(0, size - job.running_devices)
        now = timezone.now()
        batch = list(job.targets.filter(state=TargetState.PENDING).order_by("id")[:room])
        claimed = [
            t
            for t in batch
            if _transition(job, t.pk, TargetState.PENDING, TargetState.RUNNING, started_at=now)
        ]
        job.heartbeat_at = now
        _save(job)
    return claimed


def _probe(targets: list[BulkJobTarget]) -> list[tuple[int, str, str, str, dict]]:
    """status_refresh: a connection request to each device, then its status updated."""
    from linesman.cwmp import connreq
    from linesman.inventory.models import Device
    from linesman.inventory.services import device_is_up, set_status

    devices = Device.objects.select_related("type").in_bulk([t.device_id for t in targets])
    reachable = [d for d in devices.values() if d.connection_request_url]
    outcomes = {
        o.device_id: o for o in connreq.send_many(reachable, concurrency=len(reachable) or 1)
    }
    results = []
    for target in targets:
        device = devices.get(target.device_id)
        if device is None:
            results.append((target.pk, TargetState.FAILED, "device_deleted", "Device deleted.", {}))
            continue
        outcome = outcomes.get(device.pk)
        ok = bool(outcome and outcome.ok)
        set_status(device, device_is_up(device) or ok)
        result = {"reachable": ok, "status": device.status}
        if outcome is None:
            results.append(
                (
                    target.pk,
                    TargetState.FAILED,
                    "no_connection_url",
                    "The device has no connection request URL (it never informed).",
                    result,
                )
            )
            continue
        result.update(status_code=outcome.status_code, elapsed_ms=outcome.elapsed_ms)
        if ok:
            results.append((target.pk, TargetState.SUCCEEDED, "", "", result))
        else:
            results.append((target.pk, TargetState.FAILED, outcome.cause, outcome.error, result))
    return results


def snapshot_fields(device, pending: str | None) -> dict[str, Any]:
    """inventory_audit: what the inventory says about one device (no device contact)."""
    return {
        "device_id": device.pk,
        "serial_number": device.serial_number,
        "name": device.name,
        "organization_id": device.organization_id,
        "type": device.type.short_name,
        "status": device.status,
        "is_active": device.is_active,
        "manufacturer": device.manufacturer or "",
        "product_class": device.product_class or "",
        "software_version": device.software_version or "",
        "hardware_version": device.hardware_version or "",
        "firmware_image": device.firmware_image.version if device.firmware_image_id else "",
        "firmware_image_is_pending": device.firmware_image_is_pending,
        "location": device.effective_location_name,
        "address": device.address or "",
        "last_connection": _stamp(device.last_connection),
        "status_change": _stamp(device.status_change),
        "pending_settings": pending or "",
    }


def _snapshot(targets: list[BulkJobTarget]) -> list[tuple[int, str, str, str, dict]]:
    from linesman.inventory.models import Device
    from linesman.operations.pending import pending_settings_for

    devices = Device.objects.select_related("type", "location", "firmware_image").in_bulk(
        [t.device_id for t in targets]
    )
    pending = pending_settings_for(devices.values(), detailed=True)
    results = []
    for target in targets:
        device = devices.get(target.device_id)
        if device is None:
            results.append((target.pk, TargetState.FAILED, "device_deleted", "Device deleted.", {}))
        else:
            snapshot = snapshot_fields(device, pending.get(device.pk))
            results.append((target.pk, TargetState.SUCCEEDED, "", "", snapshot))
    return results


def _record_batch(job_id: int, results: list[tuple[int, str, str, str, dict]]) -> None:
    with transaction.atomic():
        job = _lock(job_id)
        if job is None:
            return
        now = timezone.now()
        for target_pk, state, cause, error, result in results:
            _transition(
                job,
                target_pk,
                TargetState.RUNNING,
                state,
                cause=cause,
                error=error[:2000],
                result=result,
                finished_at=now,
            )
        job.heartbeat_at = now
        _settle(job)
        _save(job)


def run_batches(job_id: int) -> int:
    """Work through a probe or snapshot job; returns how many targets this call handled."""
    handled = 0
    while True:
        claimed = _claim_batch(job_id)
        if not claimed:
            return handled
        job = BulkJob.objects.only("operation_type").get(pk=job_id)
        if job.operation_type == BulkOperationType.STATUS_REFRESH:
            results = _probe(claimed)
        else:
            results = _snapshot(claimed)
        _record_batch(job_id, results)
        handled += len(claimed)


# --- crash recovery ----------------------------------------------------------------------


def _release_stale(job_id: int, now) -> int:
    """A dead batch runner's claimed targets go back to pending (probes are repeatable)."""
    with transaction.atomic():
        job = _lock(job_id)
        if job is None:
            return 0
        released = 0
        for pk in job.targets.filter(
            state=TargetState.RUNNING, operation__isnull=True, started_at__lt=now - LEASE
        ).values_list("pk", flat=True):
            released += _transition(job, pk, TargetState.RUNNING, TargetState.PENDING)
        job.heartbeat_at = now
        _save(job)
    return released


def _rekick(job: BulkJob, now) -> int:
    """Connection requests again for operations not yet sent (lost in a crash)."""
    targets = job.targets.filter(
        state=TargetState.RUNNING, operation__state=OperationState.INITIATED
    )
    op_pks = list(targets.values_list("operation_id", flat=True))
    if op_pks:
        BulkJobTarget.objects.filter(operation_id__in=op_pks).update(kicked_at=now)

        _queue().kick(job.pk, op_pks, huey_priority(job))
    return len(op_pks)


def _fail_orphans() -> int:
    """Running targets whose operation row is gone (its device was deleted) end failed."""
    orphans = (
        BulkJobTarget.objects.filter(state=TargetState.RUNNING, operation__isnull=True)
        .exclude(job__operation_type__in=BATCH_TYPES)
        .values_list("job_id", "pk")
    )
    failed = 0
    for job_id, pk in list(orphans):
        with transaction.atomic():
            job = _lock(job_id)
            if job is None:
                continue
            failed += _transition(
                job,
                pk,
                TargetState.RUNNING,
                TargetState.FAILED,
                cause="device_deleted",
                error="The device and its operation were deleted during the job.",
                finished_at=timezone.now(),
            )
            _settle(job)
            _save(job)
    return failed


def resume(now=None, *, after_restart: bool = False) -> dict[str, int]:
    """Bring every unfinished job back in step with the database (idempotent).

    `after_restart`: the caller's process has just started, so connection requests that a
    crashed process had queued (in memory, or in a queue that lost them) are sent again
    for operations the devices have not picked up yet.

    Returns what it did: jobs `started` late, device outcomes `recorded`, devices `filled`
    into free slots, batch runners `restarted` and the targets they had claimed `released`,
    connection requests `kicked` again.
    """
    now = now or timezone.now()
    report = {
        "started": 0,
        "recorded": 0,
        "filled": 0,
        "restarted": 0,
        "released": 0,
        "kicked": 0,
    }
    overdue = BulkJob.objects.filter(
        status=BulkJobStatus.SCHEDULED, execute_at__lte=now - START_GRACE
    )
    for job in overdue.only("pk", "priority"):
        _queue().start(job.pk, huey_priority(job))
        report["started"] += 1
    lost = (
        Operation.objects.filter(bulk_targets__state=TargetState.RUNNING)
        .exclude(state__in=ACTIVE_STATES)
        .values_list("pk", flat=True)
    )
    for op_pk in list(lost):
        report["recorded"] += record_operation(op_pk)
    report["recorded"] += _fail_orphans()
    for job in BulkJob.objects.filter(status=BulkJobStatus.IN_PROGRESS):
        if job.operation_type in BATCH_TYPES:
            if job.heartbeat_at is None or job.heartbeat_at < now - LEASE:
                report["released"] += _release_stale(job.pk, now)
                _queue().run_batches(job.pk, huey_priority(job))
                report["restarted"] += 1
            continue
        report["filled"] += fill(job.pk)
        if after_restart:
            report["kicked"] += _rekick(job, now)
    return report


def estimate_seconds(operation_type: str, devices: int, concurrency: int, timeout=None) -> int:
    """How long a job should take: waves of `concurrency` devices, each wave one operation."""
    from linesman.operations.timings import TIMINGS

    if operation_type == BulkOperationType.INVENTORY_AUDIT:
        return max(1, devices // 2000)
    if operation_type == BulkOperationType.STATUS_REFRESH:
        per_device = 3
    else:
        per_device = TIMINGS.get(OPERATION_KINDS[operation_type], (60, 900))[0]
        if timeout:
            per_device = min(per_device, int(timeout * 60))
    waves = math.ceil(devices / max(1, concurrency))
    return waves * per_device
