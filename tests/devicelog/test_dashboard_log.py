"""The device page's Log panel: the device's newest log rows, for every member."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from linesman.devicelog.models import DeviceLogEntry
from tests.dashboard.conftest import login  # noqa: F401  (fixture)


def test_the_device_page_shows_its_log_to_viewers(login, viewer_a, device_a, device_b):  # noqa: F811
    now = timezone.now()
    DeviceLogEntry.objects.create(
        device=device_a,
        time=now - timedelta(minutes=5),
        action="rpc",
        status="fault",
        code=9001,
        message="Reboot: Request denied",
    )
    DeviceLogEntry.objects.create(
        device=device_b, time=now, action="status", status="down", message="other device's"
    )
    response = login(viewer_a).get(f"/ui/devices/{device_a.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    log_panel = page[page.index('id="log"') : page.index('id="audit"')]
    assert "Reboot: Request denied" in log_panel and "9001" in log_panel
    assert "other device&#x27;s" not in log_panel and "other device's" not in log_panel
