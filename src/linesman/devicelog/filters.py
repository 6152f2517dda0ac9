"""Filters of `inventory_device_log/`: device (id, name, serial), time range, action, status."""

from __future__ import annotations

from datetime import UTC

import django_filters

from linesman.core.filters import IdFilter
from linesman.devicelog.models import LOG_STATUSES, DeviceLogEntry, LogAction


class DeviceLogFilter(django_filters.FilterSet):
    device = IdFilter(field_name="device_id")
    device__name = django_filters.CharFilter(field_name="device__name")
    device__serial_number = django_filters.CharFilter(field_name="device__serial_number")
    datetime__gte = django_filters.IsoDateTimeFilter(field_name="time", method="_since")
    datetime__lte = django_filters.IsoDateTimeFilter(field_name="time", method="_until")
    action = django_filters.ChoiceFilter(field_name="action", choices=LogAction.choices)
    status = django_filters.ChoiceFilter(
        field_name="status", choices=[(s, s) for s in LOG_STATUSES]
    )
    operation_id = django_filters.CharFilter(field_name="operation_id")

    # In UTC: PostgreSQL refuses offsets beyond 15:59 that ISO 8601 allows (a 500 before).
    def _since(self, queryset, name, value):
        return queryset.filter(time__gte=value.astimezone(UTC))

    def _until(self, queryset, name, value):
        return queryset.filter(time__lte=value.astimezone(UTC))

    class Meta:
        model = DeviceLogEntry
        fields = [
            "device",
            "device__name",
            "device__serial_number",
            "datetime__gte",
            "datetime__lte",
            "action",
            "status",
            "operation_id",
        ]
