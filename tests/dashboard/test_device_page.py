"""The device page as an operator works from it: pending items in words, history linked
to jobs, long cells folded, firmware reported vs requested (issue 14)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.inventory.models import Device, Setting
from linesman.operations.bulk.models import BulkJob
from linesman.operations.models import Operation, OperationState

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def section(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"', 1)[1]


def test_pending_items_are_sentences(login, admin_a, device_a, firmware_image):
    Device.objects.filter(pk=device_a.pk).update(
        firmware_image=firmware_image, firmware_image_is_pending=True
    )
    Operation.objects.create(
        device=device_a,
        kind="reboot",
        state=OperationState.INITIATED,
        params={"steps": ["reboot"], "execute_at": "2026-01-16T02:43:00Z"},
    )
    Setting.objects.create(
        device=device_a, variable_name="Device.WiFi.SSID.1.SSID", value="guest", pending=True
    )
    Setting.objects.create(
        device=device_a,
        variable_name="Device.WiFi.AccessPoint.1.Security.KeyPassphrase",
        value="hunter22",
        pending=True,
    )
    pending = section(html(login(admin_a).get(f"/ui/devices/{device_a.pk}/")), "pending")
    pending = pending.split("</ul>", 1)[0]
    assert "Firmware 2.5.0 pending" in pending
    assert "Reboot scheduled at 2026-01-16 02:43 UTC" in pending
    assert "Device.WiFi.SSID.1.SSID → guest pending" in pending
    assert "hunter22" not in pending  # a secret's desired value is never shown
    assert "reboot_scheduled:" not in pending.replace('title="', "")


def test_reboot_scheduled_today_shows_the_time_only(login, admin_a, device_a):
    at = timezone.now().replace(hour=2, minute=43, second=0, microsecond=0)
    Operation.objects.create(
        device=device_a,
        kind="reboot",
        state=OperationState.INITIATED,
        params={"steps": ["reboot"], "execute_at": at.isoformat().replace("+00:00", "Z")},
    )
    state = html(login(admin_a).get(f"/ui/devices/{device_a.pk}/state/"))
    assert "Reboot scheduled at 02:43 UTC<" in state


def test_history_links_to_the_bulk_job_and_folds_long_errors(login, admin_a, device_a):
    job = BulkJob.objects.create(operation_type="sync", execute_at=timezone.now())
    error = "SetParameterValues: fault 9007 " + "Invalid parameter value " * 20
    Operation.objects.create(
        device=device_a,
        kind="sync",
        state=OperationState.FAILED,
        completed_at=timezone.now(),
        bulk_job_id=job.pk,
        error=error,
        initiated_by_name="alice",
    )
    history = section(html(login(admin_a).get(f"/ui/devices/{device_a.pk}/state/")), "history")
    assert f'href="/ui/jobs/{job.pk}/"' in history
    assert 'class="by">alice<' in history
    # The table wraps, and the long error is cut with the whole of it one click away.
    assert 'class="dense wrap"' in history
    assert '<details class="more"' in history and error in history
    summary = re.search(r"<summary>(.*?)<span", history).group(1)
    assert len(summary) < 80


def test_audit_trail_wraps_and_folds_long_changes(login, admin_a, device_a):
    long_value = "x" * 500
    AuditEntry.objects.create(
        action="update",
        actor="admin",
        device_id=device_a.pk,
        organization_id=device_a.organization_id,
        object_type="inventory.device",
        object_id=str(device_a.pk),
        object_repr=device_a.name,
        message="settings changed",
        changes={"Device.X": [None, long_value]},
    )
    audit = section(html(login(admin_a).get(f"/ui/devices/{device_a.pk}/")), "audit")
    assert 'class="dense wrap"' in audit and '<details class="more"' in audit
    assert long_value in audit  # the whole text is there, folded


def test_firmware_reported_vs_requested(login, admin_a, device_a, firmware_image):
    Device.objects.filter(pk=device_a.pk).update(
        software_version="2.4.1", firmware_image=firmware_image, firmware_image_is_pending=True
    )
    page = html(login(admin_a).get(f"/ui/devices/{device_a.pk}/"))
    assert re.search(r"Firmware reported</dt><dd[^>]*>2\.4\.1", page)
    requested = section(page, "firmware-image-field").split("</dd>", 1)[0]
    assert "2.5.0" in requested and "pending" in requested
    Device.objects.filter(pk=device_a.pk).update(
        software_version="2.5.0", firmware_image_is_pending=False
    )
    page = html(login(admin_a).get(f"/ui/devices/{device_a.pk}/"))
    assert "running" in section(page, "firmware-image-field").split("</dd>", 1)[0]


def test_firmware_confirmation_names_the_image(login, operator_a, device_a, firmware_image):
    client = login(operator_a)
    page = html(client.get(f"/ui/devices/{device_a.pk}/"))
    form = section(page, "firmware-form").split("</form>", 1)[0]
    # The browser's dialog puts the selected option's label in place of {choice}.
    assert "to firmware {choice}?" in page and "data-confirm-choice" in form
    assert 'data-label="2.5.0"' in form
    # Without the script, the server asks, naming the image.
    asked = html(
        client.post(
            f"/ui/devices/{device_a.pk}/operate/",
            {"operation": "firmware", "firmware_image": firmware_image.pk},
        )
    )
    assert f"Upgrade {device_a.name} to firmware 2.5.0?" in asked
    assert not Operation.objects.filter(device=device_a).exists()
