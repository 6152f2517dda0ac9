"""Huey tasks of the ACS: connection requests with retries and exponential backoff."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from linesman.cwmp import connreq
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.inventory.models import Device

MAX_ATTEMPTS = 4
BASE_DELAY = 5  # seconds; then 10, 20


@db_task()
def connection_request(device_id: int, attempt: int = 1) -> bool:
    """Ask the device to connect; retried with backoff while it has work waiting."""
    device = Device.objects.select_related("type").filter(pk=device_id).first()
    if device is None or not device.connection_request_url:
        return False
    if attempt > 1 and not _work_waits(device_id):
        return False  # the work that asked for it was done or withdrawn meanwhile
    outcome = connreq.send(device)
    if outcome.ok or attempt >= MAX_ATTEMPTS or outcome.cause in connreq.PERMANENT_CAUSES:
        return outcome.ok
    if _work_waits(device_id):
        connection_request.schedule(
            args=(device_id, attempt + 1), delay=BASE_DELAY * 2 ** (attempt - 1)
        )
    return False


def _work_waits(device_id: int) -> bool:
    return DeviceTask.objects.filter(device_id=device_id, state=TaskState.QUEUED).exists()
