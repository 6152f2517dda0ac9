"""Serializers for devices and the reference resources, in the seeds' field names and types."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from linesman.connprofiles.models import ConnectionProfile
from linesman.core import redaction, textcheck
from linesman.inventory.firmware import last_upgrade
from linesman.inventory.models import (
    CONNECTION_REQUEST_METHODS,
    Device,
    DeviceType,
    FirmwareImage,
    Location,
)
from linesman.inventory.services import MIN_UPDATE_FREQUENCY, managed_parameter_problems
from linesman.operations.models import SEED_OPERATIONS
from linesman.tenancy.models import Organization
from linesman.tenancy.services import access_for


def _coordinate(value, limit: int, field: str) -> str:
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise serializers.ValidationError(f"{field} must be a decimal number.") from None
    if not number.is_finite() or abs(number) > limit:
        raise serializers.ValidationError(f"{field} must be between -{limit} and {limit}.")
    return str(value).strip()


class CoordinateField(serializers.CharField):
    """Latitude/longitude as a decimal string (the seeds' JSON type); numbers accepted too."""

    def __init__(self, limit: int, **kwargs):
        self.limit = limit
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            raise serializers.ValidationError("A decimal number is required.")
        return _coordinate(data, self.limit, self.field_name)

    def to_representation(self, value):
        return value or None


class VisiblePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key restricted to what the requesting user can see (unknown -> 400)."""

    def __init__(self, *, model, org_field: str = "organization_id", allow_shared=False, **kw):
        self.model, self.org_field, self.allow_shared = model, org_field, allow_shared
        super().__init__(**kw)

    def get_queryset(self):
        request = self.context.get("request")
        queryset = self.model.objects.all()
        if request is None:
            return queryset
        return access_for(request).restrict(
            queryset, self.org_field, allow_shared=self.allow_shared
        )


#: Fields of a device list item, exactly as the seed's list example shows them.
LIST_FIELDS = (
    "id",
    "uuid",
    "name",
    "customer_id",
    "is_active",
    "status",
    "status_change",
    "type",
    "type_short_name",
    "software_version",
    "hardware_version",
    "manufacturer",
    "serial_number",
    "description",
    "organization_id",
    "location_name",
    "location",
    "location_short_name",
    "latitude",
    "longitude",
    "address",
    "last_connection",
    "last_configuration",
    "created",
    "pending_settings",
)


class DeviceSerializer(serializers.ModelSerializer):
    type = VisiblePrimaryKeyField(model=DeviceType, allow_shared=True)
    type_short_name = serializers.CharField(source="type.short_name", read_only=True)
    organization_id = serializers.IntegerField()
    location = VisiblePrimaryKeyField(model=Location, required=False, allow_null=True)
    location_name = serializers.CharField(
        source="effective_location_name", required=False, allow_blank=True, max_length=200
    )
    location_short_name = serializers.SerializerMethodField()
    firmware_image = VisiblePrimaryKeyField(
        model=FirmwareImage, required=False, allow_null=True, allow_shared=True
    )
    latitude = CoordinateField(90)
    longitude = CoordinateField(180)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        style={"input_type": "password"},
    )
    update_frequency = serializers.IntegerField(
        required=False, min_value=MIN_UPDATE_FREQUENCY, max_value=7 * 86400
    )
    pending_settings = serializers.SerializerMethodField()
    #: The last firmware upgrade (state, version, URL given to the device, fault): the
    #: firmware fields above show what the device reports and what is pending.
    firmware_upgrade = serializers.SerializerMethodField()
    reboot = serializers.BooleanField(write_only=True, required=False)
    factory = serializers.BooleanField(write_only=True, required=False)
    device_factory = serializers.BooleanField(write_only=True, required=False)
    sync = serializers.BooleanField(write_only=True, required=False)
    reconf = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = Device
        fields = (
            "id",
            "uuid",
            "name",
            "customer_id",
            "is_active",
            "status",
            "status_change",
            "type",
            "type_short_name",
            "software_version",
            "hardware_version",
            "manufacturer",
            "unique_identifier",
            "product_class",
            "serial_number",
            "serial_number_alt",
            "description",
            "organization_id",
            "firmware_image",
            "firmware_image_is_pending",
            "firmware_upgrade",
            "location_name",
            "location",
            "location_short_name",
            "latitude",
            "longitude",
            "username",
            "password",
            "update_frequency",
            "address",
            "last_connection",
            "last_configuration",
            "last_change",
            "created",
            "debug",
            "pending_settings",
            *SEED_OPERATIONS,
        )
        read_only_fields = (
            "id",
            "uuid",
            "status",
            "status_change",
            "software_version",
            "hardware_version",
            "manufacturer",
            "unique_identifier",
            "product_class",
            "address",
            "last_connection",
            "last_configuration",
            "last_change",
            "created",
        )
        extra_kwargs = {
            "customer_id": {"required": False},
            "description": {"required": False},
            "serial_number_alt": {"required": False},
            "username": {"required": False},
            "is_active": {"required": False},
            "debug": {"required": False},
            "firmware_image_is_pending": {"required": False},
        }

    def __init__(self, *args, list_item: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if list_item:
            for name in set(self.fields) - set(LIST_FIELDS):
                self.fields.pop(name)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_location_short_name(self, device: Device) -> str | None:
        return device.location.short_name if device.location_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pending_settings(self, device: Device) -> str | None:
        pending = self.context.get("pending_settings")
        if pending is not None:
            return pending.get(device.pk)
        from linesman.operations.pending import pending_settings_for

        detailed = bool(self.context.get("pending_detail"))
        return pending_settings_for([device], detailed=detailed).get(device.pk)

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_firmware_upgrade(self, device: Device) -> dict | None:
        return last_upgrade(device.pk)

    def validate_organization_id(self, value: int) -> int:
        if not Organization.objects.filter(pk=value).exists():
            raise serializers.ValidationError("Unknown organization.")
        return value

    def validate(self, attrs):
        # The API's parsers check bodies already; the CLI's import feeds this serializer
        # directly, and a device's fields travel to it in SOAP (core.textcheck).
        textcheck.refuse({k: v for k, v in attrs.items() if isinstance(v, str)})
        attrs = dict(attrs)
        if "effective_location_name" in attrs:
            attrs["location_name"] = attrs.pop("effective_location_name")
        instance = self.instance
        org_id = attrs.get("organization_id", getattr(instance, "organization_id", None))
        device_type = attrs.get("type", getattr(instance, "type", None))
        location = attrs.get("location", getattr(instance, "location", None))
        image = attrs.get("firmware_image", getattr(instance, "firmware_image", None))
        errors = {}
        if device_type is not None and device_type.organization_id not in (None, org_id):
            errors["type"] = ["This device type belongs to another organization."]
        if location is not None and location.organization_id != org_id:
            errors["location"] = ["This location belongs to another organization."]
        if "name" in attrs and org_id is not None:
            clash = Device.objects.filter(organization_id=org_id, name=attrs["name"])
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["name"] = ["A device with this name already exists in the organization."]
        if errors:
            raise serializers.ValidationError(errors)
        # Checked after the 400s: an image of another type is well-formed but inapplicable.
        self.firmware_mismatch = (
            "firmware_image" in attrs
            and image is not None
            and device_type is not None
            and image.device_type_id != device_type.pk
        )
        return attrs


class DeviceListItemSerializer(DeviceSerializer):
    """A device as the lists show it (`list_item`): documents that shape in the schema."""

    class Meta(DeviceSerializer.Meta):
        fields = LIST_FIELDS


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ("id", "name", "description", "created")
        read_only_fields = ("id", "created")


class DeviceTypeSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(required=False, allow_null=True)
    connection_profile = VisiblePrimaryKeyField(
        model=ConnectionProfile, allow_shared=True, required=False, allow_null=True
    )

    class Meta:
        model = DeviceType
        fields = (
            "id",
            "short_name",
            "name",
            "manufacturer",
            "product_class",
            "organization_id",
            "settings_template",
            "allow_basic_auth",
            "connection_request_methods",
            "connection_profile",
            "created",
        )
        read_only_fields = ("id", "created")

    def validate_connection_request_methods(self, value: str) -> str:
        methods = [m.strip() for m in value.split(",")]
        unknown = [m for m in methods if m not in CONNECTION_REQUEST_METHODS]
        if unknown or not methods:
            raise serializers.ValidationError(
                f"A comma-separated list of {', '.join(CONNECTION_REQUEST_METHODS)}, "
                "in the order to try them."
            )
        if len(set(methods)) != len(methods):
            raise serializers.ValidationError("A method is listed twice.")
        return ",".join(methods)

    def validate_settings_template(self, value):
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in value.items()
        ):
            raise serializers.ValidationError(
                "Must be an object mapping TR-069 parameter paths to scalar values."
            )
        problems = managed_parameter_problems(list(value))
        if problems:
            raise serializers.ValidationError(problems)
        template = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        # Secrets read back as the marker; writing that back keeps the stored value.
        stored = (self.instance.settings_template or {}) if self.instance is not None else {}
        unknown = []
        for name, text in template.items():
            if text == redaction.MARKER and redaction.is_secret(name):
                if name in stored:
                    template[name] = stored[name]
                else:
                    unknown.append(name)
        if unknown:
            raise serializers.ValidationError(
                f"{redaction.MARKER} stands for a stored secret; send the value for: "
                + ", ".join(sorted(unknown))
            )
        return template

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if isinstance(data.get("settings_template"), dict):
            # Secrets are write-only, for every role; the stored template keeps them.
            data["settings_template"] = redaction.redact_mapping(data["settings_template"])
        return data


class LocationSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField()
    parent = VisiblePrimaryKeyField(model=Location, required=False, allow_null=True)
    latitude = CoordinateField(90)
    longitude = CoordinateField(180)

    class Meta:
        model = Location
        fields = (
            "id",
            "name",
            "short_name",
            "organization_id",
            "parent",
            "latitude",
            "longitude",
            "created",
        )
        read_only_fields = ("id", "created")

    def validate(self, attrs):
        org_id = attrs.get("organization_id", getattr(self.instance, "organization_id", None))
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        if parent is not None and parent.organization_id != org_id:
            raise serializers.ValidationError(
                {"parent": ["The parent location belongs to another organization."]}
            )
        # No cycles: the new parent must not be this location or one of its descendants.
        seen: set[int] = set()
        ancestor = parent if self.instance is not None else None
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == self.instance.pk:
                raise serializers.ValidationError(
                    {"parent": ["A location cannot be inside itself."]}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        short_name = attrs.get("short_name")
        if short_name and org_id is not None:
            clash = Location.objects.filter(organization_id=org_id, short_name=short_name)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"short_name": ["A location with this short name already exists."]}
                )
        return attrs


class FirmwareImageSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(required=False, allow_null=True)
    device_type = VisiblePrimaryKeyField(model=DeviceType, allow_shared=True)
    file = serializers.FileField(write_only=True)

    class Meta:
        model = FirmwareImage
        fields = (
            "id",
            "device_type",
            "version",
            "organization_id",
            "file",
            "size",
            "checksum",
            "description",
            "created",
        )
        read_only_fields = ("id", "size", "checksum", "created")

    def validate_version(self, value: str) -> str:
        # Any printable version is accepted (devices report versions like "V1.2 (r5)");
        # the download URL carries it in a form safe in a path (inventory.firmware).
        # Control characters cannot be a version a device reports in its Inform.
        value = value.strip()
        if not value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise serializers.ValidationError(
                "A version is printable text (no control characters) and not blank."
            )
        return value


def _datetime(value, zone) -> str | None:
    """A datetime as DeviceSerializer renders it (ISO 8601 in `zone`, UTC as `Z`)."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _text(value) -> str | None:
    return None if value is None else str(value)


#: Fields of a device detail: the serializer's readable fields, in its order.
DETAIL_FIELDS = tuple(
    name
    for name in DeviceSerializer.Meta.fields
    if name != "password" and name not in SEED_OPERATIONS
)


def _values(device: Device, pending: dict[int, str | None], detail: bool) -> dict:
    """The rendered fields of LIST_FIELDS, and with `detail` those of DETAIL_FIELDS too."""
    location = device.location if device.location_id else None
    zone = timezone.get_current_timezone()
    values = {
        "id": device.pk,
        "uuid": str(device.uuid),
        "name": device.name,
        "customer_id": device.customer_id,
        "is_active": device.is_active,
        "status": device.status,
        "status_change": _datetime(device.status_change, zone),
        "type": device.type_id,
        "type_short_name": device.type.short_name,
        "software_version": _text(device.software_version),
        "hardware_version": _text(device.hardware_version),
        "manufacturer": _text(device.manufacturer),
        "serial_number": device.serial_number,
        "description": device.description,
        "organization_id": device.organization_id,
        "location_name": device.location_name or (location.name if location else ""),
        "location": device.location_id,
        "location_short_name": location.short_name if location else None,
        "latitude": device.latitude or None,
        "longitude": device.longitude or None,
        "address": _text(device.address),
        "last_connection": _datetime(device.last_connection, zone),
        "last_configuration": _datetime(device.last_configuration, zone),
        "created": _datetime(device.created, zone),
        "pending_settings": pending.get(device.pk),
    }
    if detail:
        values.update(
            unique_identifier=_text(device.unique_identifier),
            product_class=_text(device.product_class),
            serial_number_alt=device.serial_number_alt,
            firmware_image=device.firmware_image_id,
            firmware_image_is_pending=device.firmware_image_is_pending,
            firmware_upgrade=last_upgrade(device.pk),
            username=device.username,
            update_frequency=device.update_frequency,
            last_change=_datetime(device.last_change, zone),
            debug=device.debug,
        )
    return values


def list_item(device: Device, pending: dict[int, str | None]) -> dict:
    """A device list item, the same as `DeviceSerializer(list_item=True)` renders it, built
    directly: the generic serializer costs about 0.3 ms a row in field dispatch, which is
    most of a page of 50. tests/api/test_device_list_item.py holds the two equal."""
    values = _values(device, pending, detail=False)
    return {name: values[name] for name in LIST_FIELDS}


def detail_item(device: Device, pending: dict[int, str | None]) -> dict:
    """A device as `DeviceSerializer` renders it (held equal by the same tests)."""
    values = _values(device, pending, detail=True)
    return {name: values[name] for name in DETAIL_FIELDS}
