"""Serializers of metric definitions and metric log points."""

from __future__ import annotations

import re

from rest_framework import serializers

from linesman.inventory.models import DeviceType
from linesman.metrics.models import Metric, MetricKind, MetricLog, Origin

#: The reference's one-letter kinds are accepted too.
_KIND_ALIASES = {"a": MetricKind.ABSOLUTE, "c": MetricKind.COUNTER, "d": MetricKind.DELTA}
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")


class KindField(serializers.ChoiceField):
    def to_internal_value(self, data):
        if isinstance(data, str) and data in _KIND_ALIASES:
            data = _KIND_ALIASES[data].value
        return super().to_internal_value(data)


class MetricSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(required=False, allow_null=True)
    device_type_id = serializers.IntegerField(required=False, allow_null=True)
    kind = KindField(choices=MetricKind.choices, required=False)
    parameter_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Metric
        fields = (
            "id",
            "name",
            "parameter_path",
            "kind",
            "group",
            "unit",
            "device_type_id",
            "organization_id",
            "parameter_id",
            "created",
        )
        read_only_fields = ("id", "created", "parameter_id")

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Must not be blank.")
        return value.strip()

    def validate_parameter_path(self, value: str) -> str:
        if not _PATH.match(value):
            raise serializers.ValidationError(
                "A TR-069 parameter path is required (e.g. Device.IP.Interface.1.Stats."
                "BytesSent, or relative to the data model root: IP.Interface.1.Stats.BytesSent)."
            )
        return value

    def validate(self, attrs):
        org_id = attrs.get("organization_id", getattr(self.instance, "organization_id", None))
        type_id = attrs.get("device_type_id", getattr(self.instance, "device_type_id", None))
        if type_id is not None:
            owner = DeviceType.objects.filter(pk=type_id).values_list("organization_id", flat=True)
            found = list(owner)
            if not found or found[0] not in (None, org_id):
                raise serializers.ValidationError(
                    {"device_type_id": ["Unknown device type, or one of another organization."]}
                )
        name = attrs.get("name", getattr(self.instance, "name", None))
        clash = Metric.objects.filter(name=name, organization_id=org_id)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"name": ["A metric of this name exists."]})
        return attrs


class MetricLogSerializer(serializers.ModelSerializer):
    datetime = serializers.DateTimeField(source="time")
    device_id = serializers.IntegerField()
    device_name = serializers.CharField(source="device.name")
    serial_number = serializers.CharField(source="device.serial_number")
    metric_id = serializers.IntegerField()
    metric_name = serializers.CharField(source="metric.name")
    kind = serializers.CharField(source="metric.kind")
    unit = serializers.CharField(source="metric.unit")
    parameter = serializers.SerializerMethodField()
    origin = serializers.SerializerMethodField()

    class Meta:
        model = MetricLog
        fields = (
            "id",
            "datetime",
            "device_id",
            "device_name",
            "serial_number",
            "metric_id",
            "metric_name",
            "kind",
            "unit",
            "parameter",
            "raw",
            "value",
            "origin",
        )

    def get_parameter(self, obj: MetricLog) -> str:
        return obj.metric.parameter_path

    def get_origin(self, obj: MetricLog) -> str:
        return Origin(obj.origin).label


#: The columns `list_item` renders from: the list reads plain rows, not model instances.
LIST_FIELDS = (
    "id",
    "time",
    "device_id",
    "device__name",
    "device__serial_number",
    "metric_id",
    "metric__name",
    "metric__kind",
    "metric__unit",
    "metric__parameter_path",
    "raw",
    "value",
    "origin",
)
_DATETIME = serializers.DateTimeField()
_ORIGINS = dict(Origin.choices)


def list_item(row: dict) -> dict:
    """A point of the list from a `LIST_FIELDS` row, as MetricLogSerializer renders it.

    A week of one device's ten metrics is 20,160 points; building a model instance and
    running the serializer's fields for each costs several times the query, so the list
    renders plain rows here (tests/metrics/test_metrics.py holds the two equal).
    """
    return {
        "id": row["id"],
        "datetime": _DATETIME.to_representation(row["time"]),
        "device_id": row["device_id"],
        "device_name": row["device__name"],
        "serial_number": row["device__serial_number"],
        "metric_id": row["metric_id"],
        "metric_name": row["metric__name"],
        "kind": row["metric__kind"],
        "unit": row["metric__unit"],
        "parameter": row["metric__parameter_path"],
        "raw": row["raw"],
        "value": row["value"],
        "origin": _ORIGINS[row["origin"]],
    }
