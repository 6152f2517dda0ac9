"""Filter sets for the inventory list endpoints (the seeds' query parameters)."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField as _IsoDateTimeField
from rest_framework.exceptions import ValidationError

from linesman.core.filters import IdFilter
from linesman.inventory.models import Device, DeviceStatus, DeviceType, FirmwareImage, Location

STATUS_VALUES = {
    "1": DeviceStatus.UP,
    "true": DeviceStatus.UP,
    "True": DeviceStatus.UP,
    "up": DeviceStatus.UP,
    "Up": DeviceStatus.UP,
    "0": DeviceStatus.DOWN,
    "false": DeviceStatus.DOWN,
    "False": DeviceStatus.DOWN,
    "down": DeviceStatus.DOWN,
    "Down": DeviceStatus.DOWN,
}


class StatusField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        if value not in STATUS_VALUES:
            raise forms.ValidationError(
                "Use 0/false/False for Down devices or 1/true/True for Up devices."
            )
        return STATUS_VALUES[value]


class StatusFilter(django_filters.Filter):
    field_class = StatusField


#: An offset whose "+" arrived as a space: the seed's `2000-01-01T00:01:00+00:00` pasted
#: unencoded into a query string.
_SPACED_OFFSET = re.compile(r"^(\S+T\S+) (\d{2}:?\d{2})$")


class IsoDateTimeField(_IsoDateTimeField):
    def to_python(self, value):
        if isinstance(value, str):
            value = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
        return super().to_python(value)


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField


class DeviceFilter(django_filters.FilterSet):
    type = IdFilter(field_name="type_id", help_text="Device type id")
    status = StatusFilter(
        field_name="status", help_text="0/false/False for Down, 1/true/True for Up"
    )
    last_status_change_from = IsoDateTimeFilter(
        field_name="status_change",
        lookup_expr="gte",
        help_text="Status changed at or after this time (ISO 8601)",
    )
    organization = IdFilter(field_name="organization_id", help_text="Organization id")
    location = IdFilter(field_name="location_id", help_text="Location id")
    serial_number = django_filters.CharFilter(field_name="serial_number")
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Name, serial number or customer id contains this (any case)",
    )

    class Meta:
        model = Device
        fields = ["type", "status", "last_status_change_from", "organization", "location"]

    def filter_queryset(self, queryset):
        from linesman.tenancy.services import access_for

        type_id = self.form.cleaned_data.get("type")
        if type_id is not None:
            # Another organization's type is as unknown as a missing one (no existence leak).
            types = DeviceType.objects.all()
            if self.request is not None:
                types = access_for(self.request).restrict(types, allow_shared=True)
            if not types.filter(pk=type_id).exists():
                raise ValidationError({"type": ["Unknown device type."]})
        return super().filter_queryset(queryset)

    @staticmethod
    def filter_search(queryset, _name, value: str):
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(name__icontains=term)
            | Q(serial_number__icontains=term)
            | Q(customer_id__icontains=term)
        )


class OrganizationScopedFilter(django_filters.FilterSet):
    organization = IdFilter(field_name="organization_id")


class DeviceTypeFilter(OrganizationScopedFilter):
    class Meta:
        model = DeviceType
        fields = ["organization", "short_name"]


class LocationFilter(OrganizationScopedFilter):
    parent = IdFilter(field_name="parent_id", help_text="Parent location id")

    class Meta:
        model = Location
        fields = ["organization", "short_name", "parent"]


class FirmwareImageFilter(OrganizationScopedFilter):
    device_type = IdFilter(field_name="device_type_id", help_text="Device type id")

    class Meta:
        model = FirmwareImage
        fields = ["organization", "device_type", "version"]
