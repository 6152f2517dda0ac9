"""Metric definitions and the metric log (the time series).

The log is the one big table: 100,000 devices x 10 metrics every 5 minutes for 30 days is
8.6 billion rows, so each row is narrow (time, device, metric, two floats, an origin code;
about 85 bytes with PostgreSQL's tuple header, some 730 GB in all plus the (device, time)
index), it has one B-tree index (device, time) for a device's series, and a time index:
on PostgreSQL a BRIN index (a few pages for the whole table, since rows arrive in time
order) on a table partitioned by day (migration 0003), whose expired days retention drops
whole. Metric and parameter names are joined in, never copied into each row.

Migrations that alter MetricLog must keep migration 0003 in mind: on PostgreSQL the table
is not the one the model's state describes (primary key (id, time), a sequence for id).
"""

from __future__ import annotations

from django.db import models

from linesman.inventory.models import Device, DeviceType, Parameter
from linesman.tenancy.models import Organization


class MetricKind(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute: the value as read"
    COUNTER = "counter", "Counter: a growing total, stored as a rate per second"
    DELTA = "delta", "Delta: the change since the previous reading, as reported"


class Metric(models.Model):
    """What to measure: a TR-069 parameter read from devices (of one type, or of all).

    `organization` null is a shared definition (superusers manage it) that applies to the
    devices of every organization. `parameter_path` is a full path (`Device.X.Y`,
    `InternetGatewayDevice.X.Y`) or one relative to the device's data model root (`X.Y`),
    so one definition serves TR-181 and TR-098 devices.
    """

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="metrics"
    )
    name = models.CharField(max_length=100)
    parameter_path = models.CharField(max_length=300)
    kind = models.CharField(max_length=8, choices=MetricKind.choices, default=MetricKind.ABSOLUTE)
    group = models.CharField(max_length=100, blank=True, default="")
    unit = models.CharField(max_length=32, blank=True, default="")
    device_type = models.ForeignKey(
        DeviceType, null=True, blank=True, on_delete=models.CASCADE, related_name="metrics"
    )
    #: The catalogue entry of the path (flagged `metric`), for the `parameter__*` filters.
    parameter = models.ForeignKey(
        Parameter, null=True, blank=True, on_delete=models.SET_NULL, related_name="metrics"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_metric_name_in_org")
        ]

    def __str__(self) -> str:
        return self.name


class TypeCollection(models.Model):
    """How often the metrics of one device type that Informs do not carry are read
    (GetParameterValues in the device's own session); LINESMAN_METRIC_COLLECTION_INTERVAL
    for types without a row. 0: only what Informs carry."""

    device_type = models.OneToOneField(
        DeviceType, on_delete=models.CASCADE, primary_key=True, related_name="metric_collection"
    )
    interval = models.PositiveIntegerField(help_text="seconds; 0 reads nothing extra")

    def __str__(self) -> str:
        return f"{self.device_type_id}: every {self.interval}s"


class Origin(models.IntegerChoices):
    INFORM = 1, "inform"
    COLLECTION = 2, "collection"
    OPERATION = 3, "operation"


class MetricLog(models.Model):
    """One point of a device's metric: `raw` as the device said it, `value` after the
    metric's kind (a counter's rate per second; null for a counter's first reading and
    after a reset, when no rate can be told)."""

    id = models.BigAutoField(primary_key=True)
    time = models.DateTimeField()
    device = models.ForeignKey(Device, on_delete=models.CASCADE, db_index=False, related_name="+")
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, db_index=False, related_name="+")
    raw = models.FloatField()
    value = models.FloatField(null=True)
    origin = models.PositiveSmallIntegerField(choices=Origin.choices)

    class Meta:
        ordering = ["time", "id"]
        indexes = [models.Index(fields=["device", "time"], name="metriclog_device_time")]

    def __str__(self) -> str:
        return f"{self.metric_id}@{self.device_id} {self.time:%Y-%m-%d %H:%M:%S} {self.raw}"
