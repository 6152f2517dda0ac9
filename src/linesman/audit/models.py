"""AuditEntry: one recorded change or device interaction."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    OPERATION = "operation", "Operation"
    CWMP = "cwmp", "Device interaction"
    SOAP = "soap", "Raw SOAP exchange (debug)"


class AuditEntry(models.Model):
    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    #: Who acted, kept as text so the entry survives the user's deletion ("system", "device").
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300, blank=True, default="")
    # Plain integers, not foreign keys: history must outlive the objects it describes.
    organization_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    device_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["device_id", "-id"], name="audit_device_recent")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_repr}"
