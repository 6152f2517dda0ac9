"""Connection requests of a bulk job's operations (`kick`) and its start time: retries left
to the task queue's schedule, failures named by their cause, a start that came too early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.cwmp.models import ConnectionRequestLog
from linesman.inventory.models import Device
from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from linesman.operations.models import Operation
from tests.bulk.jobs import active_ops, create, finish_all, point_urls

pytestmark = pytest.mark.django_db(transaction=True)


def retries(task_clock) -> list[tuple]:
    return sorted(s.args for s in task_clock.scheduled() if s.name == "connection_request")


def test_without_validation_a_failed_request_is_retried_later_from_the_schedule(
    noc,
    fleet,
    cr_server,
    task_clock,
):
    point_urls(fleet[:3], cr_server, dead=1, refusing=1)
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001", "R002"])
    job.refresh_from_db()
    assert job.running_devices == 3 and job.failed_devices == 0
    # The refused and the unanswered device get their second attempt 5 s later.
    assert retries(task_clock) == [(fleet[0].pk, 2), (fleet[1].pk, 2)]
    first = task_clock.scheduled()[0].eta
    assert (
        timedelta(seconds=4) < first - timezone.now().replace(tzinfo=None) <= timedelta(seconds=5)
    )
    assert ConnectionRequestLog.objects.filter(device=fleet[2], ok=True).count() == 1
    task_clock.advance(6)
    assert ConnectionRequestLog.objects.filter(device=fleet[0]).count() == 2


def test_with_validation_a_failed_request_fails_the_operation_naming_why(
    noc,
    fleet,
    cr_server,
    task_clock,
):
    point_urls(fleet[:2], cr_server, dead=1, refusing=1)
    job = create(
        noc,
        operation_type="reboot",
        serial_numbers=["R000", "R001"],
        options={"validate_connectivity": True},
    )
    job.refresh_from_db()
    assert job.failed_devices == 2 and job.status == "failed"
    assert retries(task_clock) == []  # failed now, not retried
    refused = BulkJobTarget.objects.get(job=job, device=fleet[0])
    assert refused.cause == "connection_refused"
    assert refused.error == "Connection request failed: the device refused the connection"
    denied = BulkJobTarget.objects.get(job=job, device=fleet[1])
    assert denied.cause == "authentication_failures"
    assert denied.error == (
        "Connection request failed: the device did not accept the connection request credentials"
    )
    op = Operation.objects.get(pk=denied.operation_id)
    assert op.state == "failed" and op.error == denied.error


def test_a_device_reached_by_its_request_is_not_failed(noc, fleet, cr_server):
    point_urls(fleet[:1], cr_server, dead=0, refusing=0)
    job = create(
        noc,
        operation_type="reboot",
        serial_numbers=["R000"],
        options={"validate_connectivity": True},
    )
    job.refresh_from_db()
    assert job.running_devices == 1 and job.failed_devices == 0
    assert bulk_runner.kick(job.pk, [op.pk for op in active_ops(job)]) == {"sent": 1, "failed": 0}


def test_kick_reports_what_it_sent_and_failed(noc, fleet, cr_server):
    job = create(
        noc,
        operation_type="reboot",
        serial_numbers=["R000", "R001", "R002"],
        schedule={"execute_at": "2031-01-01T00:00:00Z"},
        options={"validate_connectivity": True},
    )
    point_urls(fleet[:2], cr_server, dead=0, refusing=1)
    Device.objects.filter(pk=fleet[2].pk).update(connection_request_url="")
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now())
    assert bulk_runner.start(job.pk)
    job.refresh_from_db()
    # R000: refused with 401; R001 answered; R002 has no URL (unreachable).
    assert job.error_summary == {"authentication_failures": 1, "unreachable": 1}
    assert job.running_devices == 1
    assert BulkJobTarget.objects.get(job=job, device=fleet[2]).error == (
        "The device has no connection request URL: it cannot be asked to connect, only "
        "waited for until its next inform."
    )
    # Kicking only ended or unknown operations again does nothing.
    ended = [t.operation_id for t in BulkJobTarget.objects.filter(job=job, state="failed")]
    assert bulk_runner.kick(job.pk, ended) == {"sent": 0, "failed": 0}


def test_a_job_woken_before_its_time_goes_back_to_the_schedule(
    noc,
    fleet,
    task_clock,
    django_capture_on_commit_callbacks,
):
    job = create(
        noc,
        operation_type="reboot",
        serial_numbers=["R000"],
        schedule={"execute_at": "2031-01-01T00:00:00Z"},
    )
    soon = timezone.now() + timedelta(minutes=3)
    BulkJob.objects.filter(pk=job.pk).update(execute_at=soon)
    before = [s for s in task_clock.scheduled() if s.name == "start_bulk_job"]
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_runner.start(job.pk) is False
    starts = [s for s in task_clock.scheduled() if s.name == "start_bulk_job"]
    assert len(starts) == len(before) + 1
    assert starts[0].eta == soon.replace(tzinfo=None)
    job.refresh_from_db()
    assert job.status == "scheduled" and job.started_at is None
    task_clock.advance(3 * 60 + 1)
    job.refresh_from_db()
    assert job.status == "in_progress" and len(active_ops(job)) == 1


def test_a_job_started_twice_runs_each_device_once(noc, fleet):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 3})
    assert bulk_runner.fill(job.pk) == 0  # three running: no room
    finish_all(job)
    job.refresh_from_db()
    assert job.succeeded_devices == 12 and job.peak_running == 3
    assert not bulk_runner.start(job.pk)
    assert Operation.objects.filter(bulk_job_id=job.pk).count() == 12


def test_kick_counts_what_it_sent_and_what_failed(noc, fleet, cr_server):
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001", "R002", "R003"])
    ops = {op.device_id: op.pk for op in active_ops(job)}
    assert len(ops) == 4  # waiting for their next informs: no URL, nothing sent
    point_urls(fleet[:3], cr_server, dead=1, refusing=1)
    Device.objects.filter(pk=fleet[3].pk).update(
        last_connection=None, connection_request_url=f"{cr_server}/ok/x"
    )
    BulkJob.objects.filter(pk=job.pk).update(options={"validate_connectivity": True})
    # R003 never connected; R000 refused and R001 denied; R002 answered.
    assert bulk_runner.kick(job.pk, list(ops.values())) == {"sent": 3, "failed": 3}
    states = dict(Operation.objects.filter(bulk_job_id=job.pk).values_list("device_id", "state"))
    assert states == {
        fleet[0].pk: "failed",
        fleet[1].pk: "failed",
        fleet[2].pk: "initiated",
        fleet[3].pk: "failed",
    }
    job.refresh_from_db()
    assert job.error_summary == {
        "never_connected": 1,
        "connection_refused": 1,
        "authentication_failures": 1,
    }
