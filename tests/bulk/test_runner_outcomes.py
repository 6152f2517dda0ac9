"""What a bulk job records for each device and how it adds up: skipped, failed and timed-out
operations, device faults in the summary, serial sync results, inventory snapshots, the
deadline each operation gets, and how long a job is expected to take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from linesman.inventory.models import Device, DeviceStatus, FirmwareImage, Location, Setting
from linesman.operations import engine
from linesman.operations import services as operations
from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from linesman.operations.models import Operation, OperationState
from tests.bulk.jobs import active_ops, create, finish_all, point_urls

pytestmark = pytest.mark.django_db(transaction=True)


def target_of(job: BulkJob, device) -> BulkJobTarget:
    return BulkJobTarget.objects.get(job=job, device=device)


def two_devices(noc, fleet, **body) -> tuple[BulkJob, dict[int, Operation]]:
    job = create(noc, serial_numbers=["R000", "R001"], **body)
    return job, {op.device_id: op for op in active_ops(job)}


# --- outcomes ----------------------------------------------------------------------------


def test_a_cancelled_operation_skips_its_device_and_the_job_completes(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    operations.cancel_operation(ops[fleet[0].pk], reason="cancelled")
    engine.finish(ops[fleet[1].pk], OperationState.COMPLETED)
    job.refresh_from_db()
    assert (job.succeeded_devices, job.failed_devices, job.skipped_devices) == (1, 0, 1)
    assert job.status == "completed" and job.error_summary == {}
    skipped = target_of(job, fleet[0])
    assert skipped.state == "skipped" and skipped.cause == "cancelled"
    assert skipped.error == Operation.objects.get(pk=ops[fleet[0].pk].pk).error
    assert skipped.result["operation_state"] == "cancelled"


def test_a_failure_without_a_cause_or_error_counts_as_a_device_fault(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    engine.finish(ops[fleet[0].pk], OperationState.FAILED)
    engine.finish(ops[fleet[1].pk], OperationState.FAILED)
    job.refresh_from_db()
    assert job.status == "failed" and job.error_summary == {"device_faults": 2}
    failed = target_of(job, fleet[0])
    assert (failed.state, failed.cause, failed.error) == ("failed", "device_faults", "failed")


def test_a_dispatched_operation_that_timed_out_is_a_time_out_whatever_the_connection_log(
    noc,
    fleet,
):
    from linesman.cwmp.models import ConnectionRequestLog

    job, ops = two_devices(noc, fleet, operation_type="reboot")
    for device in fleet[:2]:
        ConnectionRequestLog.objects.create(device=device, ok=False, status_code=401)
    reached, unreached = ops[fleet[0].pk], ops[fleet[1].pk]
    Operation.objects.filter(pk=reached.pk).update(dispatched_at=timezone.now())
    Operation.objects.filter(bulk_job_id=job.pk).update(deadline=timezone.now())
    engine.expire(reached.pk)
    engine.expire(unreached.pk)
    assert target_of(job, fleet[0]).cause == "operation_timeouts"
    assert target_of(job, fleet[1]).cause == "authentication_failures"


def test_a_target_result_carries_the_operation_and_its_output(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    op = ops[fleet[0].pk]
    Operation.objects.filter(pk=op.pk).update(output={"reboot_required": True})
    engine.finish(op, OperationState.COMPLETED)
    target = target_of(job, fleet[0])
    assert target.state == "succeeded" and target.cause == "" and target.error == ""
    assert target.result == {
        "operation_id": op.operation_id,
        "operation_state": "completed",
        "reboot_required": True,
    }
    assert target.finished_at == Operation.objects.get(pk=op.pk).completed_at


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        ({"code": 9002, "message": "Internal error"}, "device_faults: 9002 Internal error"),
        ({"code": 9002, "message": ""}, "device_faults: 9002"),
        ({"code": 9002}, "device_faults: 9002"),
        ({"code": 0, "message": "no code"}, "device_faults"),
        ({"code": 9003, "message": "x" * 200}, ("device_faults: 9003 " + "x" * 200)[:120]),
        ("not a fault record", "device_faults"),
    ],
)
def test_device_faults_are_summed_up_by_code_and_message(noc, fleet, fault, key):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    op = ops[fleet[0].pk]
    Operation.objects.filter(pk=op.pk).update(output={"fault": fault})
    engine.finish(op, OperationState.FAILED, cause="device_faults", error="refused")
    job.refresh_from_db()
    assert job.error_summary == {key: 1}
    assert target_of(job, fleet[0]).cause == "device_faults"


def test_a_fault_record_does_not_rename_another_cause(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    op = ops[fleet[0].pk]
    Operation.objects.filter(pk=op.pk).update(output={"fault": {"code": 9002, "message": "x"}})
    engine.finish(op, OperationState.FAILED, cause="session_dropped", error="dropped")
    job.refresh_from_db()
    assert job.error_summary == {"session_dropped": 1}


def test_an_error_longer_than_two_thousand_characters_is_cut_on_the_target(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    engine.finish(ops[fleet[0].pk], OperationState.FAILED, cause="c", error="e" * 2001)
    assert target_of(job, fleet[0]).error == "e" * 2000


def test_a_finished_job_keeps_its_end_time(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    finish_all(job)
    job.refresh_from_db()
    ended = job.finished_at
    assert job.status == "completed" and ended is not None
    assert bulk_runner.fill(job.pk) == 0 and bulk_runner.resume()["recorded"] == 0
    job.refresh_from_db()
    assert job.finished_at == ended


# --- bulk serial sync --------------------------------------------------------------------


def _report(op: Operation, values: dict[str, str]) -> None:
    Operation.objects.filter(pk=op.pk).update(output={"values": values})
    engine.finish(op, OperationState.COMPLETED)


def test_serial_sync_notices_a_serial_number_that_does_not_match(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="bulk_serial_sync")
    _report(
        ops[fleet[0].pk],
        {
            "Device.DeviceInfo.SerialNumber": "SOMEONE-ELSE",
            "Device.DeviceInfo.ModelName": "HG-1",
            "Device.DeviceInfo.ManufacturerOUI": "00AABB",
            "Device.DeviceInfo.ProductClass": "HomeGateway",
        },
    )
    result = target_of(job, fleet[0]).result
    assert result["serial_matches"] is False
    assert result["device_info"] == {
        "SerialNumber": "SOMEONE-ELSE",
        "ModelName": "HG-1",
        "ManufacturerOUI": "00AABB",
        "ProductClass": "HomeGateway",
    }
    # The serial number and model name are reported, never written to the inventory.
    assert result["inventory_updates"] == {
        "oui": ["", "00AABB"],
        "product_class": [None, "HomeGateway"],
    }
    device = Device.objects.get(pk=fleet[0].pk)
    assert device.serial_number == "R000"
    assert (device.oui, device.product_class) == ("00AABB", "HomeGateway")


def test_serial_sync_changes_nothing_the_inventory_already_says(noc, fleet):
    Device.objects.filter(pk=fleet[0].pk).update(manufacturer="Acme", software_version="7")
    job, ops = two_devices(noc, fleet, operation_type="bulk_serial_sync")
    _report(
        ops[fleet[0].pk],
        {"Device.DeviceInfo.Manufacturer": "Acme", "Device.DeviceInfo.SoftwareVersion": "7"},
    )
    result = target_of(job, fleet[0]).result
    assert result["inventory_updates"] == {} and result["serial_matches"] is True


def test_serial_sync_of_a_failed_read_writes_nothing(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="bulk_serial_sync")
    op = ops[fleet[0].pk]
    Operation.objects.filter(pk=op.pk).update(
        output={"values": {"Device.DeviceInfo.Manufacturer": "Evil"}}
    )
    engine.finish(op, OperationState.FAILED, cause="device_faults", error="x")
    assert "device_info" not in target_of(job, fleet[0]).result
    assert Device.objects.get(pk=fleet[0].pk).manufacturer is None


# --- inventory audit and status refresh --------------------------------------------------


def test_an_inventory_snapshot_records_what_the_inventory_says(noc, fleet, types):
    seen = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    image = FirmwareImage.objects.create(device_type=types["router"], version="3.0", file="f")
    location = Location.objects.create(organization_id=101, name="Depot", short_name="depot")
    Device.objects.filter(pk=fleet[0].pk).update(
        manufacturer="Acme",
        product_class="HG",
        software_version="1.2",
        hardware_version="hw-2",
        firmware_image=image,
        firmware_image_is_pending=True,
        location=location,
        address="10.1.1.1",
        last_connection=seen,
        status_change=seen,
        status=DeviceStatus.DOWN,
    )
    Setting.objects.create(device=fleet[0], variable_name="Device.X", value="1", pending=True)
    job = create(noc, operation_type="inventory_audit", serial_numbers=["R000", "R001"])
    target = target_of(job, fleet[0])
    assert (target.state, target.cause, target.error) == ("succeeded", "", "")
    snapshot = target.result
    assert snapshot == {
        "device_id": fleet[0].pk,
        "serial_number": "R000",
        "name": fleet[0].name,
        "organization_id": 101,
        "type": "router",
        "status": "Down",
        "is_active": True,
        "manufacturer": "Acme",
        "product_class": "HG",
        "software_version": "1.2",
        "hardware_version": "hw-2",
        "firmware_image": "3.0",
        "firmware_image_is_pending": True,
        "location": "Depot",
        "address": "10.1.1.1",
        "last_connection": "2026-03-01T12:00:00Z",
        "status_change": "2026-03-01T12:00:00Z",
        "pending_settings": "firmware_update:pending,Device.X:pending",
    }
    bare = target_of(job, fleet[1]).result
    assert bare["manufacturer"] == "" and bare["firmware_image"] == ""
    assert bare["location"] == "" and bare["pending_settings"] == ""
    assert bare["address"] == ""


@pytest.mark.parametrize("kind", ["inventory_audit", "status_refresh"])
def test_a_device_deleted_before_a_batch_job_starts_fails_as_deleted(noc, fleet, kind):
    from linesman.inventory import services as inventory

    job = create(
        noc,
        operation_type=kind,
        serial_numbers=["R000", "R001"],
        schedule={"execute_at": "2031-01-01T00:00:00Z"},
    )
    inventory.delete_device(user=None, device=fleet[0])
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now())
    assert bulk_runner.start(job.pk)
    job.refresh_from_db()
    assert job.error_summary.get("device_deleted") == 1
    gone = BulkJobTarget.objects.get(job=job, cause="device_deleted")
    assert (gone.state, gone.error, gone.result) == ("failed", "Device deleted.", {})


def test_a_batch_job_is_never_filled_with_operations(noc, fleet):
    job = create(
        noc, operation_type="inventory_audit", schedule={"execute_at": "2031-01-01T00:00:00Z"}
    )
    BulkJob.objects.filter(pk=job.pk).update(status="in_progress")
    assert bulk_runner.fill(job.pk) == 0
    assert not Operation.objects.filter(bulk_job_id=job.pk).exists()


def test_a_live_batch_runner_is_not_restarted(noc, fleet):
    job = create(
        noc, operation_type="inventory_audit", schedule={"execute_at": "2031-01-01T00:00:00Z"}
    )
    now = timezone.now()
    # A runner is working (heartbeat now), with three targets claimed just now.
    BulkJob.objects.filter(pk=job.pk).update(
        status="in_progress", started_at=now, heartbeat_at=now, running_devices=3
    )
    claimed = list(BulkJobTarget.objects.filter(job=job).order_by("id")[:3])
    BulkJobTarget.objects.filter(pk__in=[t.pk for t in claimed]).update(
        state="running", started_at=now
    )
    report = bulk_runner.resume()
    assert report == {
        "started": 0,
        "recorded": 0,
        "filled": 0,
        "restarted": 0,
        "released": 0,
        "kicked": 0,
    }
    assert BulkJobTarget.objects.filter(job=job, state="running").count() == 3
    # Its heartbeat stops: a minute later the claimed targets are done again by a new runner.
    report = bulk_runner.resume(now + bulk_runner.LEASE + timedelta(seconds=1))
    assert report["restarted"] == 1
    job.refresh_from_db()
    assert job.status == "completed" and job.succeeded_devices == 12
    assert job.running_devices == 0


# --- deadlines and estimates -------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "seconds"), [(0.05, 3), (2, 120), (0.75, 45)])
def test_timeout_minutes_become_each_operations_deadline(noc, fleet, minutes, seconds):
    job, ops = two_devices(
        noc, fleet, operation_type="reboot", options={"timeout_minutes": minutes}
    )
    assert len(ops) == 2  # both started (a bad timeout would fail them as internal errors)
    for op in ops.values():
        assert op.deadline - op.initiated_at == pytest.approx(
            timedelta(seconds=seconds), abs=timedelta(seconds=1)
        )


def test_without_timeout_minutes_the_operation_kind_decides(noc, fleet):
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    assert len(ops) == 2
    for op in ops.values():
        assert op.deadline - op.initiated_at == pytest.approx(
            timedelta(seconds=900), abs=timedelta(seconds=1)
        )


@pytest.mark.parametrize(
    ("args", "seconds"),
    [
        (("inventory_audit", 100, 10), 1),
        (("inventory_audit", 5000, 10), 2),
        (("status_refresh", 10, 3), 12),
        (("reboot", 10, 5), 240),
        (("reboot", 11, 5), 360),
        (("reboot", 3, 0), 360),
        (("firmware_upgrade", 4, 2), 1200),
        (("bulk_serial_sync", 2, 2), 30),
    ],
)
def test_a_job_is_estimated_in_waves_of_its_concurrency(args, seconds):
    assert bulk_runner.estimate_seconds(*args) == seconds


def test_a_short_timeout_shortens_the_estimate(db):
    assert bulk_runner.estimate_seconds("reboot", 10, 5, timeout=0.5) == 60
    assert bulk_runner.estimate_seconds("reboot", 10, 5, timeout=10) == 240


@pytest.mark.parametrize(("priority", "huey"), [("low", 10), ("normal", 50), ("high", 90)])
def test_a_jobs_priority_is_its_tasks_priority(priority, huey):
    assert bulk_runner.huey_priority(BulkJob(priority=priority)) == huey


def test_a_status_refresh_records_each_probe(noc, fleet, cr_server):
    point_urls(fleet[:2], cr_server, dead=0, refusing=1)
    job = create(noc, operation_type="status_refresh", serial_numbers=["R000", "R001", "R002"])
    refused, answered, silent = (target_of(job, d) for d in fleet[:3])
    assert answered.state == "succeeded" and (answered.cause, answered.error) == ("", "")
    assert answered.result["reachable"] is True and answered.result["status"] == "Up"
    assert answered.result["status_code"] == 200
    assert isinstance(answered.result["elapsed_ms"], int)
    assert refused.state == "failed" and refused.cause == "authentication_failures"
    assert refused.result["reachable"] is False and refused.result["status_code"] == 401
    assert silent.cause == "no_connection_url"
    assert silent.error == "The device has no connection request URL (it never informed)."
    assert silent.result == {"reachable": False, "status": "Up"}
    for target in (refused, answered, silent):
        assert target.finished_at is not None and target.started_at is not None


def test_a_batch_runner_says_how_many_targets_it_handled(noc, fleet):
    job = create(
        noc, operation_type="inventory_audit", schedule={"execute_at": "2031-01-01T00:00:00Z"}
    )
    BulkJob.objects.filter(pk=job.pk).update(status="in_progress", started_at=timezone.now())
    assert bulk_runner.run_batches(job.pk) == 12
    assert bulk_runner.run_batches(job.pk) == 0
    job.refresh_from_db()
    assert job.status == "completed" and job.finished_at is not None
    assert all(t.finished_at is not None for t in BulkJobTarget.objects.filter(job=job))


def test_resume_fills_every_job_whatever_comes_before_it(noc, fleet):
    later = {"execute_at": "2031-01-01T00:00:00Z"}
    reboot = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"], schedule=later)
    audit = create(noc, operation_type="inventory_audit", serial_numbers=["R002"], schedule=later)
    now = timezone.now()
    # Both started; the reboot job's first fill was lost, the audit's runner is alive.
    BulkJob.objects.filter(pk=reboot.pk).update(status="in_progress", started_at=now)
    BulkJob.objects.filter(pk=audit.pk).update(
        status="in_progress", started_at=now, heartbeat_at=now
    )
    report = bulk_runner.resume()
    assert report["filled"] == 2 and report["restarted"] == 0
    assert len(active_ops(reboot)) == 2


def test_a_device_that_cannot_start_says_why_on_its_target(noc, fleet):
    from linesman.operations import services

    Device.objects.filter(pk=fleet[0].pk).update(is_active=False)
    busy_with = services.start_operation(device=fleet[1], kind="sync")
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    assert ops == {}
    deactivated, busy = target_of(job, fleet[0]), target_of(job, fleet[1])
    assert (deactivated.state, deactivated.cause) == ("failed", "not_applicable")
    assert deactivated.error == "The device is deactivated; activate it before running operations."
    assert (busy.cause, busy.error) == (
        "conflicts",
        f"Operation {busy_with.operation_id} (sync) is initiated on this device.",
    )
    for target in (deactivated, busy):
        assert target.started_at is not None and target.finished_at is not None
        assert target.operation_id is None


def test_a_started_target_records_when_and_which_operation(noc, fleet):
    before = timezone.now()
    job, ops = two_devices(noc, fleet, operation_type="reboot")
    target = target_of(job, fleet[0])
    assert target.state == "running" and target.operation_id == ops[fleet[0].pk].pk
    assert before <= target.started_at <= timezone.now()
    assert target.kicked_at == target.started_at


def test_the_end_of_a_job_is_announced_once_with_its_counts(noc, fleet):
    from linesman.core import events

    heard: list = []
    events.subscribe(heard.append, ("bulk_job.finished",))
    try:
        job, ops = two_devices(noc, fleet, operation_type="reboot")
        engine.finish(ops[fleet[0].pk], OperationState.COMPLETED)
        job.refresh_from_db()
        assert job.status == "in_progress" and job.finished_at is None
        assert heard == []
        engine.finish(ops[fleet[1].pk], OperationState.FAILED, cause="device_faults", error="x")
        bulk_runner.resume()
    finally:
        events.unsubscribe(heard.append)
    assert [e.data for e in heard] == [
        {
            "job_id": job.pk,
            "status": "completed_with_errors",
            "succeeded": 1,
            "failed": 1,
            "skipped": 0,
        }
    ]
