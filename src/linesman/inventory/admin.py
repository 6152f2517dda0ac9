"""Admin pages for the inventory."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from linesman.core import redaction
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


class DeviceTypeForm(forms.ModelForm):
    """The template's secrets show as the marker; submitted as the marker they are kept."""

    class Meta:
        model = DeviceType
        fields = (
            "organization",
            "short_name",
            "name",
            "manufacturer",
            "product_class",
            "settings_template",
            "allow_basic_auth",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        template = self.instance.settings_template if self.instance.pk else None
        if isinstance(template, dict):
            self.initial["settings_template"] = redaction.redact_mapping(template)

    def clean_settings_template(self):
        value = self.cleaned_data.get("settings_template")
        stored = self.instance.settings_template if self.instance.pk else None
        if isinstance(value, dict) and isinstance(stored, dict):
            for name, text in value.items():
                if text == redaction.MARKER and redaction.is_secret(name) and name in stored:
                    value[name] = stored[name]
        return value


@admin.register(DeviceType)
class DeviceTypeAdmin(AuditedAdmin):
    form = DeviceTypeForm
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


class SettingForm(forms.ModelForm):
    """A secret's value shows as the marker; submitted as the marker it is kept."""

    class Meta:
        model = Setting
        fields = ("device", "variable_name", "value", "type", "pending", "applied")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            shown = redaction.redact(self.instance.variable_name, self.instance.value)
            self.initial["value"] = shown

    def clean(self):
        data = super().clean()
        if (
            self.instance.pk
            and data.get("value") == redaction.MARKER
            and redaction.is_secret(data.get("variable_name"))
            and data.get("variable_name") == self.instance.variable_name
        ):
            data["value"] = Setting.objects.get(pk=self.instance.pk).value
        return data


@admin.register(Setting)
class SettingAdmin(AuditedAdmin):
    form = SettingForm
    list_display = ("device", "variable_name", "shown_value", "pending")

    @admin.display(description="value")
    def shown_value(self, setting: Setting) -> str:
        return redaction.redact(setting.variable_name, setting.value)
