"""BulkJob (a headless operation over many devices) and its frozen targets.

A job's targets are resolved when it is created and stored as BulkJobTarget rows, one per
device, each moving pending -> running -> succeeded | failed (or pending -> skipped when
the job is cancelled). Every change is a row update in a transaction, so the job's state
is always what the database says, whichever process crashed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from linesman.inventory.models import Device
from linesman.tenancy.models import Organization


class BulkOperationType(models.TextChoices):
    BULK_SERIAL_SYNC = "bulk_serial_sync", "Read DeviceInfo and update the inventory"
    STATUS_REFRESH = "status_refresh", "Probe connectivity and update status"
    INVENTORY_AUDIT = "inventory_audit", "Read-only snapshot of the targets"
    REBOOT = "reboot", "Reboot"
    FACTORY = "factory", "Factory reset (stored configuration wiped)"
    DEVICE_FACTORY = "device_factory", "Device factory reset (configuration re-applied)"
    SYNC = "sync", "Configuration sync"
    RECONF = "reconf", "Reconfigure"
    FIRMWARE_UPGRADE = "firmware_upgrade", "Firmware upgrade"
    GET = "get", "Read parameters"
    SET = "set", "Set parameters"
    ADD_OBJECT = "add.obj", "Add object"
    DELETE_OBJECT = "del.obj", "Delete object"
    GET_ATTRIBUTES = "get.attr", "Read parameter attributes"
    SET_ATTRIBUTES = "set.attr", "Set parameter attributes (notification, access list)"


#: Other names accepted for an operation type: a device's own operation is `firmware`
#: (`linesman op`, the device page), the same work as a bulk job is `firmware_upgrade`.
OPERATION_TYPE_ALIASES = {"firmware": BulkOperationType.FIRMWARE_UPGRADE.value}


class BulkJobStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


#: A job in one of these will not change any more (except running devices of a cancelled
#: job, whose outcomes are still recorded).
FINAL_JOB_STATES = (
    BulkJobStatus.COMPLETED,
    BulkJobStatus.COMPLETED_WITH_ERRORS,
    BulkJobStatus.FAILED,
    BulkJobStatus.CANCELLED,
)


class BulkPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"


class TargetState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


DONE_TARGET_STATES = (TargetState.SUCCEEDED, TargetState.FAILED, TargetState.SKIPPED)


class BulkJob(models.Model):
    operation_type = models.CharField(max_length=32, choices=BulkOperationType.choices)
    status = models.CharField(
        max_length=24,
        choices=BulkJobStatus.choices,
        default=BulkJobStatus.SCHEDULED,
        db_index=True,
    )
    #: Which endpoint created the job (serial, id or name addressing); shapes its URLs.
    addressing = models.CharField(max_length=8, default="serial")
    priority = models.CharField(
        max_length=8, choices=BulkPriority.choices, default=BulkPriority.NORMAL
    )
    execute_at = models.DateTimeField(db_index=True)
    organizations = models.ManyToManyField(Organization, related_name="bulk_jobs", blank=True)
    #: The request's selection as given (types, status, serial numbers, locations, ...).
    filters = models.JSONField(default=dict, blank=True)
    #: Short names of the targets' device types, frozen with the targets.
    device_types = models.JSONField(default=list, blank=True)
    #: Effective options: timeout_minutes, validate_connectivity, update_firmware_info, ...
    options = models.JSONField(default=dict, blank=True)
    #: What each device operation needs: variables, firmware image, ...
    params = models.JSONField(default=dict, blank=True)
    max_concurrency = models.PositiveIntegerField(default=50)
    estimated_duration_minutes = models.PositiveIntegerField(default=1)

    total_devices = models.PositiveIntegerField(default=0)
    running_devices = models.PositiveIntegerField(default=0)
    succeeded_devices = models.PositiveIntegerField(default=0)
    failed_devices = models.PositiveIntegerField(default=0)
    skipped_devices = models.PositiveIntegerField(default=0)
    #: The most devices ever in flight at once (checked against max_concurrency).
    peak_running = models.PositiveIntegerField(default=0)
    #: Failed devices counted by cause (connection_timeouts, device_faults, ...).
    error_summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_by_name = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    #: Last sign of life of a batch runner (status_refresh, inventory_audit), for resume.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"bulk job {self.pk} {self.operation_type} ({self.status})"

    @property
    def public_id(self) -> str:
        return str(self.pk)

    @property
    def processed_devices(self) -> int:
        return self.succeeded_devices + self.failed_devices

    @property
    def pending_devices(self) -> int:
        return max(
            0,
            self.total_devices
            - self.running_devices
            - self.processed_devices
            - self.skipped_devices,
        )


class BulkJobTarget(models.Model):
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="targets")
    #: Kept (null) if the device is deleted later, so the job's results stay readable.
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="bulk_targets"
    )
    serial_number = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    organization_id = models.BigIntegerField()
    state = models.CharField(
        max_length=12, choices=TargetState.choices, default=TargetState.PENDING
    )
    operation = models.ForeignKey(
        "operations.Operation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bulk_targets",
    )
    cause = models.CharField(max_length=32, blank=True, default="")
    error = models.TextField(blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: When a connection request was last sent for this target's operation.
    kicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "device"], name="uniq_bulk_target_device")
        ]
        indexes = [models.Index(fields=["job", "state", "id"], name="bulk_target_job_state")]

    def __str__(self) -> str:
        return f"{self.serial_number} in job {self.job_id} ({self.state})"
