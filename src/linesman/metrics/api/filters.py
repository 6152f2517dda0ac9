"""Filter sets of the metric endpoints (names as the reference's parameter tables)."""

from __future__ import annotations

import django_filters

from linesman.core.filters import IdFilter
from linesman.metrics.models import Metric, MetricLog, Origin


class MetricFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name")
    group = django_filters.CharFilter(field_name="group")
    organization = IdFilter(field_name="organization_id")

    class Meta:
        model = Metric
        fields = ["name", "group", "organization"]


class MetricLogFilter(django_filters.FilterSet):
    # Django's form field takes 2000-01-01, 2000-01-01 00:01:00 and ISO 8601 with an offset.
    datetime__gte = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    datetime__lte = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lte")
    organization = IdFilter(field_name="device__organization_id", help_text="Organization id")
    device = IdFilter(field_name="device_id", help_text="Device id")
    device_id = IdFilter(field_name="device_id", help_text="Device id")
    device__name = django_filters.CharFilter(field_name="device__name")
    device__serial_number = django_filters.CharFilter(field_name="device__serial_number")
    serial_number = django_filters.CharFilter(field_name="device__serial_number")
    metric = IdFilter(field_name="metric_id", help_text="Metric id")
    metric__name = django_filters.CharFilter(field_name="metric__name")
    parameter = IdFilter(field_name="metric__parameter_id", help_text="Catalogue parameter id")
    parameter__name = django_filters.CharFilter(field_name="metric__parameter__name")
    parameter__variable_name = django_filters.CharFilter(
        field_name="metric__parameter__variable_name"
    )
    parameter__short_name = django_filters.CharFilter(field_name="metric__parameter__short_name")
    origin = django_filters.ChoiceFilter(
        method="filter_origin", choices=[(label, label) for _, label in Origin.choices]
    )

    class Meta:
        model = MetricLog
        fields: list[str] = []

    def filter_origin(self, queryset, name, value):
        code = next(c for c, label in Origin.choices if label == value)
        return queryset.filter(origin=code)
