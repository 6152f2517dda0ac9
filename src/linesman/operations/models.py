"""Operation: one remote operation on one device, with its state machine's current state."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from linesman.inventory.models import Device


class OperationKind(models.TextChoices):
    REBOOT = "reboot", "Reboot"
    FACTORY = "factory", "Factory reset (stored configuration wiped)"
    DEVICE_FACTORY = "device_factory", "Device factory reset (stored configuration re-applied)"
    SYNC = "sync", "Configuration sync"
    RECONF = "reconf", "Reconfigure"
    FIRMWARE = "firmware", "Firmware upgrade"
    GET = "get", "Read parameters"
    SET = "set", "Set parameters"
    ADD_OBJECT = "add.obj", "Add object"
    DELETE_OBJECT = "del.obj", "Delete object"
    REFRESH = "refresh", "Refresh parameters"
    STATUS = "status", "Connectivity probe"
    DIAGNOSTIC = "diagnostic", "Diagnostic (ping, traceroute, speed test, ...)"
    GET_ATTRIBUTES = "get.attr", "Read parameter attributes"
    SET_ATTRIBUTES = "set.attr", "Set parameter attributes (notification, access list)"


#: The five operations the seeds name; clients may ask for these by name.
SEED_OPERATIONS = ("reboot", "factory", "device_factory", "sync", "reconf")


class OperationState(models.TextChoices):
    INITIATED = "initiated", "Initiated"
    DISPATCHED = "dispatched", "Dispatched"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATES = (OperationState.INITIATED, OperationState.DISPATCHED, OperationState.IN_PROGRESS)
FINAL_STATES = (
    OperationState.COMPLETED,
    OperationState.FAILED,
    OperationState.TIMED_OUT,
    OperationState.CANCELLED,
)


def new_operation_id() -> str:
    return "op_" + secrets.token_hex(8)


class Notification(models.IntegerChoices):
    """A parameter's notification attribute (TR-069 SetParameterAttributes)."""

    OFF = 0, "off"
    PASSIVE = 1, "passive"
    ACTIVE = 2, "active"


class DesiredAttribute(models.Model):
    """A parameter attribute the device should have: part of its desired configuration,
    set by `set.attr` operations and re-applied when the device bootstraps (factory reset)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="desired_attributes")
    variable_name = models.CharField(max_length=300)
    notification = models.PositiveSmallIntegerField(choices=Notification.choices)
    #: None: the access list is left as the device has it.
    access_list = models.JSONField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["variable_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "variable_name"], name="uniq_desired_attribute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.variable_name} {self.get_notification_display()} on {self.device_id}"


class Operation(models.Model):
    operation_id = models.CharField(max_length=32, unique=True, default=new_operation_id)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=16, choices=OperationKind.choices)
    state = models.CharField(
        max_length=16, choices=OperationState.choices, default=OperationState.INITIATED
    )
    #: Where a multi-step operation is (e.g. device_factory: "reset" then "reapply").
    phase = models.CharField(max_length=32, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    output = models.JSONField(default=dict, blank=True)
    result = models.CharField(max_length=16, blank=True, default="")
    error = models.TextField(blank=True, default="")
    #: Cause category for bulk error summaries (connection_timeouts, device_faults, ...).
    error_cause = models.CharField(max_length=32, blank=True, default="")
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    initiated_by_name = models.CharField(max_length=200, blank=True, default="")
    initiated_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    estimated_completion = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    bulk_job_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # The database itself guarantees one active operation per device, so two
            # concurrent requests cannot both win, on SQLite and PostgreSQL alike.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(state__in=["initiated", "dispatched", "in_progress"]),
                name="one_active_operation_per_device",
            )
        ]
        indexes = [
            models.Index(fields=["device", "-id"], name="operation_device_recent"),
            # The housekeeping sweep's "running and past its deadline", every few seconds.
            models.Index(
                fields=["deadline"],
                condition=Q(state__in=["initiated", "dispatched", "in_progress"]),
                name="operation_active_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_id} {self.kind} on {self.device_id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


from linesman.operations.bulk.models import BulkJob, BulkJobTarget  # noqa: E402,F401
