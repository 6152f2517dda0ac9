"""ACS state kept in the database: queued RPCs, open sessions and the last known parameters.

Nothing about a CWMP session lives only in a process's memory, so any server process can
serve any request of any session.
"""

from __future__ import annotations

from django.db import models

from linesman.inventory.models import Device


class TaskState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent, awaiting the device's response"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class DeviceTask(models.Model):
    """One RPC queued for a device's next session, sent in id order one at a time."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="cwmp_tasks")
    operation = models.ForeignKey(
        "operations.Operation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    method = models.CharField(max_length=64)
    args = models.JSONField(default=dict, blank=True)
    #: What to do with the answer (a key of linesman.cwmp.handlers.HANDLERS).
    handler = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=16, choices=TaskState.choices, default=TaskState.QUEUED)
    session_key = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    response = models.JSONField(default=dict, blank=True)
    fault_code = models.IntegerField(null=True, blank=True)
    fault_string = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["device", "state", "id"], name="task_device_state")]

    def __str__(self) -> str:
        return f"{self.method} for {self.device_id} ({self.state})"


class CwmpSession(models.Model):
    """An open CWMP session. The row is also the lock: one session per device at a time."""

    key = models.CharField(max_length=64, unique=True)
    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="cwmp_session")
    cwmp_ns = models.CharField(max_length=64)
    #: inform -> cpe_requests -> acs_requests
    stage = models.CharField(max_length=16, default="inform")
    hold_requests = models.BooleanField(default=False)
    current_task = models.ForeignKey(
        DeviceTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    events = models.JSONField(default=list, blank=True)
    started = models.DateTimeField(auto_now_add=True)
    last_activity = models.DateTimeField(db_index=True)
    rpc_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"session {self.key[:8]} of {self.device_id} ({self.stage})"


class DeviceParameters(models.Model):
    """Every parameter a device reported: one JSON document per device.

    {path: [value, xsd type, writable]}. One row per device, not one per parameter: at
    100,000 devices x 1,000 parameters that is 100,000 rows instead of 100 million, and a
    refresh is one write.
    """

    device = models.OneToOneField(
        Device, on_delete=models.CASCADE, related_name="parameters", primary_key=True
    )
    values = models.JSONField(default=dict)
    #: {object path ending in ".": writable} from GetParameterNames: a writable table
    #: takes AddObject, a writable instance DeleteObject (TR-069 A.3.2.3).
    object_writable = models.JSONField(default=dict)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{len(self.values)} parameters of {self.device_id}"


class ConnectionRequestLog(models.Model):
    """The outcome of one connection request attempt."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="connection_requests")
    time = models.DateTimeField(auto_now_add=True)
    #: "http", "udp" or "xmpp" (linesman.reach.methods).
    method = models.CharField(max_length=8, default="http")
    url = models.CharField(max_length=500)
    ok = models.BooleanField()
    status_code = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    elapsed_ms = models.IntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["device", "-id"], name="connreq_device_recent")]

    def __str__(self) -> str:
        return f"connection request to {self.device_id}: {'ok' if self.ok else self.error}"


class DigestNonce(models.Model):
    """The highest nonce count a device has used with one Digest nonce (replay protection).

    In the database rather than a process's memory so that every server process and node
    sees every use. One row per nonce in use; rows past `expires` (epoch seconds) are
    useless, as the nonce itself is then refused as stale, and housekeeping deletes them.
    """

    nonce = models.CharField(max_length=128, primary_key=True)
    nc = models.BigIntegerField()
    expires = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"nonce {self.nonce[:12]} at nc {self.nc}"
