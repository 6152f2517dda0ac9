"""Webhook endpoints of an organization and the log of every delivery made to them."""

from __future__ import annotations

import uuid

from django.db import models

from linesman.tenancy.models import Organization


class Endpoint(models.Model):
    """An HTTP endpoint that receives the organization's events of the chosen types.

    The secret signs every delivery; it is stored encrypted (`core.crypto`) and never shown
    again after creation. `failure_count` counts consecutive failed attempts; past a
    threshold the endpoint is switched off with `disabled_reason` saying why.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=1000)
    secret_encrypted = models.TextField(blank=True, default="")
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "active"], name="webhook_org_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # queued, or waiting for its next retry
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # retries exhausted, or refused for good


class Delivery(models.Model):
    """One event sent (or being sent) to one endpoint; `event_id` is the idempotency key."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_webhook_event")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.endpoint_id}: {self.status}"
