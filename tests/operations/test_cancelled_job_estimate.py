"""A cancelled job's "expected by" does not move, even while batch targets still settle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linesman.operations.bulk.api.serializers import estimated_completion
from linesman.operations.bulk.models import BulkJob, BulkJobStatus


def test_a_cancelled_job_still_settling_is_expected_at_its_cancel_time():
    cancelled = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    job = BulkJob(
        status=BulkJobStatus.CANCELLED,
        started_at=cancelled - timedelta(minutes=5),
        cancelled_at=cancelled,
        estimated_duration_minutes=30,
        running_devices=3,
        succeeded_devices=2,
    )
    for later in (cancelled + timedelta(minutes=1), cancelled + timedelta(hours=1)):
        assert estimated_completion(job, now=later) == cancelled
