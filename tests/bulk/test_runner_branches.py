"""Corners of the bulk job runner that the broader tests pass by: a runner with no task
queue, attribute jobs a device cannot start, a request to a single device that fails (with
and without fail-fast), an outcome recorded twice, a one-device status refresh, the
connection requests a restart sends again, and a job cancelled with nothing left pending.

As in test_runner.py, tasks run inline and transactions really commit; connection
requests go to listeners on 127.0.0.1.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from linesman.cwmp.models import ConnectionRequestLog, DeviceTask
from linesman.inventory.models import Device
from linesman.operations import engine
from linesman.operations import services as operations
from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from linesman.operations.models import DesiredAttribute, Operation, OperationState
from tests.bulk.jobs import active_ops, create, point_urls
from tests.cwmp.cr_listeners import recording_listener

pytestmark = pytest.mark.django_db(transaction=True)

SSID = "Device.WiFi.SSID.1.SSID"


def counts(job: BulkJob) -> tuple[int, int, int, int]:
    job.refresh_from_db()
    return (
        job.running_devices,
        job.succeeded_devices,
        job.failed_devices,
        job.skipped_devices,
    )


# --- the task queue ----------------------------------------------------------------------


def test_without_a_task_queue_an_ended_operation_says_what_is_missing(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000"])
    real = bulk_runner._queue()
    bulk_runner.use_queue(None)
    try:
        with pytest.raises(RuntimeError) as raised:
            bulk_runner.operation_ended(job.pk)
    finally:
        bulk_runner.use_queue(real)
    assert str(raised.value) == ("no task queue: linesman.operations.bulk.tasks was never imported")
    # The "a task is queued" mark is not left behind for a task that never was.
    assert cache.get(f"linesman:bulk-progress-queued:{job.pk}") is None


# --- starting devices --------------------------------------------------------------------


def test_a_set_attr_job_stores_nothing_for_a_device_it_cannot_start(noc, fleet):
    Device.objects.filter(pk=fleet[0].pk).update(is_active=False)
    job = create(
        noc,
        operation="set.attr",
        serial_numbers=["R000", "R001"],
        variables=[{"variable_name": SSID, "notification": "passive"}],
    )
    off = BulkJobTarget.objects.get(job=job, device=fleet[0])
    assert (off.state, off.cause) == ("failed", "not_applicable")
    (op,) = active_ops(job)
    assert op.device_id == fleet[1].pk and op.kind == "set.attr"
    task = DeviceTask.objects.get(operation=op)
    assert task.method == "SetParameterAttributes"
    assert task.args["parameters"] == [
        {
            "name": SSID,
            "notification_change": True,
            "notification": 1,
            "access_list_change": False,
            "access_list": [],
        }
    ]
    # Only the device that runs the operation has the attribute as desired.
    assert list(DesiredAttribute.objects.values_list("device_id", "variable_name")) == [
        (fleet[1].pk, SSID)
    ]


def test_a_deleted_jobs_fill_starts_nothing(noc, fleet):
    job = create(noc, operation_type="reboot", schedule={"execute_at": "2031-01-01T00:00:00Z"})
    job_id = job.pk
    job.delete()
    assert bulk_runner.fill(job_id) == 0
    assert not Operation.objects.filter(bulk_job_id=job_id).exists()


# --- connection requests -----------------------------------------------------------------


def test_a_lone_device_whose_request_fails_waits_for_a_retry(noc, fleet, task_clock):
    Device.objects.filter(pk=fleet[0].pk).update(connection_request_url="http://127.0.0.1:9/x")
    job = create(noc, operation_type="reboot", serial_numbers=["R000"])
    assert counts(job) == (1, 0, 0, 0)
    (op,) = active_ops(job)
    assert op.state == "initiated"
    assert [s.args for s in task_clock.scheduled() if s.name == "connection_request"] == [
        (fleet[0].pk, 2)
    ]
    assert list(ConnectionRequestLog.objects.values_list("device_id", "ok", "status_code")) == [
        (fleet[0].pk, False, None)
    ]


def _comes_in_anyway(path: str) -> int:
    """A device that starts its session on the request (its operation goes out) but whose
    answer to the request itself is an error."""
    from django.db import connection

    Operation.objects.filter(device__serial_number=path.rsplit("/", 1)[-1]).update(
        state=OperationState.DISPATCHED
    )
    connection.close()
    return 503


def test_with_fail_fast_a_device_that_came_in_anyway_keeps_its_operation(noc, fleet):
    with recording_listener(on_request=_comes_in_anyway) as listener:
        Device.objects.filter(pk=fleet[0].pk).update(connection_request_url=listener.url("cr/R000"))
        job = create(
            noc,
            operation_type="reboot",
            serial_numbers=["R000"],
            options={"validate_connectivity": True},
        )
    (op,) = Operation.objects.filter(bulk_job_id=job.pk)
    assert op.state == "dispatched" and op.error == ""
    assert counts(job) == (1, 0, 0, 0)
    assert BulkJobTarget.objects.get(job=job).state == "running"
    assert list(ConnectionRequestLog.objects.values_list("ok", "status_code")) == [(False, 503)]


class _RecordingKicks:
    """The real queue, noting each batch of connection requests asked of it."""

    def __init__(self, real):
        self.real = real
        self.kicks: list[list[int]] = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def kick(self, job_id: int, op_pks: list[int], priority: int) -> None:
        self.kicks.append(op_pks)
        self.real.kick(job_id, op_pks, priority)


def test_after_a_restart_operations_already_picked_up_get_no_request(noc, fleet, cr_server):
    point_urls(fleet[:1], cr_server, dead=0, refusing=0)
    job = create(noc, operation_type="reboot", serial_numbers=["R000"])
    assert ConnectionRequestLog.objects.count() == 1
    Operation.objects.filter(bulk_job_id=job.pk).update(state=OperationState.DISPATCHED)
    kicked = BulkJobTarget.objects.get(job=job).kicked_at
    recording = _RecordingKicks(bulk_runner._queue())
    bulk_runner.use_queue(recording)
    try:
        report = bulk_runner.resume(after_restart=True)
    finally:
        bulk_runner.use_queue(recording.real)
    assert report == {
        "started": 0,
        "recorded": 0,
        "filled": 0,
        "restarted": 0,
        "released": 0,
        "kicked": 0,
    }
    assert recording.kicks == []  # not even an empty batch is queued
    assert ConnectionRequestLog.objects.count() == 1
    assert BulkJobTarget.objects.get(job=job).kicked_at == kicked


# --- outcomes ----------------------------------------------------------------------------


def test_an_outcome_is_counted_once_however_often_it_is_recorded(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"])
    done, busy = sorted(active_ops(job), key=lambda op: op.device_id)
    # Still running: nothing to count yet.
    assert bulk_runner.record_operation(busy.pk) is False
    engine.finish(done, OperationState.COMPLETED)
    assert counts(job) == (1, 1, 0, 0)
    # Recorded already (by the engine's hook): a second recording counts nothing.
    assert bulk_runner.record_operation(done.pk) is False
    # An operation of no job, and one that no longer exists, count nothing either.
    single = operations.start_operation(device=fleet[5], kind="reboot")
    engine.finish(single, OperationState.COMPLETED)
    assert bulk_runner.record_operation(single.pk) is False
    assert bulk_runner.record_operation(10**9) is False
    assert counts(job) == (1, 1, 0, 0)
    engine.finish(busy, OperationState.COMPLETED)
    assert counts(job) == (0, 2, 0, 0) and job.status == "completed"


@pytest.mark.parametrize(
    ("dead", "refusing", "state", "cause", "code"),
    [
        (0, 0, "succeeded", "", 200),
        (0, 1, "failed", "authentication_failures", 401),
    ],
)
def test_a_one_device_status_refresh_records_its_probe(
    noc,
    fleet,
    cr_server,
    dead,
    refusing,
    state,
    cause,
    code,
):
    point_urls(fleet[:1], cr_server, dead=dead, refusing=refusing)
    job = create(noc, operation_type="status_refresh", serial_numbers=["R000"])
    target = BulkJobTarget.objects.get(job=job)
    assert (target.state, target.cause) == (state, cause)
    assert target.result["status_code"] == code
    assert target.result["reachable"] is (state == "succeeded")
    job.refresh_from_db()
    assert job.status == ("completed" if state == "succeeded" else "failed")


# --- cancelling --------------------------------------------------------------------------


def cancel(actor, job: BulkJob):
    return actor.client.delete(f"/api/v1/inventory_device_serial_headless_operation/{job.pk}/")


def test_a_job_cancelled_with_nothing_pending_ends_cancelled_once(noc, fleet):
    from linesman.core import events

    heard: list = []
    events.subscribe(heard.append, ("bulk_job.finished",))
    try:
        job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"])
        assert counts(job) == (2, 0, 0, 0)
        response = cancel(noc, job)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "cancelled" and body["completed_at"] is not None
        assert counts(job) == (0, 0, 0, 2)
        assert job.status == "cancelled" and job.finished_at is not None
        ended = job.finished_at
        # Cancelling again changes nothing, its end time included.
        assert cancel(noc, job).status_code == 200
    finally:
        events.unsubscribe(heard.append)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.finished_at == ended
    # Its end is announced once (with which status: see the next test).
    assert [e.data["job_id"] for e in heard] == [job.pk]


def test_a_job_cancelled_with_nothing_pending_is_announced_as_cancelled(noc, fleet):
    from linesman.core import events

    heard: list = []
    events.subscribe(heard.append, ("bulk_job.finished",))
    try:
        job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"])
        assert cancel(noc, job).status_code == 200
    finally:
        events.unsubscribe(heard.append)
    assert [e.data["status"] for e in heard] == ["cancelled"]
