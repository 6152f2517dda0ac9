"""A connection profile: the connection, collection and storage services of a device type."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from linesman.tenancy.models import Organization

#: Connection-request methods the platform knows, in TR-069's terms (HTTP: 3.2.2; UDP:
#: Annex G; XMPP: Annex K).
CONNECTION_REQUEST_METHODS = ("http", "udp", "xmpp")


class LogLevel(models.TextChoices):
    OFF = "off", "Nothing"
    EVENTS = "events", "Sessions, RPC outcomes, operations, status"


def validate_methods(value) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not value:
        raise ValidationError("A non-empty list of methods, in the order they are tried.")
    unknown = [m for m in value if m not in CONNECTION_REQUEST_METHODS]
    if unknown or len(set(value)) != len(value):
        raise ValidationError(
            f"Methods are distinct values of {', '.join(CONNECTION_REQUEST_METHODS)}."
        )


class ConnectionProfile(models.Model):
    """`organization` null: a shared profile every organization can see (superusers
    manage it), as with device types. Null values mean "the platform's default"."""

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="connection_profiles",
    )
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    # connection service
    #: null: the device type's own methods apply.
    connection_request_methods = models.JSONField(
        null=True, blank=True, default=None, validators=[validate_methods]
    )
    # collection service
    metrics_interval = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(60), MaxValueValidator(7 * 86400)],
        help_text="seconds between metric collections",
    )
    log_level = models.CharField(max_length=16, choices=LogLevel.choices, default=LogLevel.EVENTS)
    # storage service
    log_retention_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
