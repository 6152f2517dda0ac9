"""A bulk job's device operations are timed out by the housekeeping sweep, not by a task per
device: no expiry task is queued for them, and the sweep ends each one past its deadline
(not before), counted on the job as an operation time-out. (A single operation's expiry
task: tests/queue/test_delayed_tasks.py.)"""

from __future__ import annotations

import pytest

from linesman import housekeeping
from linesman.operations.bulk.models import BulkJob
from linesman.operations.models import Operation
from tests.bulk.conftest import URL as BULK_URL

pytestmark = pytest.mark.django_db


def test_a_jobs_operations_expire_by_the_sweep_at_their_deadline(
    task_clock, noc, seed_fleet, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = noc.client.post(
            BULK_URL,
            {
                "operation_type": "reboot",
                "device_filters": {"serial_numbers": ["RT101A", "RT101B"]},
                "options": {"timeout_minutes": 5},
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    job = BulkJob.objects.get(pk=int(response.json()["id"]))
    ops = Operation.objects.filter(bulk_job_id=job.pk)
    assert ops.count() == 2
    assert [s for s in task_clock.scheduled() if s.name == "expire_operation"] == []

    task_clock.advance(5 * 60 - 5)
    housekeeping.sweep_once()
    assert set(ops.values_list("state", flat=True)) == {"initiated"}

    task_clock.advance(10)
    with django_capture_on_commit_callbacks(execute=True):
        housekeeping.sweep_once()
    assert set(ops.values_list("state", flat=True)) == {"timed_out"}
    assert set(ops.values_list("error_cause", flat=True)) == {"operation_timeouts"}
    job.refresh_from_db()
    assert job.status == "failed"
    assert (job.failed_devices, job.running_devices) == (2, 0)
    assert job.error_summary == {"operation_timeouts": 2}
