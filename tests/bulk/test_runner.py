"""Running jobs: fan-out within max_concurrency, outcomes by cause, cancel, resume.

Tasks run inline here (Huey's immediate mode under pytest) and transactions really commit,
so the engine's on-commit hook drives the job exactly as in a server; device operations are
completed by calling `engine.finish` as the session engine would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linesman.cwmp.models import DeviceTask
from linesman.inventory.models import Device
from linesman.operations import engine
from linesman.operations.bulk import runner as bulk_runner
from linesman.operations.bulk import services as bulk
from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from linesman.operations.models import Operation, OperationState
from tests.bulk.conftest import URL
from tests.bulk.jobs import HeldProgress, active_ops, create, finish_all, point_urls
from tests.conftest import needs_logged_hot_statements

pytestmark = pytest.mark.django_db(transaction=True)


def test_reboot_fans_out_within_max_concurrency(noc, fleet):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 5})
    job.refresh_from_db()
    assert job.status == "in_progress" and job.started_at is not None
    assert job.running_devices == 5
    ops = active_ops(job)
    assert len(ops) == 5 and {op.kind for op in ops} == {"reboot"}
    assert all(op.bulk_job_id == job.pk for op in ops)
    # The first RPC is queued for each device's next session.
    assert DeviceTask.objects.filter(operation__in=ops, method="Reboot").count() == 5
    # One finishes: exactly one more starts.
    engine.finish(ops[0], OperationState.COMPLETED)
    job.refresh_from_db()
    assert job.succeeded_devices == 1 and job.running_devices == 5
    assert len(active_ops(job)) == 5
    seen: list[int] = []
    finish_all(job, seen=seen)
    assert max(seen) <= 5
    job.refresh_from_db()
    assert job.status == "completed"
    assert job.succeeded_devices == 12 and job.failed_devices == 0
    assert job.peak_running == 5 and job.finished_at is not None
    assert Operation.objects.filter(bulk_job_id=job.pk).count() == 12
    # Every device ran exactly once.
    assert Operation.objects.filter(bulk_job_id=job.pk).values("device").distinct().count() == 12
    item = noc.client.get(f"{URL}?id={job.pk}").json()["results"][0]
    assert item["progress"] == 100 and item["processed_devices"] == 12
    assert item["estimated_completion"] == item["completed_at"]


def test_outcomes_are_counted_by_cause(noc, fleet):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 12})
    ops = sorted(active_ops(job), key=lambda op: op.pk)
    engine.finish(ops[0], OperationState.FAILED, cause="device_faults", error="fault 9002")
    engine.finish(ops[1], OperationState.FAILED, cause="device_faults", error="fault 9002")
    engine.finish(ops[2], OperationState.TIMED_OUT, cause="operation_timeouts", error="late")
    mid = noc.client.get(f"{URL}?id={job.pk}").json()["results"][0]
    assert mid["status"] == "in_progress"
    assert mid["processed_devices"] == 3 and mid["failed_devices"] == 3
    assert mid["progress"] == 25
    assert mid["estimated_completion"] is not None
    finish_all(job)
    job.refresh_from_db()
    assert job.status == "completed_with_errors"
    assert job.error_summary == {"device_faults": 2, "operation_timeouts": 1}
    failed = noc.client.get(f"{URL}{job.pk}/devices/?state=failed").json()
    assert failed["count"] == 3
    assert {r["cause"] for r in failed["results"]} == {"device_faults", "operation_timeouts"}
    assert all(r["operation_id"].startswith("op_") for r in failed["results"])


def test_every_device_failing_fails_the_job(noc, fleet):
    job = create(noc, operation_type="sync", target_organizations=[102])
    finish_all(job, OperationState.FAILED, cause="device_faults")
    job.refresh_from_db()
    assert job.status == "failed" and job.failed_devices == 4


def test_busy_device_counts_as_a_conflict(noc, fleet):
    from linesman.operations import services

    services.start_operation(device=fleet[0], kind="sync")
    job = create(noc, operation_type="reboot")
    target = BulkJobTarget.objects.get(job=job, device=fleet[0])
    assert target.state == "failed" and target.cause == "conflicts"
    finish_all(job)
    job.refresh_from_db()
    assert job.status == "completed_with_errors"
    assert job.error_summary == {"conflicts": 1} and job.succeeded_devices == 11


def test_deactivated_and_deleted_devices_fail_without_stalling(noc, fleet):
    Device.objects.filter(pk=fleet[1].pk).update(is_active=False)
    job = create(noc, operation_type="reboot", schedule={"execute_at": "2031-01-01T00:00:00Z"})
    from linesman.inventory import services as inventory

    inventory.delete_device(user=None, device=fleet[2])
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now())
    assert bulk_runner.start(job.pk)
    finish_all(job)
    job.refresh_from_db()
    assert job.error_summary == {"device_deleted": 1, "not_applicable": 1}
    assert job.succeeded_devices == 10 and job.status == "completed_with_errors"


def test_nothing_starts_before_execute_at(noc, fleet):
    future = timezone.now() + timedelta(hours=1)
    job = create(noc, operation_type="reboot", schedule={"execute_at": future.isoformat()})
    assert not bulk_runner.start(job.pk)
    assert bulk_runner.resume()["started"] == 0
    job.refresh_from_db()
    assert job.status == "scheduled" and not active_ops(job)
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now() - timedelta(seconds=1))
    assert bulk_runner.start(job.pk)
    assert not bulk_runner.start(job.pk)  # a second start (a duplicate task) does nothing
    assert len(active_ops(job)) == 12


def test_cancel_ends_running_operations_at_once(noc, fleet):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 4})
    running = active_ops(job)
    response = noc.client.delete(f"{URL}{job.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["running_devices"] == 0 and body["skipped_devices"] == 12
    assert body["completed_at"] is not None
    assert body["estimated_completion"] == body["completed_at"]  # not moving any more
    for op in running:
        op.refresh_from_db()
        assert op.state == "cancelled" and op.error == f"bulk job {job.pk} cancelled"
        # Their Reboots were never sent, and never will be.
        assert set(DeviceTask.objects.filter(operation=op).values_list("state", flat=True)) == {
            "cancelled"
        }
    assert not active_ops(job)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.succeeded_devices == 0 and job.failed_devices == 0
    assert job.skipped_devices == 12 and job.finished_at is not None
    assert Operation.objects.filter(bulk_job_id=job.pk).count() == 4


def test_resume_records_lost_outcomes_and_tops_up(noc, fleet, monkeypatch):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 4})
    ops = active_ops(job)
    # The process dies between an operation's end and its bookkeeping.
    monkeypatch.setattr(bulk, "on_operation_finished", lambda op: None)
    for op in ops[:3]:
        engine.finish(op, OperationState.COMPLETED)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.running_devices == 4 and job.succeeded_devices == 0
    report = bulk_runner.resume()
    assert report["recorded"] == 3 and report["filled"] == 3
    job.refresh_from_db()
    assert job.succeeded_devices == 3 and job.running_devices == 4
    # Resuming again changes nothing: no device runs twice.
    again = bulk_runner.resume()
    assert again["recorded"] == 0 and again["filled"] == 0
    finish_all(job)
    job.refresh_from_db()
    assert job.status == "completed" and job.succeeded_devices == 12
    assert Operation.objects.filter(bulk_job_id=job.pk).count() == 12


def test_resume_starts_a_job_whose_start_was_lost(noc, fleet):
    job = create(noc, operation_type="reboot", schedule={"execute_at": "2031-01-01T00:00:00Z"})
    BulkJob.objects.filter(pk=job.pk).update(execute_at=timezone.now() - timedelta(minutes=5))
    assert bulk_runner.resume()["started"] == 1
    job.refresh_from_db()
    assert job.status == "in_progress" and job.running_devices == 12


def test_resume_refills_an_in_progress_job_with_nothing_running(noc, fleet):
    job = create(noc, operation_type="reboot", schedule={"execute_at": "2031-01-01T00:00:00Z"})
    # The start committed but the process died before the first fill.
    BulkJob.objects.filter(pk=job.pk).update(status="in_progress", started_at=timezone.now())
    assert bulk_runner.resume()["filled"] == 12
    assert len(active_ops(job)) == 12


def test_timeout_minutes_sets_each_operation_deadline(noc, fleet):
    before = timezone.now()
    job = create(noc, operation_type="reboot", options={"timeout_minutes": 0.5})
    assert len(active_ops(job)) == 12
    for op in active_ops(job):
        assert before + timedelta(seconds=25) < op.deadline < before + timedelta(seconds=40)


def test_validate_connectivity_fails_unreachable_devices_at_once(noc, fleet, cr_server):
    point_urls(fleet, cr_server, dead=2, refusing=3)
    job = create(
        noc,
        operation_type="reboot",
        options={"validate_connectivity": True, "max_concurrency": 4},
    )
    job.refresh_from_db()
    assert job.failed_devices == 5
    # Nothing listens on port 9: a refused connection, told apart from a silent device.
    assert job.error_summary == {"authentication_failures": 3, "connection_refused": 2}
    finish_all(job)
    job.refresh_from_db()
    assert job.status == "completed_with_errors" and job.succeeded_devices == 7
    assert job.peak_running <= 4


def test_without_validation_an_unreached_device_times_out_as_a_connection_problem(
    noc, fleet, cr_server
):
    point_urls(fleet[:3], cr_server, dead=1, refusing=1)
    job = create(noc, operation_type="reboot", serial_numbers=[d.serial_number for d in fleet[:4]])
    job.refresh_from_db()
    assert job.running_devices == 4  # still queued for their next informs
    Operation.objects.filter(bulk_job_id=job.pk).update(deadline=timezone.now())
    for op in active_ops(job):
        engine.expire(op.pk)
    job.refresh_from_db()
    # R000: refused; R001: 401; R002: reached but never came; R003: no URL at all.
    assert job.error_summary == {
        "authentication_failures": 1,
        "connection_timeouts": 1,
        "operation_timeouts": 2,
    }
    assert job.status == "failed"


def test_bulk_serial_sync_updates_the_inventory(noc, fleet):
    Device.objects.filter(pk=fleet[0].pk).update(data_model_root="InternetGatewayDevice.")
    job = create(noc, operation_type="bulk_serial_sync", serial_numbers=["R000", "R001"])
    by_device = {op.device_id: op for op in active_ops(job)}
    names = [v["variable_name"] for v in by_device[fleet[0].pk].params["variables"]]
    assert "InternetGatewayDevice.DeviceInfo.SoftwareVersion" in names
    assert "Device.DeviceInfo.SerialNumber" in [
        v["variable_name"] for v in by_device[fleet[1].pk].params["variables"]
    ]
    for device, op in ((fleet[0], by_device[fleet[0].pk]), (fleet[1], by_device[fleet[1].pk])):
        root = "InternetGatewayDevice." if device is fleet[0] else "Device."
        op.output = {
            "values": {
                f"{root}DeviceInfo.SerialNumber": device.serial_number,
                f"{root}DeviceInfo.SoftwareVersion": "7.1.2",
                f"{root}DeviceInfo.HardwareVersion": "rev-b",
                f"{root}DeviceInfo.Manufacturer": "Acme",
            }
        }
        op.save(update_fields=["output"])
        engine.finish(op, OperationState.COMPLETED)
    job.refresh_from_db()
    assert job.status == "completed"
    for device in fleet[:2]:
        device.refresh_from_db()
        assert device.software_version == "7.1.2" and device.hardware_version == "rev-b"
        assert device.manufacturer == "Acme"
    result = BulkJobTarget.objects.get(job=job, device=fleet[0]).result
    assert result["serial_matches"] is True
    assert result["inventory_updates"]["software_version"] == [None, "7.1.2"]


def test_bulk_serial_sync_can_leave_firmware_info_alone(noc, fleet):
    job = create(
        noc,
        operation_type="bulk_serial_sync",
        serial_numbers=["R000"],
        options={"update_firmware_info": False},
    )
    op = active_ops(job)[0]
    op.output = {
        "values": {"Device.DeviceInfo.SoftwareVersion": "9", "Device.DeviceInfo.Manufacturer": "M"}
    }
    op.save(update_fields=["output"])
    engine.finish(op, OperationState.COMPLETED)
    fleet[0].refresh_from_db()
    assert fleet[0].software_version is None and fleet[0].manufacturer == "M"


def test_get_transaction_results_carry_the_values(noc, fleet):
    job = create(
        noc,
        operation="get",
        serial_number="R005",
        variables=[{"variable_name": "Device.DeviceInfo.UpTime"}],
    )
    op = active_ops(job)[0]
    assert op.kind == "get" and op.params["variables"] == [
        {"variable_name": "Device.DeviceInfo.UpTime"}
    ]
    op.output = {"values": {"Device.DeviceInfo.UpTime": "4242"}}
    op.save(update_fields=["output"])
    engine.finish(op, OperationState.COMPLETED)
    rows = noc.client.get(f"{URL}{job.pk}/devices/").json()["results"]
    assert rows[0]["state"] == "succeeded"
    assert rows[0]["result"]["values"] == {"Device.DeviceInfo.UpTime": "4242"}


def test_set_transaction_queues_typed_values(noc, fleet):
    job = create(
        noc,
        operation="set",
        serial_number="R006",
        variables=[
            {
                "variable_name": "Device.ManagementServer.PeriodicInformInterval",
                "value": 600,
                "type": "unsignedInt",
            }
        ],
    )
    op = active_ops(job)[0]
    task = DeviceTask.objects.get(operation=op)
    assert task.method == "SetParameterValues"
    assert task.args["parameters"] == [
        {
            "name": "Device.ManagementServer.PeriodicInformInterval",
            "value": "600",
            "type": "xsd:unsignedInt",
        }
    ]


def test_firmware_upgrade_sets_the_desired_image(noc, fleet, types):
    from linesman.inventory.models import FirmwareImage

    image = FirmwareImage.objects.create(device_type=types["router"], version="3.0", file="f.bin")
    job = create(
        noc,
        operation_type="firmware_upgrade",
        firmware_image=image.pk,
        serial_numbers=["R000", "R001"],
    )
    ops = active_ops(job)
    assert {op.kind for op in ops} == {"firmware"}
    fleet[0].refresh_from_db()
    assert fleet[0].firmware_image_id == image.pk and fleet[0].firmware_image_is_pending


def test_status_refresh_probes_and_updates_status(noc, fleet, cr_server):
    point_urls(fleet[:6], cr_server, dead=1, refusing=1)
    Device.objects.filter(pk__in=[d.pk for d in fleet]).update(
        last_connection=timezone.now() - timedelta(days=1)
    )
    job = create(
        noc,
        operation_type="status_refresh",
        target_organizations=[101],
        options={"max_concurrency": 3},
    )
    job.refresh_from_db()
    assert job.status == "completed_with_errors"
    assert job.succeeded_devices == 4
    assert job.error_summary == {
        "authentication_failures": 1,
        "connection_refused": 1,
        "no_connection_url": 2,
    }
    statuses = dict(
        Device.objects.filter(organization_id=101).values_list("serial_number", "status")
    )
    assert statuses["R002"] == "Up" and statuses["R000"] == "Down" and statuses["R007"] == "Down"
    assert not Operation.objects.filter(bulk_job_id=job.pk).exists()
    assert job.peak_running <= 3


def test_inventory_audit_is_a_snapshot_downloadable_as_csv(noc, fleet):
    import csv
    import io

    Device.objects.filter(pk=fleet[0].pk).update(software_version="1.2.3")
    job = create(noc, operation_type="inventory_audit")
    job.refresh_from_db()
    assert job.status == "completed" and job.succeeded_devices == 12
    assert not Operation.objects.filter(bulk_job_id=job.pk).exists()
    item = noc.client.get(f"{URL}{job.pk}/").json()
    assert item["report_url"] == f"{URL}{job.pk}/report.csv"
    for url in (f"{URL}{job.pk}/report.csv", f"{URL}{job.pk}/devices/?format=csv"):
        response = noc.client.get(url)
        assert response.status_code == 200, url
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert len(rows) == 12
        first = next(r for r in rows if r["serial_number"] == "R000")
        assert first["software_version"] == "1.2.3" and first["type"] == "router"
        assert first["status"] == "Up" and first["state"] == "succeeded"


def test_update_status_refreshes_the_jobs_devices(noc, fleet):
    job = create(noc, operation_type="inventory_audit", serial_numbers=["R000"])
    Device.objects.filter(pk=fleet[0].pk).update(last_connection=timezone.now() - timedelta(days=2))
    response = noc.client.get(f"{URL}?id={job.pk}&update_status=true")
    assert response.status_code == 200
    fleet[0].refresh_from_db()
    assert fleet[0].status == "Down"


def test_resume_restarts_a_dead_batch_runner(noc, fleet):
    job = create(
        noc, operation_type="inventory_audit", schedule={"execute_at": "2031-01-01T00:00:00Z"}
    )
    long_ago = timezone.now() - timedelta(minutes=5)
    # A runner claimed three targets and died.
    BulkJob.objects.filter(pk=job.pk).update(
        status="in_progress", started_at=long_ago, heartbeat_at=long_ago, running_devices=3
    )
    claimed = list(BulkJobTarget.objects.filter(job=job).order_by("id")[:3])
    BulkJobTarget.objects.filter(pk__in=[t.pk for t in claimed]).update(
        state="running", started_at=long_ago
    )
    report = bulk_runner.resume()
    assert (report["restarted"], report["released"]) == (1, 3)
    job.refresh_from_db()
    assert job.status == "completed" and job.succeeded_devices == 12


def test_resume_fails_targets_whose_operation_vanished(noc, fleet):
    job = create(noc, operation_type="reboot", serial_numbers=["R000", "R001"])
    op = Operation.objects.filter(bulk_job_id=job.pk).order_by("id").first()
    engine.finish(op, OperationState.COMPLETED)
    # A target's operation row disappears (its device was deleted with it).
    other = active_ops(job)[0]
    Operation.objects.filter(pk=other.pk).delete()
    assert bulk_runner.resume()["recorded"] == 1
    job.refresh_from_db()
    assert job.status == "completed_with_errors"
    assert job.error_summary == {"device_deleted": 1}


@pytest.mark.parametrize("run", [1, 2])
def test_resume_after_a_restart_sends_lost_connection_requests_again(noc, fleet, cr_server, run):
    # Run twice: a process restart is what counts, not being the first test to resume.
    from linesman.cwmp.models import ConnectionRequestLog

    point_urls(fleet[:4], cr_server, dead=0, refusing=0)
    job = create(noc, operation_type="reboot", serial_numbers=[d.serial_number for d in fleet[:4]])
    assert ConnectionRequestLog.objects.filter(ok=True).count() == 4
    # A sweep of a process that has been running all along does not repeat them...
    assert bulk_runner.resume()["kicked"] == 0
    assert ConnectionRequestLog.objects.count() == 4
    # ...the first sweep after a restart does, for operations not yet picked up.
    engine.finish(active_ops(job)[0], OperationState.COMPLETED)
    report = bulk_runner.resume(after_restart=True)
    assert report["kicked"] == 3
    assert ConnectionRequestLog.objects.filter(ok=True).count() == 7


def test_an_unexpected_error_fails_one_device_and_the_job_goes_on(noc, fleet, monkeypatch, caplog):
    # A fault injected where no real input breaks it: one device's start raises.
    from linesman.operations import services

    real_start = services.start_operation

    def start(*, device, **kwargs):
        if device.serial_number == "R003":
            raise RuntimeError("disk on fire")
        return real_start(device=device, **kwargs)

    monkeypatch.setattr(services, "start_operation", start)
    job = create(noc, operation_type="reboot", options={"max_concurrency": 5})
    finish_all(job)
    job.refresh_from_db()
    assert job.error_summary == {"internal_error": 1}
    assert job.succeeded_devices == 11 and job.failed_devices == 1
    assert job.status == "completed_with_errors"
    failed = BulkJobTarget.objects.get(job=job, state="failed")
    assert failed.device.serial_number == "R003"
    assert failed.error == "RuntimeError: disk on fire"
    # The server's log names the job and the device's target, with the traceback.
    logged = [r for r in caplog.records if r.exc_info]
    assert [r.getMessage() for r in logged] == [
        f"bulk job {job.pk}: starting device {failed.pk} failed"
    ]
    assert logged[0].levelname == "ERROR" and logged[0].exc_info[0] is RuntimeError


@pytest.mark.parametrize(("free", "reads"), [(1, 1), (5, 2)])
def test_free_slots_are_filled_from_one_read_of_the_pending_devices(noc, fleet, free, reads):
    """One read for all free slots, not one per device: a 10,000-device job fills often.
    One free slot (an operation ended: the steady state) costs the one read of the next
    pending device; several cost that read and one of the free slots' devices."""
    needs_logged_hot_statements()
    job = create(noc, operation_type="reboot", options={"max_concurrency": 1})
    assert len(active_ops(job)) == 1
    BulkJob.objects.filter(pk=job.pk).update(max_concurrency=1 + free)
    with CaptureQueriesContext(connection) as queries:
        assert bulk_runner.fill(job.pk) == free
    assert len(active_ops(job)) == 1 + free
    pending_reads = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and f'FROM "{BulkJobTarget._meta.db_table}"' in q["sql"]
        and "'pending'" in q["sql"]
    ]
    assert len(pending_reads) == reads, pending_reads


def test_filling_a_job_not_running_starts_nothing(noc, fleet):
    """`fill` (the sweep's, and a start's) leaves a scheduled job's devices alone until
    its start, and a snapshot job's to its batch runner."""
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    scheduled = create(noc, operation_type="reboot", schedule={"execute_at": later})
    assert scheduled.status == "scheduled"
    assert bulk_runner.fill(scheduled.pk) == 0
    assert active_ops(scheduled) == []
    assert set(scheduled.targets.values_list("state", flat=True)) == {"pending"}
    audit = create(noc, operation_type="inventory_audit")
    BulkJob.objects.filter(pk=audit.pk).update(status="in_progress", finished_at=None)
    BulkJobTarget.objects.filter(job=audit).update(state="pending")
    assert bulk_runner.fill(audit.pk) == 0
    assert not Operation.objects.filter(bulk_job_id=audit.pk).exists()
    assert set(audit.targets.values_list("state", flat=True)) == {"pending"}


def test_a_firmware_image_deleted_mid_job_fails_the_devices_not_yet_started(noc, fleet, types):
    from linesman.inventory.models import FirmwareImage

    image = FirmwareImage.objects.create(device_type=types["router"], version="3.1", file="f.bin")
    job = create(
        noc,
        operation_type="firmware_upgrade",
        firmware_image=image.pk,
        serial_numbers=[d.serial_number for d in fleet[:4]],
        options={"max_concurrency": 2},
    )
    first_wave = active_ops(job)
    assert len(first_wave) == 2
    image.delete()
    finish_all(job)
    job.refresh_from_db()
    assert job.succeeded_devices == 2 and job.failed_devices == 2
    assert job.error_summary == {"not_applicable": 2}
    errors = set(
        BulkJobTarget.objects.filter(job=job, state="failed").values_list("error", flat=True)
    )
    assert errors == {"The firmware image was deleted."}
    assert job.status == "completed_with_errors"


def test_operations_ending_together_are_recorded_by_one_task(noc, fleet):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 5})
    held = HeldProgress(bulk_runner._queue())
    bulk_runner.use_queue(held)
    try:
        first = active_ops(job)
        for op in first[:3]:
            engine.finish(op, OperationState.COMPLETED)
        engine.finish(first[3], OperationState.FAILED, error="fault 9002", cause="fault")
        # Four ends, one task queued; nothing recorded nor started before it runs.
        assert held.held == [job.pk]
        job.refresh_from_db()
        assert (job.running_devices, job.succeeded_devices, job.failed_devices) == (5, 0, 0)
        assert len(active_ops(job)) == 1
        assert bulk_runner.record_progress(job.pk) == 4
        job.refresh_from_db()
        assert (job.running_devices, job.succeeded_devices, job.failed_devices) == (5, 3, 1)
        assert job.error_summary == {"fault": 1}
        assert len(active_ops(job)) == 5  # the four freed slots filled at once
        # Run again, it finds nothing; an end after it queues a task of its own.
        assert bulk_runner.record_progress(job.pk) == 0
        engine.finish(active_ops(job)[0], OperationState.COMPLETED)
        assert held.held == [job.pk, job.pk]
    finally:
        bulk_runner.use_queue(held.real)
    bulk_runner.record_progress(job.pk)  # the worker runs the held task
    finish_all(job)
    job.refresh_from_db()
    assert job.status == "completed_with_errors"
    assert (job.succeeded_devices, job.failed_devices, job.running_devices) == (11, 1, 0)


def test_an_end_recorded_after_the_job_was_cancelled_still_frees_its_slot(noc, fleet):
    """A device answered just before the cancel: the task its end queued runs after the
    cancel, and counts it, so the cancelled job is left with nothing running."""
    job = create(noc, operation_type="reboot", options={"max_concurrency": 3})
    held = HeldProgress(bulk_runner._queue())
    bulk_runner.use_queue(held)
    try:
        answered = active_ops(job)[0]
        engine.finish(answered, OperationState.COMPLETED)
        assert held.held == [job.pk]
        bulk.cancel_job(job.pk)
    finally:
        bulk_runner.use_queue(held.real)
    job.refresh_from_db()
    assert (job.status, job.running_devices, job.succeeded_devices) == ("cancelled", 1, 0)
    assert bulk_runner.record_progress(job.pk) == 1  # the held task, run by the worker
    job.refresh_from_db()
    assert (job.status, job.running_devices, job.succeeded_devices) == ("cancelled", 0, 1)
    assert BulkJobTarget.objects.get(operation=answered).state == "succeeded"
    assert active_ops(job) == []


class _FailingProgress(HeldProgress):
    """A queue that cannot take the task (Redis down, say)."""

    def record_progress(self, job_id: int) -> None:
        self.held.append(job_id)
        raise ConnectionError("queue unavailable")


def test_a_progress_task_the_queue_refused_is_asked_for_again(noc, fleet):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 5})
    first = active_ops(job)
    failing = _FailingProgress(bulk_runner._queue())
    bulk_runner.use_queue(failing)
    try:
        # The engine's subscriber logs the failure: the device's session goes on.
        engine.finish(first[0], OperationState.COMPLETED)
        held = HeldProgress(failing.real)
        bulk_runner.use_queue(held)
        engine.finish(first[1], OperationState.COMPLETED)
        # Not suppressed by the key the failed attempt had set.
        assert failing.held == [job.pk] and held.held == [job.pk]
    finally:
        bulk_runner.use_queue(failing.real)
    assert bulk_runner.record_progress(job.pk) == 2
    job.refresh_from_db()
    assert (job.succeeded_devices, job.running_devices) == (2, 5)


def test_progress_of_a_deleted_job_records_nothing(noc, fleet):
    job = create(noc, operation_type="reboot", options={"max_concurrency": 5})
    job_id = job.pk
    job.delete()
    assert bulk_runner.record_progress(job_id) == 0
