"""`linesman jobs` on the local database: create, list, show (--follow), cancel, --json."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from django.utils import timezone

from linesman.cli.jobs import jobs
from linesman.inventory.models import DeviceStatus
from linesman.operations import engine
from linesman.operations.bulk.models import BulkJob
from linesman.operations.models import ACTIVE_STATES, Operation, OperationState
from tests.conftest import make_device

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def devices(seed_orgs, types):
    now = timezone.now()
    return [
        make_device(
            seed_orgs[0],
            types["router"],
            f"CLI{i}",
            status=DeviceStatus.UP,
            last_connection=now,
            is_active=True,
        )
        for i in range(3)
    ]


def run(*args: str) -> str:
    result = CliRunner().invoke(jobs, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout  # log lines go to stderr


def test_create_list_show_cancel(devices):
    created = json.loads(
        run(
            "create",
            "--type",
            "reboot",
            "--org",
            "101",
            "--device-type",
            "router",
            "--execute-at",
            "2031-01-01T00:00:00Z",
            "--max-concurrency",
            "2",
            "--json",
        )
    )
    assert created["status"] == "scheduled" and created["target_device_count"] == 3
    assert created["operation_config"]["options"]["max_concurrency"] == 2
    listed = json.loads(run("list", "--json"))
    assert [j["id"] for j in listed] == [created["id"]]
    assert "reboot" in run("list")
    shown = json.loads(run("show", created["id"], "--json", "--devices"))
    assert shown["total_devices"] == 3 and len(shown["devices"]) == 3
    assert "scheduled" in run("show", created["id"])
    cancelled = json.loads(run("cancel", created["id"], "--json"))
    assert cancelled["status"] == "cancelled" and cancelled["skipped_devices"] == 3
    again = CliRunner().invoke(jobs, ["show", "999999"])
    assert again.exit_code == 1 and "no job" in again.output


def test_create_from_a_body_and_with_variables(devices, tmp_path):
    body = tmp_path / "body.json"
    body.write_text(
        json.dumps(
            {
                "serial_number": "CLI1",
                "operation": "get",
                "variables": [{"variable_name": "Device.DeviceInfo.UpTime"}],
                "execute_at": "2031-01-01T00:00:00Z",
            }
        )
    )
    first = json.loads(run("create", "--body", str(body), "--json"))
    assert first["operation_type"] == "get" and first["target_device_count"] == 1
    second = json.loads(
        run(
            "create",
            "--type",
            "set",
            "--serial",
            "CLI2",
            "--execute-at",
            "2031-01-01T00:00:00Z",
            "--variable",
            "Device.ManagementServer.PeriodicInformInterval:unsignedInt=600",
            "--json",
        )
    )
    assert second["operation_config"]["variables"][0] == {
        "variable_name": "Device.ManagementServer.PeriodicInformInterval",
        "value": "600",
        "type": "xsd:unsignedInt",
    }


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_invalid_jobs_are_explained_in_one_line(devices, tmp_path):
    body = tmp_path / "job.json"
    body.write_text(json.dumps({"operation_type": "reboot", "device_filters": {"status": ["x"]}}))
    result = CliRunner().invoke(jobs, ["create", "--body", str(body)])
    assert result.exit_code == 1
    (line,) = _lines(result.output)
    assert line.startswith("Error: the job was not created: device_filters.status")
    # Words with a fixed set of values are checked (and listed) by the command line itself.
    unknown = CliRunner().invoke(jobs, ["create", "--type", "explode"])
    assert unknown.exit_code == 2 and "'reboot'" in unknown.output
    sleepy = CliRunner().invoke(jobs, ["create", "--type", "reboot", "--status", "sleepy"])
    assert sleepy.exit_code == 2 and "'inactive'" in sleepy.output


def test_help_lists_the_choices_and_firmware_means_firmware_upgrade(devices):
    from linesman.cli.jobs import JOB_STATUSES, OPERATION_TYPES
    from linesman.operations.bulk.models import BulkJobStatus, BulkOperationType

    assert set(OPERATION_TYPES) == set(BulkOperationType.values)
    assert set(JOB_STATUSES) == set(BulkJobStatus.values)
    create_help = CliRunner().invoke(jobs, ["create", "--help"]).output
    assert "firmware_upgrade" in create_help and "inventory_audit" in create_help
    assert "completed_with_errors" in CliRunner().invoke(jobs, ["list", "--help"]).output
    # `linesman op ... firmware` and `jobs create --type firmware` name the same operation.
    result = CliRunner().invoke(jobs, ["create", "--type", "firmware", "--serial", "CLI0"])
    assert result.exit_code == 1
    assert "firmware_image" in result.output and "Unknown operation type" not in result.output


def test_list_fits_80_columns_with_utc_timestamps(devices):
    for _ in range(2):
        run("create", "--type", "bulk_serial_sync", "--serial", "CLI0", "--json")
    lines = run("list").splitlines()
    assert lines[0].split() == [
        "id",
        "type",
        "status",
        "done",
        "devs",
        "fail",
        "scheduled",
        "(UTC)",
    ]
    assert len(lines) == 3 and all(len(line) <= 80 for line in lines)
    assert lines[1].split()[1] == "bulk_serial_sync"
    assert lines[1].rstrip().endswith("Z") and "T" in lines[1].split()[-1]
    assert run("list", "--status", "cancelled").strip() == "No jobs match."


def test_user_permissions_apply(devices, seed_orgs):
    from tests.conftest import make_actor

    make_actor("cli-viewer", seed_orgs[0], "viewer")
    result = CliRunner().invoke(
        jobs, ["create", "--type", "reboot", "--org", "101", "--user", "cli-viewer"]
    )
    assert result.exit_code == 1 and "operator" in result.output


def test_show_follow_ends_with_the_job(devices, monkeypatch):
    created = json.loads(run("create", "--type", "reboot", "--serial", "CLI0", "--json"))
    job = BulkJob.objects.get(pk=int(created["id"]))
    assert job.status == "in_progress"
    import linesman.cli.jobs as cli

    def finish_then_sleep(seconds):
        for op in Operation.objects.filter(bulk_job_id=job.pk, state__in=ACTIVE_STATES):
            engine.finish(op, OperationState.COMPLETED)

    monkeypatch.setattr(cli.time, "sleep", finish_then_sleep)
    final = json.loads(run("show", created["id"], "--follow", "--json", "--interval", "0.01"))
    assert final["status"] == "completed" and final["progress"] == 100
