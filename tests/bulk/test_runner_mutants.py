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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.cwmp.models import ConnectionRequestLog
from linesman.inventory.models import Device, FirmwareImage
from linesman.operations import engine
from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from linesman.operations.models import Operation, OperationState
from tests.bulk.test_runner import (  # noqa: F401 (fixtures)
    _urls,
    active_ops,
    cr_server,
    create,
    fleet,
)
from tests.conftest import make_device

pytestmark = pytest.mark.django_db(transaction=True)

LATER = {"execute_at": "2031-01-01T00:00:00Z"}


class _HeldQueue:
    """The real queue, except that batch runners are held, as a busy worker holds them,
    and each batch of connection requests asked of it is noted with its priority."""

    def __init__(self, real):
        self.real = real
        self.batch_runs: list[tuple[int, int]] = []
        self.kicks: list[tuple[int, list[int], int]] = []

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
    fleet,  # noqa: F811
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
    fleet,  # noqa: F811
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


# --- connection requests after a restart -------------------------------------------------


def test_after_a_restart_only_operations_not_yet_picked_up_are_asked_for_again(
    noc,
    fleet,  # noqa: F811
    cr_server,  # noqa: F811
):
    """In a real database single-device operations far outnumber bulk targets, so an
    operation's id is never its target's: the devices' history is made so here."""
    _urls(fleet[:3], cr_server, dead=0, refusing=0)
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
    fleet,  # noqa: F811
    cr_server,  # noqa: F811
):
    _urls(fleet[:1], cr_server, dead=0, refusing=0)
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
    fleet,  # noqa: F811
    cr_server,  # noqa: F811
    held_queue,
):
    _urls(fleet[:1], cr_server, dead=0, refusing=0)
    job = create(
        noc, operation_type="reboot", serial_numbers=["R000"], schedule={"priority": "high"}
    )
    (op,) = active_ops(job)
    held_queue.kicks.clear()
    bulk_runner.resume(after_restart=True)
    assert held_queue.kicks == [(job.pk, [op.pk], 90)]


# --- status refresh ----------------------------------------------------------------------


def test_a_status_refresh_contacts_only_the_jobs_devices(noc, fleet, cr_server):  # noqa: F811
    _urls(fleet[:4], cr_server, dead=0, refusing=0)
    job = create(noc, operation_type="status_refresh", serial_numbers=["R000", "R001"])
    job.refresh_from_db()
    assert job.status == "completed" and job.succeeded_devices == 2
    asked = ConnectionRequestLog.objects.values_list("device__serial_number", flat=True)
    assert sorted(asked) == ["R000", "R001"]


class _AllAtOnce(BaseHTTPRequestHandler):
    """A listener that answers 200 only once every device of the batch is asking at the
    same time, and 503 when they come one after the other."""

    barrier: threading.Barrier

    def do_GET(self):  # noqa: N802
        try:
            self.barrier.wait()
            code = 200
        except threading.BrokenBarrierError:
            code = 503
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class _Listener(ThreadingHTTPServer):
    request_queue_size = 128  # the listen backlog: a whole batch may knock at once


@pytest.mark.parametrize("size", [3, 101])  # 101: past connreq's default of 100 at once
def test_a_status_refresh_probes_a_whole_batch_at_once(noc, seed_orgs, types, size):
    now = timezone.now()
    devices = [
        make_device(seed_orgs[0], types["router"], f"P{i:03d}", last_connection=now)
        for i in range(size)
    ]
    # Whoever comes first waits for the rest within the connection request's own 3 s.
    handler = type("Handler", (_AllAtOnce,), {"barrier": threading.Barrier(size, timeout=2.5)})
    server = _Listener(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for device in devices:
            Device.objects.filter(pk=device.pk).update(
                connection_request_url=f"http://127.0.0.1:{server.server_address[1]}/{device.pk}"
            )
        job = create(
            noc,
            operation_type="status_refresh",
            serial_numbers=[d.serial_number for d in devices],
            options={"max_concurrency": size},
        )
    finally:
        server.shutdown()
        server.server_close()
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


def test_a_serial_sync_answer_without_values_succeeds_and_changes_nothing(noc, fleet):  # noqa: F811
    job = create(noc, operation_type="bulk_serial_sync", serial_numbers=["R000"])
    (op,) = active_ops(job)
    _report(op, {})
    target = BulkJobTarget.objects.get(job=job)
    assert target.state == "succeeded"
    assert target.result["device_info"] == {} and target.result["inventory_updates"] == {}
    job.refresh_from_db()
    assert job.status == "completed"


def test_a_serial_sync_does_not_write_an_empty_value_the_inventory_lacks_too(noc, fleet):  # noqa: F811
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


def test_a_serial_sync_changes_the_inventory_in_the_name_of_the_jobs_creator(noc, fleet):  # noqa: F811
    job = create(noc, operation_type="bulk_serial_sync", serial_numbers=["R000"])
    (op,) = active_ops(job)
    _report(op, {"values": {"Device.DeviceInfo.Manufacturer": "Acme"}})
    ((actor, changes),) = device_updates(fleet[0])
    assert actor == "noc" and changes["manufacturer"] == [None, "Acme"]


def test_a_firmware_upgrade_sets_the_desired_image_in_the_name_of_the_jobs_creator(
    noc,
    fleet,  # noqa: F811
    types,
):
    image = FirmwareImage.objects.create(device_type=types["router"], version="3.0", file="f.bin")
    create(noc, operation_type="firmware_upgrade", firmware_image=image.pk, serial_numbers=["R000"])
    ((actor, changes),) = device_updates(fleet[0])
    assert actor == "noc"
    assert changes["firmware_image"] == [None, image.pk]
    assert changes["firmware_image_is_pending"] == [False, True]
