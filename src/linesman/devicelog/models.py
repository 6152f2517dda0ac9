"""One row per thing that happened to a device. Periodic informs are most of the rows, so
the row is small and the only indexes are the ones reads and retention need."""

from __future__ import annotations

from django.db import models

from linesman.inventory.models import Device
from linesman.operations.models import OperationState


class LogAction(models.TextChoices):
    INFORM = "inform", "Session (Inform and its events)"
    VALUE_CHANGE = "value_change", "Value change reported"
    RPC = "rpc", "RPC answered or faulted"
    OPERATION = "operation", "Operation started or ended"
    STATUS = "status", "Status change"
    REGISTERED = "registered", "Device registered"
    DIAGNOSTIC = "diagnostic", "Diagnostic finished"
    CONNECTION_REQUEST = "connection_request", "Connection request (method and outcome)"


#: What `status` can hold: RPC outcomes, operation states, device states.
LOG_STATUSES: tuple[str, ...] = (
    "ok",
    "fault",
    "started",
    *OperationState.values,
    "up",
    "down",
)


class DeviceLogEntry(models.Model):
    # No separate device index: (device, time) serves lookups by device alone too.
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="log_entries", db_index=False
    )
    time = models.DateTimeField()
    action = models.CharField(max_length=32, choices=LogAction.choices)
    status = models.CharField(max_length=32)
    code = models.IntegerField(null=True, blank=True, help_text="CWMP fault code")
    message = models.CharField(max_length=500, blank=True, default="")
    operation_id = models.CharField(max_length=64, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["device", "time"], name="devicelog_device_time"),
            # Retention deletes by age across all devices.
            models.Index(fields=["time"], name="devicelog_time"),
        ]
        verbose_name = "device log entry"
        verbose_name_plural = "device log entries"

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.action} {self.status}"
