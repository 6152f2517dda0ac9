"""A scheduled bulk job starts from the real task queue's schedule at execute_at, not before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.operations.bulk.models import BulkJob
from linesman.operations.models import Operation
from tests.bulk.conftest import URL as BULK_URL

pytestmark = pytest.mark.django_db


def test_a_scheduled_bulk_job_starts_at_execute_at(
    task_clock, noc, seed_fleet, django_capture_on_commit_callbacks, caplog
):
    execute_at = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = noc.client.post(
            BULK_URL,
            {
                "operation_type": "reboot",
                "device_filters": {"serial_numbers": ["RT101A", "RT101B"]},
                "schedule": {"execute_at": execute_at.isoformat()},
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    job = BulkJob.objects.get(pk=int(response.json()["id"]))
    starts = [s for s in task_clock.scheduled() if s.name == "start_bulk_job"]
    assert [s.args for s in starts] == [(job.pk,)]

    task_clock.advance(10 * 60 - 5)
    job.refresh_from_db()
    assert job.status == "scheduled" and job.started_at is None
    assert not Operation.objects.filter(bulk_job_id=job.pk).exists()

    caplog.set_level("INFO", logger="linesman.operations.bulk.runner")
    task_clock.advance(10)
    job.refresh_from_db()
    assert job.status == "in_progress" and job.started_at >= execute_at
    started_lines = [r.getMessage() for r in caplog.records if "started" in r.getMessage()]
    assert started_lines == [f"bulk job {job.pk} (reboot) started"]
    started = Operation.objects.filter(bulk_job_id=job.pk)
    assert sorted(o.device.serial_number for o in started) == ["RT101A", "RT101B"]
    assert {o.kind for o in started} == {"reboot"}
