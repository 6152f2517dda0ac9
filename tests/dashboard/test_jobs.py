"""Bulk job pages through Django's test client: create, preview, progress, drill-down,
cancel, retry, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.operations.bulk.models import BulkJob, BulkJobStatus, TargetState
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


def html(response, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
    return response.content.decode()


@pytest.fixture
def devices(org_a, device_type):
    return [make_device(org_a, device_type, f"JOB{i:03d}", name=f"job-dev-{i}") for i in range(3)]


def form(org, operation: str = "sync", **extra) -> dict:
    return {
        "operation_type": operation,
        "organizations": [org.pk],
        "priority": "normal",
        "update_firmware_info": "on",
        **extra,
    }


def test_operator_creates_a_job_and_lands_on_its_page(login, operator_a, org_a, devices):
    client = login(operator_a)
    page = html(client.get("/ui/jobs/"))
    assert 'id="job-form"' in page and "No jobs yet" in page
    response = client.post("/ui/jobs/", form(org_a, "sync", max_concurrency="2"))
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ui/jobs/{job.pk}/"
    assert job.total_devices == 3 and job.max_concurrency == 2
    assert job.created_by == operator_a.user and job.status == BulkJobStatus.SCHEDULED
    detail = html(client.get(f"/ui/jobs/{job.pk}/"))
    assert 'id="job-bar"' in detail and 'aria-valuenow="0"' in detail
    assert 'data-poll-next="1500"' in detail and 'id="cancel-job"' in detail
    listing = html(client.get("/ui/jobs/?fragment=1"))
    assert f'data-job="{job.pk}"' in listing and "<html" not in listing


def test_destructive_job_is_previewed_before_it_exists(login, operator_a, org_a, devices):
    client = login(operator_a)
    data = form(org_a, "reboot", serial_numbers="JOB000, JOB001")
    preview = html(client.post("/ui/jobs/", data))
    assert 'id="job-preview"' in preview and 'id="preview-count">2<' in preview
    assert "JOB000" in preview and not BulkJob.objects.exists()
    client.post("/ui/jobs/", {**data, "confirmed": "on"})
    job = BulkJob.objects.get()
    assert job.operation_type == "reboot" and job.total_devices == 2


def test_schedule_variables_and_options_reach_the_job(login, operator_a, org_a, devices):
    later = (timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    login(operator_a).post(
        "/ui/jobs/",
        form(
            org_a,
            "set",
            execute_at=later,
            variables="Device.WiFi.SSID.1.SSID:string=Guest",
            timeout_minutes="5",
            validate_connectivity="on",
            priority="high",
            confirmed="on",
        ),
    )
    job = BulkJob.objects.get()
    assert job.execute_at.strftime("%Y-%m-%dT%H:%M") == later and job.priority == "high"
    assert job.options["timeout_minutes"] == 5 and job.options["validate_connectivity"] is True
    assert job.params["variables"][0]["variable_name"] == "Device.WiFi.SSID.1.SSID"


def test_invalid_targets_are_explained(login, operator_a, org_a, devices):
    page = html(login(operator_a).post("/ui/jobs/", form(org_a, serial_numbers="NOPE")), 422)
    assert 'id="job-errors"' in page and "serial_numbers" in page
    assert not BulkJob.objects.exists()


def test_viewer_has_no_form_and_is_refused(login, viewer_a, org_a, devices):
    client = login(viewer_a)
    assert 'id="job-form"' not in html(client.get("/ui/jobs/"))
    page = html(client.post("/ui/jobs/", form(org_a, "reboot", confirmed="on")), 403)
    assert "operator role" in page and not BulkJob.objects.exists()


@pytest.fixture
def finished_job(login, operator_a, org_a, devices):
    """A completed job whose second device failed with connection_timeouts."""
    login(operator_a).post("/ui/jobs/", form(org_a, "sync"))
    job = BulkJob.objects.get()
    targets = list(job.targets.order_by("id"))
    now = timezone.now()
    for target in targets:
        target.state = TargetState.SUCCEEDED
        target.finished_at = now
    targets[1].state, targets[1].cause = TargetState.FAILED, "connection_timeouts"
    targets[1].error = "no session within 15 minutes"
    for target in targets:
        target.save()
    BulkJob.objects.filter(pk=job.pk).update(
        status=BulkJobStatus.COMPLETED_WITH_ERRORS,
        succeeded_devices=2,
        failed_devices=1,
        error_summary={"connection_timeouts": 1},
        started_at=now,
        finished_at=now,
    )
    job.refresh_from_db()
    return job


def test_finished_job_shows_errors_and_failed_devices(login, operator_a, finished_job):
    client = login(operator_a)
    page = html(client.get(f"/ui/jobs/{finished_job.pk}/progress/"))
    assert 'aria-valuenow="100"' in page and 'data-poll-next="0"' in page
    assert "cause=connection_timeouts" in page and "job-dev-1" in page
    assert 'id="cancel-job"' not in page and 'id="retry-failures"' in page
    failed = html(client.get(f"/ui/jobs/{finished_job.pk}/devices/?cause=connection_timeouts"))
    assert 'data-serial="JOB001"' in failed and 'data-serial="JOB000"' not in failed
    everything = html(client.get(f"/ui/jobs/{finished_job.pk}/devices/?state=all"))
    assert everything.count("data-serial=") == 3


def test_retry_failures_makes_a_new_job_of_the_failed_devices(login, operator_a, finished_job):
    client = login(operator_a)
    url = f"/ui/jobs/{finished_job.pk}/retry/"
    assert "Run sync again on the 1 devices" in html(client.post(url))
    assert BulkJob.objects.count() == 1
    response = client.post(url, {"confirmed": "on"})
    retry = BulkJob.objects.exclude(pk=finished_job.pk).get()
    assert response["Location"] == f"/ui/jobs/{retry.pk}/"
    assert list(retry.targets.values_list("serial_number", flat=True)) == ["JOB001"]
    assert retry.operation_type == "sync" and retry.options == finished_job.options


def test_viewer_may_not_retry_or_cancel(login, viewer_a, finished_job):
    client = login(viewer_a)
    page = html(client.get(f"/ui/jobs/{finished_job.pk}/"))
    assert 'id="retry-failures"' not in page
    assert client.post(f"/ui/jobs/{finished_job.pk}/retry/", {"confirmed": "on"}).status_code == 403
    assert client.post(f"/ui/jobs/{finished_job.pk}/cancel/").status_code == 403


def test_cancel_a_scheduled_job(login, operator_a, org_a, devices):
    client = login(operator_a)
    client.post("/ui/jobs/", form(org_a, "sync"))
    job = BulkJob.objects.get()
    page = html(client.post(f"/ui/jobs/{job.pk}/cancel/", follow=True))
    assert "cancelled: 3 devices skipped" in page
    job.refresh_from_db()
    assert job.status == BulkJobStatus.CANCELLED
    again = html(client.post(f"/ui/jobs/{job.pk}/cancel/", follow=True))
    assert 'data-job-status="cancelled"' in again


def test_jobs_of_other_organizations_are_invisible(login, admin_b, operator_a, org_a, devices):
    login(operator_a).post("/ui/jobs/", form(org_a, "sync"))
    job = BulkJob.objects.get()
    client = login(admin_b)
    assert "No jobs yet" in html(client.get("/ui/jobs/"))
    for path in ("", "progress/", "devices/"):
        assert client.get(f"/ui/jobs/{job.pk}/{path}").status_code == 404
    assert client.post(f"/ui/jobs/{job.pk}/cancel/").status_code == 404
