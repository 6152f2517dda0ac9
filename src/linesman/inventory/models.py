"""Inventory data: Device and the reference objects it points at (type, location, firmware)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Now

from linesman.core import redaction
from linesman.tenancy.models import Organization

#: Ways of asking a device for a session: TR-069's HTTP GET, Annex G's UDP datagram (to the
#: address STUN recorded) and Annex K's XMPP IQ.
CONNECTION_REQUEST_METHODS = ("http", "udp", "xmpp")


class DeviceType(models.Model):
    """A device profile: what kind of device it is and the settings template it gets.

    `organization` null means a shared type that every organization can use (managed by
    superusers).
    """

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="device_types"
    )
    short_name = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    manufacturer = models.CharField(max_length=200, blank=True, default="")
    product_class = models.CharField(max_length=200, blank=True, default="")
    #: TR-069 parameter path -> value, applied to every device of this type.
    settings_template = models.JSONField(default=dict, blank=True)
    #: Many CPEs only speak Basic auth; Digest stays the default.
    allow_basic_auth = models.BooleanField(default=False)
    #: The connection request methods tried, in this order, comma-separated: "http", "udp"
    #: (TR-069 Annex G, with STUN provisioned) and "xmpp" (Annex K, with the XMPP connection
    #: provisioned). See linesman.reach.methods.
    connection_request_methods = models.CharField(max_length=32, default="http")
    #: How devices of this type are reached, observed and kept (null: the defaults).
    connection_profile = models.ForeignKey(
        "connprofiles.ConnectionProfile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="device_types",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.short_name


class Location(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="locations"
    )
    name = models.CharField(max_length=200)
    short_name = models.SlugField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    latitude = models.CharField(max_length=32, blank=True, default="")
    longitude = models.CharField(max_length=32, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "short_name"], name="uniq_location_short_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


def firmware_upload_path(instance: FirmwareImage, filename: str) -> str:
    return f"firmware/{instance.device_type.short_name}/{uuid.uuid4().hex}-{filename}"


class FirmwareImage(models.Model):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="firmware"
    )
    device_type = models.ForeignKey(DeviceType, on_delete=models.CASCADE, related_name="firmware")
    version = models.CharField(max_length=100)
    file = models.FileField(upload_to=firmware_upload_path)
    size = models.BigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256")
    description = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["device_type", "version"], name="uniq_firmware_version")
        ]

    def __str__(self) -> str:
        return f"{self.device_type.short_name} {self.version}"


class DeviceStatus(models.TextChoices):
    UP = "Up", "Up"
    DOWN = "Down", "Down"


class Device(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="devices")
    name = models.CharField(max_length=200)
    customer_id = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    type = models.ForeignKey(DeviceType, on_delete=models.PROTECT, related_name="devices")

    serial_number = models.CharField(max_length=128, unique=True)
    serial_number_alt = models.CharField(max_length=128, blank=True, default="", db_index=True)

    is_active = models.BooleanField(default=False)
    status = models.CharField(
        max_length=4, choices=DeviceStatus.choices, default=DeviceStatus.DOWN, db_index=True
    )
    status_change = models.DateTimeField(db_default=Now(), db_index=True)

    software_version = models.CharField(max_length=100, null=True, blank=True)
    hardware_version = models.CharField(max_length=100, null=True, blank=True)
    manufacturer = models.CharField(max_length=200, null=True, blank=True)
    oui = models.CharField(max_length=16, blank=True, default="")
    product_class = models.CharField(max_length=200, null=True, blank=True)
    unique_identifier = models.CharField(max_length=300, null=True, blank=True)

    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    location_name = models.CharField(max_length=200, blank=True, default="")
    latitude = models.CharField(max_length=32, blank=True, default="")
    longitude = models.CharField(max_length=32, blank=True, default="")

    firmware_image = models.ForeignKey(
        FirmwareImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    firmware_image_is_pending = models.BooleanField(default=False)

    # CWMP credentials the device uses to authenticate to the ACS; password encrypted at rest.
    username = models.CharField(max_length=200, blank=True, default="")
    password_encrypted = models.TextField(blank=True, default="")
    # Credentials the ACS uses for connection requests to the device (set at bootstrap).
    connection_request_url = models.CharField(max_length=500, blank=True, default="")
    connection_request_username = models.CharField(max_length=200, blank=True, default="")
    connection_request_password_encrypted = models.TextField(blank=True, default="")
    # Behind NAT: the public UDP address:port the STUN server saw (TR-111 Part 2), and the
    # full JID the device reported for XMPP connection requests (ConnReqJabberID).
    udp_connection_request_address = models.CharField(max_length=64, blank=True, default="")
    udp_address_updated = models.DateTimeField(null=True, blank=True)
    xmpp_jid = models.CharField(max_length=300, blank=True, default="")
    cwmp_version = models.CharField(max_length=8, blank=True, default="")
    data_model_root = models.CharField(max_length=32, blank=True, default="")
    update_frequency = models.PositiveIntegerField(default=300)

    address = models.CharField(max_length=64, null=True, blank=True)
    # Not indexed: every Inform writes it, and an index on it would turn those updates from
    # in-place (PostgreSQL HOT) into rewrites of every index of the table.
    last_connection = models.DateTimeField(null=True, blank=True)
    last_configuration = models.DateTimeField(null=True, blank=True)
    last_change = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    debug = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_device_name_in_org")
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="device_org_status"),
            models.Index(fields=["type", "status"], name="device_type_status"),
            models.Index(fields=["name"], name="device_name"),
            models.Index(fields=["customer_id"], name="device_customer"),
            # The STUN server finds a device by its STUNUsername on every keep-alive.
            models.Index(fields=["connection_request_username"], name="device_cr_username"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial_number})"

    @property
    def password(self) -> str:
        from linesman.core import crypto

        return crypto.decrypt(self.password_encrypted)

    @property
    def connection_request_password(self) -> str:
        from linesman.core import crypto

        return crypto.decrypt(self.connection_request_password_encrypted)

    @property
    def effective_location_name(self) -> str:
        if self.location_name:
            return self.location_name
        return self.location.name if self.location_id else ""


class Parameter(models.Model):
    """The catalog of TR-069 parameters the platform knows, with display metadata."""

    name = models.CharField(max_length=200)
    variable_name = models.CharField(max_length=300, unique=True)
    short_name = models.CharField(max_length=100, blank=True, default="")
    data_type = models.CharField(max_length=32, default="xsd:string")
    group = models.CharField(max_length=100, blank=True, default="", db_index=True)
    required = models.BooleanField(default=False)
    read_only = models.BooleanField(default=False)
    metric = models.BooleanField(default=False)
    #: The device types whose devices reported this parameter (cwmp/parameters.py).
    device_types = models.ManyToManyField(DeviceType, blank=True, related_name="parameters")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.variable_name


class Setting(models.Model):
    """A device's own desired value for a parameter, on top of its type's template.

    `pending` stays true until the device confirmed the value (SetParameterValues status
    0/1, or a sync read it back).
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="settings")
    variable_name = models.CharField(max_length=300)
    value = models.TextField(blank=True, default="")
    type = models.CharField(max_length=32, default="xsd:string")
    pending = models.BooleanField(default=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)
    applied = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "variable_name"], name="uniq_device_setting")
        ]

    def __str__(self) -> str:
        # Shown by the admin and kept in audit entries: a secret reads as the marker.
        return f"{self.variable_name}={redaction.redact(self.variable_name, self.value)}"
