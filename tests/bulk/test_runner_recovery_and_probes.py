"""What the bulk runner's recovery, probes and inventory writes guarantee, pinned down where
mutation testing (issue #16) found the broader tests silent: which targets a sweep hands
back from a dead batch runner, which operations a restart asks for again and how, which
devices a status refresh contacts and how many at once, and what a serial sync or a
firmware upgrade writes to the inventory and its audit trail.

As in test_runner.py, tasks run inline and transactions really commit; connection requests
go to listeners on 127.0.0.1.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.cwmp.models import ConnectionRequestLog
from linesman.inventory.models import Device, FirmwareImage
from linesman.operations import engine
from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from linesman.operations.models import Operation, OperationState
from tests.bulk.jobs import HeldProgress, active_ops, create, point_urls
from tests.conftest import make_device
from tests.cwmp.cr_listeners import recording_listener

pytestmark = pytest.mark.django_db(transaction=True)

LATER = {"execute_at": "2031-01-01T00:00:00Z"}


class _HeldQueue:
    """The real queue, except that batch runners are held, as a busy worker holds them,
    and each start and batch of connection requests asked of it is noted with its
    priority."""

    def __init__(self, real):
        self.real = real
        self.batch_runs: list[tuple[int, int]] = []
        self.kicks: list[tuple[int, list[int], int]] = []
        self.starts: list[tuple[int, int]] = []

    def start(self, job_id: int, priority: int) -> None:
        self.starts.append((job_id, priority))
        self.real.start(job_id, priority)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def run_batches(self, job_id: int, priority: int) -> None:
        self.batch_runs.append((job_id, priority))

    def kick(self, job_id: int, op_pks: list[int], priority: int) -> None:
        self.kicks.append((job_id, list(op_pks), priority))
        self.real.kick(job_id, op_pks, priority)


@pytest.fixture
def held_queue():
    held = _HeldQueue(bulk_runner._queue())
    bulk_runner.use_queue(held)
    yield held
    bulk_runner.use_queue(held.real)


def states(job: BulkJob) -> dict[str, str]:
    return dict(BulkJobTarget.objects.filter(job=job).values_list("device__serial_number", "state"))


# --- a dead batch runner -----------------------------------------------------------------


def _audit_job_claimed(noc, heartbeat, claims: dict[str, timedelta]) -> BulkJob:
    """An inventory audit in progress whose runner last beat at `heartbeat`, with the
    targets of `claims` (serial number: how long ago) claimed by it."""
    job = create(noc, operation_type="inventory_audit", schedule=LATER)
    now = timezone.now()
    BulkJob.objects.filter(pk=job.pk).update(
        status="in_progress",
        started_at=heartbeat,
        heartbeat_at=heartbeat,
        running_devices=len(claims),
        peak_running=len(claims),
    )
    for serial, ago in claims.items():
        BulkJobTarget.objects.filter(job=job, device__serial_number=serial).update(
            state="running", started_at=now - ago
        )
    return job


def test_a_restarted_batch_runner_is_not_restarted_again_before_it_runs(
    noc,
    fleet,
    held_queue,
):
    long_ago = timedelta(minutes=5)
    job = _audit_job_claimed(
        noc, timezone.now() - long_ago, {"R000": long_ago, "R001": long_ago, "R002": long_ago}
    )
    now = timezone.now()
    assert bulk_runner.resume(now)["restarted"] == 1
    assert held_queue.batch_runs == [(job.pk, 50)]
    # The dead runner's targets are pending again, for the runner just queued.
    assert set(states(job).values()) == {"pending"}
    job.refresh_from_db()
    assert job.running_devices == 0 and job.heartbeat_at == now
    # The next sweep, while that runner still waits for a worker, queues no second one.
    report = bulk_runner.resume(now + timedelta(seconds=10))
    assert report["restarted"] == 0
    assert held_queue.batch_runs == [(job.pk, 50)]


def test_a_sweep_hands_back_only_the_targets_claimed_before_the_lease(
    noc,
    fleet,
    held_queue,
):
    """The sweep reads the heartbeat before it locks the job: a runner that was slow, not
    dead, may claim a new batch in between, and keeps those targets."""
    long_ago = timedelta(minutes=5)
    job = _audit_job_claimed(
        noc,
        timezone.now() - long_ago,
        {"R000": long_ago, "R001": long_ago, "R002": timedelta(seconds=5)},
    )
    assert bulk_runner.resume()["restarted"] == 1
    found = states(job)
    assert (found["R000"], found["R001"], found["R002"]) == ("pending", "pending", "running")
    job.refresh_from_db()
    assert job.running_devices == 1


def test_a_slow_runners_late_results_for_targets_handed_back_are_not_counted(
    noc,
    fleet,
    held_queue,
):
    """A runner that was slow, not dead, reports after the sweep handed its targets back:
    they stay pending for the runner the sweep queued, which counts them once."""
    long_ago = timedelta(minutes=5)
    job = _audit_job_claimed(noc, timezone.now() - long_ago, {"R000": long_ago, "R001": long_ago})
    claimed = list(BulkJobTarget.objects.filter(job=job, state="running"))
    assert bulk_runner.resume()["released"] == 2
    bulk_runner._record_batch(job.pk, bulk_runner._snapshot(claimed))  # the slow one's
    assert set(states(job).values()) == {"pending"}
    job.refresh_from_db()
    assert (job.running_devices, job.succeeded_devices, job.status) == (0, 0, "in_progress")
    assert bulk_runner.run_batches(job.pk) == len(fleet)  # the new runner does them all
    job.refresh_from_db()
    assert (job.running_devices, job.succeeded_devices, job.status) == (
        0,
        len(fleet),
        "completed",
    )


# --- connection requests after a restart -------------------------------------------------


def test_after_a_restart_only_operations_not_yet_picked_up_are_asked_for_again(
    noc,
    fleet,
    cr_server,
):
    """In a real database single-device operations far outnumber bulk targets, so an
    operation's id is never its target's: the devices' history is made so here."""
    point_urls(fleet[:3], cr_server, dead=0, refusing=0)
    job = create(
        noc, operation_type="reboot", serial_numbers=["R000", "R001", "R002"], schedule=LATER
    )
    last_target = BulkJobTarget.objects.filter(job=job).order_by("-pk")[0].pk
    Operation.objects.create(
        pk=last_target + 1000, device=fleet[11], kind="reboot", state=OperationState.COMPLETED
    )
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now())
    assert bulk_runner.start(job.pk)
    started = {t.device.serial_number: t for t in BulkJobTarget.objects.filter(job=job)}
    assert ConnectionRequestLog.objects.count() == 3
    # R000's device came in and took its operation; R001's and R002's are still waiting.
    Operation.objects.filter(pk=started["R000"].operation_id).update(
        state=OperationState.DISPATCHED
    )
    restart = timezone.now() + timedelta(minutes=1)
    assert bulk_runner.resume(restart, after_restart=True)["kicked"] == 2
    asked = list(
        ConnectionRequestLog.objects.order_by("id").values_list("device__serial_number", flat=True)
    )
    assert sorted(asked[3:]) == ["R001", "R002"]
    kicked = dict(
        BulkJobTarget.objects.filter(job=job).values_list("device__serial_number", "kicked_at")
    )
    assert kicked["R001"] == kicked["R002"] == restart
    assert kicked["R000"] == started["R000"].kicked_at < restart


def test_after_a_restart_a_fail_fast_job_fails_a_device_its_request_no_longer_reaches(
    noc,
    fleet,
    cr_server,
):
    point_urls(fleet[:1], cr_server, dead=0, refusing=0)
    job = create(
        noc,
        operation_type="reboot",
        serial_numbers=["R000"],
        options={"validate_connectivity": True},
    )
    (op,) = active_ops(job)
    assert op.state == "initiated"  # reached, waiting for its session
    Device.objects.filter(pk=fleet[0].pk).update(connection_request_url="http://127.0.0.1:9/gone")
    assert bulk_runner.resume(after_restart=True)["kicked"] == 1
    op.refresh_from_db()
    assert (op.state, op.error_cause) == ("failed", "connection_refused")
    target = BulkJobTarget.objects.get(job=job)
    assert (target.state, target.cause) == ("failed", "connection_refused")
    job.refresh_from_db()
    assert job.status == "failed"


def test_after_a_restart_requests_are_queued_with_the_jobs_priority(
    noc,
    fleet,
    cr_server,
    held_queue,
):
    point_urls(fleet[:1], cr_server, dead=0, refusing=0)
    job = create(
        noc, operation_type="reboot", serial_numbers=["R000"], schedule={"priority": "high"}
    )
    (op,) = active_ops(job)
    held_queue.kicks.clear()
    bulk_runner.resume(after_restart=True)
    assert held_queue.kicks == [(job.pk, [op.pk], 90)]


# --- status refresh ----------------------------------------------------------------------


def test_a_status_refresh_contacts_only_the_jobs_devices(noc, fleet, cr_server):
    point_urls(fleet[:4], cr_server, dead=0, refusing=0)
    job = create(noc, operation_type="status_refresh", serial_numbers=["R000", "R001"])
    job.refresh_from_db()
    assert job.status == "completed" and job.succeeded_devices == 2
    asked = ConnectionRequestLog.objects.values_list("device__serial_number", flat=True)
    assert sorted(asked) == ["R000", "R001"]


def _job_behind_one_listener(noc, devices, operation_type: str):
    """Runs a job over `devices`, each with a connection request URL on one listener that
    answers 200 only once every device of the batch is asking at the same time (whoever
    comes first waits for the rest within the request's own 3 s), and 503 when they come
    one after the other."""
    size = len(devices)
    barrier = threading.Barrier(size, timeout=2.5)

    def all_at_once(path: str) -> int:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return 503
        return 200

    with recording_listener(on_request=all_at_once) as listener:
        for device in devices:
            Device.objects.filter(pk=device.pk).update(
                connection_request_url=listener.url(str(device.pk))
            )
        return create(
            noc,
            operation_type=operation_type,
            serial_numbers=[d.serial_number for d in devices],
            options={"max_concurrency": size},
        )


@pytest.mark.parametrize("size", [3, 101])  # 101: past connreq's default of 100 at once
def test_a_status_refresh_probes_a_whole_batch_at_once(noc, seed_orgs, types, size):
    now = timezone.now()
    devices = [
        make_device(seed_orgs[0], types["router"], f"P{i:03d}", last_connection=now)
        for i in range(size)
    ]
    job = _job_behind_one_listener(noc, devices, "status_refresh")
    job.refresh_from_db()
    assert job.status == "completed" and job.succeeded_devices == size


# --- what a job writes to the inventory --------------------------------------------------


def _report(op: Operation, output: dict) -> None:
    Operation.objects.filter(pk=op.pk).update(output=output)
    engine.finish(op, OperationState.COMPLETED)


def device_updates(device) -> list[tuple[str, dict]]:
    return list(
        AuditEntry.objects.filter(
            object_type="inventory.device", object_id=str(device.pk), action="update"
        ).values_list("actor", "changes")
    )


def test_a_serial_sync_answer_without_values_succeeds_and_changes_nothing(noc, fleet):
    job = create(noc, operation_type="bulk_serial_sync", serial_numbers=["R000"])
    (op,) = active_ops(job)
    _report(op, {})
    target = BulkJobTarget.objects.get(job=job)
    assert target.state == "succeeded"
    assert target.result["device_info"] == {} and target.result["inventory_updates"] == {}
    job.refresh_from_db()
    assert job.status == "completed"


def test_a_serial_sync_does_not_write_an_empty_value_the_inventory_lacks_too(noc, fleet):
    job = create(noc, operation_type="bulk_serial_sync", serial_numbers=["R000"])
    (op,) = active_ops(job)
    _report(
        op,
        {"values": {"Device.DeviceInfo.Manufacturer": "", "Device.DeviceInfo.ProductClass": "HG"}},
    )
    target = BulkJobTarget.objects.get(job=job)
    assert target.result["inventory_updates"] == {"product_class": [None, "HG"]}
    device = Device.objects.get(pk=fleet[0].pk)
    assert (device.manufacturer, device.product_class) == (None, "HG")


def test_a_serial_sync_changes_the_inventory_in_the_name_of_the_jobs_creator(noc, fleet):
    job = create(noc, operation_type="bulk_serial_sync", serial_numbers=["R000"])
    (op,) = active_ops(job)
    _report(op, {"values": {"Device.DeviceInfo.Manufacturer": "Acme"}})
    ((actor, changes),) = device_updates(fleet[0])
    assert actor == "noc" and changes["manufacturer"] == [None, "Acme"]


def test_a_firmware_upgrade_sets_the_desired_image_in_the_name_of_the_jobs_creator(
    noc,
    fleet,
    types,
):
    image = FirmwareImage.objects.create(device_type=types["router"], version="3.0", file="f.bin")
    create(noc, operation_type="firmware_upgrade", firmware_image=image.pk, serial_numbers=["R000"])
    ((actor, changes),) = device_updates(fleet[0])
    assert actor == "noc"
    assert changes["firmware_image"] == [None, image.pk]
    assert changes["firmware_image_is_pending"] == [False, True]


# --- what an operator reads on a failed target -------------------------------------------


def test_a_device_deleted_before_its_turn_fails_saying_so(noc, fleet):
    from linesman.inventory import services as inventory

    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"], schedule=LATER)
    inventory.delete_device(user=None, device=fleet[0])
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now())
    assert bulk_runner.start(job.pk)
    gone = BulkJobTarget.objects.get(job=job, device__isnull=True)
    assert (gone.state, gone.cause, gone.error) == (
        "failed",
        "device_deleted",
        "The device was deleted after the job was created.",
    )


def test_a_target_whose_operation_vanished_fails_saying_so(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000"])
    (op,) = active_ops(job)
    Operation.objects.filter(pk=op.pk).delete()
    assert bulk_runner.resume()["recorded"] == 1
    target = BulkJobTarget.objects.get(job=job)
    assert (target.state, target.cause, target.error) == (
        "failed",
        "device_deleted",
        "The device and its operation were deleted during the job.",
    )
    assert target.finished_at is not None


def test_with_fail_fast_a_device_that_never_connected_fails_saying_so(noc, fleet, cr_server):
    point_urls(fleet[:1], cr_server, dead=0, refusing=0)
    Device.objects.filter(pk=fleet[0].pk).update(last_connection=None)
    job = create(
        noc,
        operation_type="reboot",
        serial_numbers=["R000"],
        options={"validate_connectivity": True},
    )
    target = BulkJobTarget.objects.get(job=job)
    assert (target.state, target.cause, target.error) == (
        "failed",
        "never_connected",
        "The device has never contacted the ACS.",
    )
    assert ConnectionRequestLog.objects.count() == 0  # not even asked


def test_with_fail_fast_a_device_that_came_in_anyway_does_not_spare_the_next(noc, fleet):
    from tests.bulk.test_runner_branches import _comes_in_anyway

    with recording_listener(on_request=_comes_in_anyway) as listener:
        Device.objects.filter(pk=fleet[1].pk).update(connection_request_url=listener.url("cr/R001"))
        Device.objects.filter(pk=fleet[0].pk).update(
            connection_request_url="http://127.0.0.1:9/gone"
        )
        job = create(
            noc,
            operation_type="reboot",
            serial_numbers=["R000", "R001"],
            options={"validate_connectivity": True},
        )
    ops = dict(Operation.objects.filter(bulk_job_id=job.pk).values_list("device_id", "state"))
    assert ops == {fleet[0].pk: "failed", fleet[1].pk: "dispatched"}
    refused = BulkJobTarget.objects.get(job=job, device=fleet[0])
    assert (refused.state, refused.cause) == ("failed", "connection_refused")
    assert BulkJobTarget.objects.get(job=job, device=fleet[1]).state == "running"


def test_a_timed_out_device_is_counted_by_its_own_requests_refusal(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001", "R002"])
    ops = {op.device_id: op for op in active_ops(job)}
    before = ops[fleet[2].pk].initiated_at - timedelta(minutes=5)
    # R000 refused with 403; R001 answered 401 only to a request older than its operation.
    ConnectionRequestLog.objects.create(device=fleet[0], ok=False, status_code=403)
    old = ConnectionRequestLog.objects.create(device=fleet[1], ok=False, status_code=401)
    ConnectionRequestLog.objects.filter(pk=old.pk).update(time=before)
    ConnectionRequestLog.objects.create(device=fleet[2], ok=False, status_code=401)
    Operation.objects.filter(bulk_job_id=job.pk).update(deadline=timezone.now())
    for op in ops.values():
        engine.expire(op.pk)
    causes = dict(BulkJobTarget.objects.filter(job=job).values_list("device_id", "cause"))
    assert causes == {
        fleet[0].pk: "authentication_failures",
        fleet[1].pk: "operation_timeouts",
        fleet[2].pk: "authentication_failures",
    }


# --- snapshots and batch runners ---------------------------------------------------------


def test_a_snapshot_of_a_bare_device_says_empty_not_none(noc, fleet):
    from datetime import UTC, datetime

    seen = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    Device.objects.filter(pk=fleet[1].pk).update(last_connection=seen, status_change=seen)
    job = create(noc, operation_type="inventory_audit", serial_numbers=["R001"])
    assert BulkJobTarget.objects.get(job=job).result == {
        "device_id": fleet[1].pk,
        "serial_number": "R001",
        "name": "dev-R001",
        "organization_id": 101,
        "type": "router",
        "status": "Up",
        "is_active": True,
        "manufacturer": "",
        "product_class": "",
        "software_version": "",
        "hardware_version": "",
        "firmware_image": "",
        "firmware_image_is_pending": False,
        "location": "",
        "address": "",
        "last_connection": "2026-03-01T12:00:00Z",
        "status_change": "2026-03-01T12:00:00Z",
        "pending_settings": "",
    }


def _started_later(noc, **body) -> BulkJob:
    """A job created for later and then started by hand, its runner not yet run."""
    job = create(noc, schedule=LATER, **body)
    BulkJob.objects.filter(pk=job.pk).update(
        status="in_progress", started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    return job


def test_a_batch_runner_counts_every_batch_it_handled(noc, fleet):
    job = _started_later(noc, operation_type="status_refresh", options={"max_concurrency": 5})
    assert bulk_runner.run_batches(job.pk) == 12  # batches of 5, 5 and 2
    job.refresh_from_db()
    assert job.status == "failed" and job.error_summary == {"no_connection_url": 12}


def test_an_inventory_audit_snapshots_past_its_max_concurrency(noc, fleet):
    job = create(noc, operation_type="inventory_audit", options={"max_concurrency": 2})
    item = noc.client.get(f"/api/v1/inventory_device_serial_headless_operation/{job.pk}/").json()
    assert item["status"] == "completed" and item["peak_concurrency"] == 12


def test_a_second_batch_runner_takes_nothing_while_the_first_fills_the_concurrency(
    noc,
    fleet,
):
    job = _started_later(noc, operation_type="status_refresh", options={"max_concurrency": 3})
    BulkJob.objects.filter(pk=job.pk).update(running_devices=3, peak_running=3)
    first = [t.pk for t in BulkJobTarget.objects.filter(job=job).order_by("id")[:3]]
    BulkJobTarget.objects.filter(pk__in=first).update(state="running", started_at=timezone.now())
    assert bulk_runner.run_batches(job.pk) == 0
    found = dict(BulkJobTarget.objects.filter(job=job).values_list("pk", "state"))
    assert sorted(found.values()) == ["pending"] * 9 + ["running"] * 3
    job.refresh_from_db()
    assert job.running_devices == 3 and job.peak_running == 3


def test_while_its_devices_are_probed_a_status_refresh_shows_a_live_runner(noc, fleet):
    seen = []

    def note_heartbeat(path: str) -> None:
        from django.db import connection

        seen.append(BulkJob.objects.values_list("heartbeat_at", flat=True).get())
        connection.close()

    with recording_listener(on_request=note_heartbeat) as listener:
        Device.objects.filter(pk=fleet[0].pk).update(connection_request_url=listener.url("R000"))
        job = create(noc, operation_type="status_refresh", serial_numbers=["R000"])
    job.refresh_from_db()
    (heartbeat,) = seen
    assert heartbeat is not None and job.started_at <= heartbeat <= job.finished_at


# --- queueing ----------------------------------------------------------------------------


def test_a_jobs_first_requests_are_queued_with_its_priority(noc, fleet, held_queue):
    job = create(
        noc, operation_type="reboot", serial_numbers=["R000", "R001"], schedule={"priority": "high"}
    )
    ops = sorted(op.pk for op in active_ops(job))
    assert [(job_id, sorted(pks), priority) for job_id, pks, priority in held_queue.kicks] == [
        (job.pk, ops, 90)
    ]


def test_a_progress_task_the_queue_lost_holds_later_outcomes_back_a_minute_at_most(
    noc,
    fleet,
):
    import time_machine
    from django.conf import settings

    if "redis" in settings.CACHES["default"]["BACKEND"]:
        pytest.skip("on Redis the minute runs on Redis's own clock, which time travel cannot move")
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001", "R002"])
    ops = active_ops(job)
    lost = HeldProgress(bulk_runner._queue())
    bulk_runner.use_queue(lost)
    try:
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            engine.finish(ops[0], OperationState.COMPLETED)
            assert lost.held == [job.pk]  # queued, and never run
            traveller.shift(timedelta(seconds=59))
            engine.finish(ops[1], OperationState.COMPLETED)
            assert lost.held == [job.pk]  # left to the task already queued
            traveller.shift(timedelta(seconds=1.5))
            engine.finish(ops[2], OperationState.COMPLETED)
            assert lost.held == [job.pk, job.pk]  # that one is taken for lost
    finally:
        bulk_runner.use_queue(lost.real)


def test_the_sweep_leaves_a_start_a_little_late_to_its_own_task(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000"], schedule=LATER)
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now() - timedelta(seconds=10))
    assert bulk_runner.resume()["started"] == 0
    job.refresh_from_db()
    assert job.status == "scheduled" and not active_ops(job)


def test_a_jobs_operations_wait_for_no_expiry_task_of_their_own(noc, fleet, task_clock):
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"])
    assert len(active_ops(job)) == 2
    # The housekeeping sweep ends the overdue ones: no queue write per device.
    assert [s.name for s in task_clock.scheduled() if s.name == "expire_operation"] == []


def test_progress_of_a_finished_job_records_nothing(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000"])
    (op,) = active_ops(job)
    engine.finish(op, OperationState.COMPLETED)
    job.refresh_from_db()
    assert job.status == "completed"
    assert bulk_runner.record_progress(job.pk) == 0


def test_a_job_whose_every_device_cannot_start_fails_at_once(noc, fleet):
    from linesman.operations import services

    Device.objects.filter(pk=fleet[0].pk).update(is_active=False)
    services.start_operation(device=fleet[1], kind="sync")
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"])
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert (job.running_devices, job.failed_devices) == (0, 2)
    assert job.error_summary == {"not_applicable": 1, "conflicts": 1}


def test_a_batch_runner_exactly_a_lease_old_is_still_alive(noc, fleet, held_queue):
    beat = timezone.now() - timedelta(minutes=5)
    job = _audit_job_claimed(noc, beat, {"R000": timedelta(minutes=5)})
    assert bulk_runner.resume(beat + bulk_runner.LEASE)["restarted"] == 0
    assert held_queue.batch_runs == [] and states(job)["R000"] == "running"


class _HeldStarts:
    """The real queue, except that scheduled starts are held."""

    def __init__(self, real):
        self.real = real
        self.starts: list[int] = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def schedule_start(self, job: BulkJob) -> None:
        self.starts.append(job.pk)


def test_a_job_starts_at_its_execute_at_exactly(noc, fleet):
    import time_machine

    job = create(noc, operation_type="reboot", serial_numbers=["R000"], schedule=LATER)
    at = (timezone.now() + timedelta(minutes=1)).replace(microsecond=0)
    BulkJob.objects.filter(pk=job.pk).update(execute_at=at)
    held = _HeldStarts(bulk_runner._queue())
    bulk_runner.use_queue(held)
    try:
        with time_machine.travel(at, tick=False):
            assert bulk_runner.start(job.pk) is True
    finally:
        bulk_runner.use_queue(held.real)
    assert held.starts == []  # not sent back to wait
    job.refresh_from_db()
    assert job.status == "in_progress" and len(active_ops(job)) == 1


@pytest.mark.parametrize(
    ("args", "timeout", "seconds"),
    [
        (("inventory_audit", 4000, 10), None, 2),  # 2,000 devices a second
        (("reboot", 10, 5), 1, 120),  # two waves of one minute each
    ],
)
def test_a_job_is_estimated_from_its_size_and_timeout(db, args, timeout, seconds):
    assert bulk_runner.estimate_seconds(*args, timeout=timeout) == seconds


def test_a_jobs_connection_requests_go_out_at_once(noc, seed_orgs, types):
    """Behind a listener that answers only once all three are in flight at the same time,
    a three-device job reaches all three."""
    now = timezone.now()
    devices = [
        make_device(seed_orgs[0], types["router"], f"A{i:03d}", last_connection=now, is_active=True)
        for i in range(3)
    ]
    _job_behind_one_listener(noc, devices, "reboot")
    assert list(ConnectionRequestLog.objects.values_list("ok", flat=True)) == [True] * 3


def test_a_job_never_has_more_than_100_connection_requests_in_flight(noc, seed_orgs, types):
    """A listener that answers only once 101 requests are in flight at the same time
    answers none of a 101-device job's: the 101st waits for one of the first 100."""
    now = timezone.now()
    devices = [
        make_device(seed_orgs[0], types["router"], f"K{i:03d}", last_connection=now, is_active=True)
        for i in range(101)
    ]
    job = _job_behind_one_listener(noc, devices, "reboot")
    assert len(active_ops(job)) == 101
    logged = ConnectionRequestLog.objects.values_list("ok", flat=True)
    assert len(logged) == 101 and not any(logged)


def test_without_fail_fast_a_device_that_never_connected_waits_for_its_first_inform(
    noc,
    fleet,
    cr_server,
):
    point_urls(fleet[:1], cr_server, dead=0, refusing=0)
    Device.objects.filter(pk=fleet[0].pk).update(last_connection=None)
    job = create(noc, operation_type="reboot", serial_numbers=["R000"])
    op_states = Operation.objects.filter(bulk_job_id=job.pk).values_list("state", flat=True)
    assert list(op_states) == ["initiated"]
    assert BulkJobTarget.objects.get(job=job).state == "running"
    assert list(ConnectionRequestLog.objects.values_list("ok", flat=True)) == [True]


def test_a_jobs_operations_are_initiated_by_its_creator(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"])
    initiated = Operation.objects.filter(bulk_job_id=job.pk).values_list(
        "initiated_by", "initiated_by_name"
    )
    assert list(initiated) == [(noc.user.pk, "noc")] * 2


def test_the_sweep_starts_a_lost_start_with_the_jobs_priority(noc, fleet, held_queue):
    job = create(
        noc,
        operation_type="reboot",
        serial_numbers=["R000"],
        schedule={**LATER, "priority": "high"},
    )
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now() - timedelta(minutes=5))
    assert bulk_runner.resume()["started"] == 1
    assert held_queue.starts == [(job.pk, 90)]
    job.refresh_from_db()
    assert job.status == "in_progress"


def test_kick_counts_every_device_it_fails_before_asking(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001", "R002", "R003"])
    ops = [op.pk for op in active_ops(job)]
    assert len(ops) == 4  # no URLs: waiting for their next informs
    Device.objects.filter(pk__in=[fleet[0].pk, fleet[1].pk]).update(
        last_connection=None, connection_request_url="http://127.0.0.1:9/never"
    )
    BulkJob.objects.filter(pk=job.pk).update(options={"validate_connectivity": True})
    # R000 and R001 never connected; R002 and R003 have no URL: none is asked.
    assert bulk_runner.kick(job.pk, ops) == {"sent": 0, "failed": 4}
    job.refresh_from_db()
    assert job.error_summary == {"never_connected": 2, "unreachable": 2}
    assert ConnectionRequestLog.objects.count() == 0


def test_resume_counts_every_outcome_it_recorded(noc, fleet):

    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001", "R002", "R003"])
    ops = sorted(active_ops(job), key=lambda op: op.device_id)
    lost = HeldProgress(bulk_runner._queue())
    bulk_runner.use_queue(lost)
    try:
        # Two outcomes whose progress task was lost, two operations deleted.
        for op in ops[:2]:
            engine.finish(op, OperationState.COMPLETED)
    finally:
        bulk_runner.use_queue(lost.real)
    Operation.objects.filter(pk__in=[op.pk for op in ops[2:]]).delete()
    assert bulk_runner.resume()["recorded"] == 4
    job.refresh_from_db()
    assert (job.succeeded_devices, job.failed_devices, job.status) == (
        2,
        2,
        "completed_with_errors",
    )


def test_resume_reports_every_job_it_brought_back(noc, fleet):
    long_ago = timezone.now() - timedelta(minutes=5)
    lost_fills = [
        _started_later(noc, operation_type="reboot", serial_numbers=[serial])
        for serial in ("R000", "R001")
    ]
    lost_starts = [
        create(noc, operation_type="reboot", serial_numbers=[serial], schedule=LATER)
        for serial in ("R002", "R003")
    ]
    BulkJob.objects.filter(pk__in=[j.pk for j in lost_starts]).update(execute_at=long_ago)
    dead_runners = [_audit_job_claimed(noc, long_ago, {}) for _ in range(2)]
    report = bulk_runner.resume(after_restart=True)
    # Every device job's waiting operation is asked for again after the restart.
    assert report == {
        "started": 2,
        "recorded": 0,
        "filled": 2,
        "restarted": 2,
        "released": 0,
        "kicked": 4,
    }
    for job in lost_fills + lost_starts:
        assert len(active_ops(job)) == 1
    for job in dead_runners:
        job.refresh_from_db()
        assert job.status == "completed"


def test_a_status_refresh_probes_the_devices_after_a_deleted_or_silent_one(
    noc,
    fleet,
    cr_server,
):
    from linesman.inventory import services as inventory

    job = create(
        noc,
        operation_type="status_refresh",
        serial_numbers=["R000", "R001", "R002"],
        schedule=LATER,
    )
    inventory.delete_device(user=None, device=fleet[0])
    point_urls([fleet[2]], cr_server, dead=0, refusing=0)  # R001 has no URL
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now())
    assert bulk_runner.start(job.pk)
    job.refresh_from_db()
    assert job.status == "completed_with_errors" and job.running_devices == 0
    assert job.error_summary == {"device_deleted": 1, "no_connection_url": 1}
    assert BulkJobTarget.objects.get(job=job, device=fleet[2]).state == "succeeded"


def test_the_sweep_starts_only_jobs_still_scheduled(noc, fleet):
    running = create(noc, operation_type="reboot", serial_numbers=["R000"])
    done = create(noc, operation_type="inventory_audit", serial_numbers=["R001"])
    long_ago = timezone.now() - timedelta(minutes=5)
    BulkJob.objects.filter(pk__in=[running.pk, done.pk]).update(execute_at=long_ago)
    assert bulk_runner.resume()["started"] == 0
    statuses = dict(BulkJob.objects.values_list("pk", "status"))
    assert statuses == {running.pk: "in_progress", done.pk: "completed"}


def test_a_batch_runner_takes_nothing_from_a_job_not_yet_started(noc, fleet):
    job = create(noc, operation_type="inventory_audit", schedule=LATER)
    assert bulk_runner.run_batches(job.pk) == 0
    assert set(states(job).values()) == {"pending"}


def test_a_device_whose_operation_the_cancel_withdrew_says_why(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000"])
    response = noc.client.delete(f"/api/v1/inventory_device_serial_headless_operation/{job.pk}/")
    assert response.status_code == 200
    target = BulkJobTarget.objects.get(job=job)
    assert (target.state, target.cause, target.error) == (
        "skipped",
        "cancelled",
        f"bulk job {job.pk} cancelled",
    )
