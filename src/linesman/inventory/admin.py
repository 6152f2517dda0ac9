"""Admin pages for the inventory."""

from __future__ import annotations

from django.contrib import admin

from linesman.core.admin_mixins import AuditedAdmin
from linesman.inventory.models import (
    Device,
    DeviceType,
    FirmwareImage,
    Location,
    Parameter,
    Setting,
)


@admin.register(Device)
class DeviceAdmin(AuditedAdmin):
    list_display = (
        "id",
        "name",
        "serial_number",
        "organization",
        "type",
        "status",
        "last_connection",
    )
    list_filter = ("status", "organization", "type")
    search_fields = ("name", "serial_number", "customer_id")
    exclude = ("password_encrypted", "connection_request_password_encrypted")
    readonly_fields = ("status", "status_change", "last_connection", "software_version")


@admin.register(DeviceType)
class DeviceTypeAdmin(AuditedAdmin):
    list_display = ("id", "short_name", "name", "manufacturer", "organization")


@admin.register(Location)
class LocationAdmin(AuditedAdmin):
    list_display = ("id", "short_name", "name", "organization", "parent")


@admin.register(FirmwareImage)
class FirmwareImageAdmin(AuditedAdmin):
    list_display = ("id", "device_type", "version", "size", "created")


@admin.register(Parameter)
class ParameterAdmin(AuditedAdmin):
    list_display = ("variable_name", "name", "group", "data_type", "read_only")
    list_filter = ("group",)


@admin.register(Setting)
class SettingAdmin(AuditedAdmin):
    list_display = ("device", "variable_name", "value", "pending")
