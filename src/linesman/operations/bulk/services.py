"""Bulk jobs across many devices (the headless operation endpoints): the service.

Creating, cancelling and finding jobs happens here, for the API and the CLI alike; running
them is `runner`'s work. `on_operation_finished` is the engine's hook: a device
operation that belongs to a job ended.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from linesman.audit import services as audit
from linesman.audit.models import AuditAction
from linesman.operations import engine
from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk.models import (
    FINAL_JOB_STATES,
    BulkJob,
    BulkJobStatus,
    BulkJobTarget,
    TargetState,
)
from linesman.operations.bulk.spec import JobSpec
from linesman.operations.models import ACTIVE_STATES, Operation
from linesman.tenancy.models import Organization, Role

log = logging.getLogger(__name__)


class JobFinished(Exception):
    """The job already ended; it cannot be cancelled."""


class SystemAccess:
    """What the local CLI may do: everything, like a superuser (it owns the database)."""

    is_superuser = True
    org_ids = None

    def has_role(self, org_id, role) -> bool:
        return True

    def can_see_org(self, org_id) -> bool:
        return True

    def restrict(self, queryset, field: str = "organization_id", allow_shared: bool = False):
        return queryset


def create_job(spec: JobSpec, *, user=None) -> BulkJob:
    """Record a job with its frozen targets and schedule its start at execute_at."""
    total = len(spec.targets)
    estimate = bulk_runner.estimate_seconds(
        spec.operation_type, total, spec.max_concurrency, spec.options.get("timeout_minutes")
    )
    with transaction.atomic():
        job = BulkJob.objects.create(
            operation_type=spec.operation_type,
            addressing=spec.addressing,
            priority=spec.priority,
            execute_at=spec.execute_at,
            filters=spec.filters,
            device_types=sorted({t.type_short_name for t in spec.targets}),
            options=spec.options,
            params=spec.params,
            max_concurrency=spec.max_concurrency,
            estimated_duration_minutes=max(1, -(-estimate // 60)),
            total_devices=total,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            created_by_name=audit.actor_name(user),
        )
        job.organizations.set(spec.organization_ids)
        BulkJobTarget.objects.bulk_create(
            (
                BulkJobTarget(
                    job=job,
                    device_id=t.device_id,
                    serial_number=t.serial_number,
                    name=t.name,
                    organization_id=t.organization_id,
                )
                for t in spec.targets
            ),
            batch_size=1000,
        )
        audit.record(
            user=user,
            action=AuditAction.CREATE,
            instance=job,
            organization_id=spec.organization_ids[0] if len(spec.organization_ids) == 1 else None,
            message=f"bulk job {job.pk}: {spec.operation_type} on {total} devices at "
            f"{spec.execute_at.isoformat()}",
        )
        from linesman.operations.bulk import tasks as bulk_tasks

        transaction.on_commit(lambda: bulk_tasks.schedule_start(job))
    return job


def cancel_job(job_id: int, *, user=None) -> BulkJob:
    """Cancel a job: nothing new starts, and its running device operations end `cancelled`
    at once, their RPCs not yet sent withdrawn (an RPC already on the wire may still be
    answered; the operation's record then says so). The job has nothing running after."""
    with transaction.atomic():
        job = bulk_runner._lock(job_id)
        if job is None:
            raise BulkJob.DoesNotExist(job_id)
        if job.status in FINAL_JOB_STATES and job.status != BulkJobStatus.CANCELLED:
            raise JobFinished(f"Job {job.pk} already ended ({job.status}).")
        from linesman.operations import services

        running = list(
            Operation.objects.filter(bulk_job_id=job.pk, state__in=ACTIVE_STATES).select_related(
                "device"
            )
        )
        if job.status == BulkJobStatus.CANCELLED and not running:
            return job
        # The job is cancelled before its operations are counted: the last one counted
        # settles the job, which must end (and be announced) cancelled, not completed.
        now = timezone.now()
        skipped = job.targets.filter(state=TargetState.PENDING).update(
            state=TargetState.SKIPPED, cause="cancelled", finished_at=now
        )
        job.skipped_devices += skipped
        job.status = BulkJobStatus.CANCELLED
        job.cancelled_at = job.cancelled_at or now
        job.save(update_fields=[*bulk_runner.COUNTER_FIELDS, "cancelled_at", "updated_at"])
        for op in running:
            services.cancel_operation(op, user=user, reason=f"bulk job {job.pk} cancelled")
            # Counted now, not on commit: the job answers with nothing running.
            bulk_runner.record_operation(op.pk)
        job = bulk_runner._lock(job_id)
        bulk_runner._settle(job)
        job.save(update_fields=[*bulk_runner.COUNTER_FIELDS, "updated_at"])
        audit.record(
            user=user,
            action=AuditAction.UPDATE,
            instance=job,
            changes={"status": ["active", "cancelled"]},
            message=f"bulk job {job.pk} cancelled; {skipped} devices skipped, "
            f"{len(running)} running operations cancelled",
        )
    return job


def visible_jobs(access):
    """Jobs whose every organization the caller belongs to (all of them for superusers)."""
    jobs = BulkJob.objects.all()
    if access.is_superuser:
        return jobs
    mine = list(access.org_ids or [])
    foreign = Organization.objects.exclude(pk__in=mine)
    return jobs.filter(
        Exists(BulkJob.organizations.through.objects.filter(bulkjob_id=OuterRef("pk")))
    ).exclude(organizations__in=foreign)


def may_cancel(access, job: BulkJob) -> bool:
    return all(access.has_role(o, Role.OPERATOR) for o in organization_ids(job))


def organization_ids(job: BulkJob) -> list[int]:
    return sorted(job.organizations.values_list("pk", flat=True))


def on_operation_finished(op) -> None:
    """A device operation of a bulk job ended; the job's progress counts it.

    The engine announces every finished operation (`engine.subscribe_finished`), on commit
    of its final state, often inside a device's CWMP session: a failure here must not break
    that session, and `resume` repeats whatever did not happen.
    """
    if op.bulk_job_id is None:
        return
    try:
        bulk_runner.operation_ended(op.bulk_job_id)
    except Exception:
        log.exception("bulk job %s: recording operation %s failed", op.bulk_job_id, op.pk)


def resume_jobs(now=None, *, after_restart: bool = False) -> dict[str, int]:
    """The housekeeping sweep's call: bring unfinished jobs in step; never raises."""
    try:
        return bulk_runner.resume(now, after_restart=after_restart)
    except Exception:
        log.exception("resuming bulk jobs failed; the next sweep retries")
        return {}


def _operation_finished(op) -> None:
    # Looked up at call time, so the hook is the module's current on_operation_finished.
    on_operation_finished(op)


engine.subscribe_finished(_operation_finished)
