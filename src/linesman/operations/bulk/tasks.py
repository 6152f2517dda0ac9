"""Huey tasks of bulk jobs: the start at execute_at, connection requests, batch runners.

Thin wrappers over `runner`. A job's `priority` becomes the Huey priority of its tasks
(the Redis queue honours it; the SQLite queue runs tasks in time order).
"""

from __future__ import annotations

from django.utils import timezone
from huey.contrib.djhuey import db_task

from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk.models import BulkJob


@db_task()
def start_bulk_job(job_id: int) -> bool:
    return bulk_runner.start(job_id)


@db_task()
def kick_bulk_operations(job_id: int, op_pks: list[int]) -> dict[str, int]:
    return bulk_runner.kick(job_id, op_pks)


@db_task()
def run_bulk_batches(job_id: int) -> int:
    return bulk_runner.run_batches(job_id)


@db_task(priority=max(bulk_runner.HUEY_PRIORITY.values()))  # frees slots: never waits behind
def record_bulk_progress(job_id: int) -> int:
    return bulk_runner.record_progress(job_id)


def schedule_start(job: BulkJob) -> None:
    """Queue the job's start for its execute_at (at once if that has passed)."""
    priority = bulk_runner.huey_priority(job)
    if job.execute_at > timezone.now():
        start_bulk_job.schedule(args=(job.pk,), eta=job.execute_at, priority=priority)
    else:
        start_bulk_job(job.pk, priority=priority)


class HueyQueue:
    """The runner's next steps as Huey tasks, with the job's priority."""

    def schedule_start(self, job: BulkJob) -> None:
        schedule_start(job)

    def start(self, job_id: int, priority: int) -> None:
        start_bulk_job(job_id, priority=priority)

    def kick(self, job_id: int, op_pks: list[int], priority: int) -> None:
        kick_bulk_operations(job_id, op_pks, priority=priority)

    def run_batches(self, job_id: int, priority: int) -> None:
        run_bulk_batches(job_id, priority=priority)

    def record_progress(self, job_id: int) -> None:
        record_bulk_progress(job_id)


bulk_runner.use_queue(HueyQueue())
