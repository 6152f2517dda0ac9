"""Forms of the dashboard: device list filters and operation requests."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from linesman.inventory.filters import STATUS_VALUES
from linesman.inventory.models import Device, DeviceStatus
from linesman.operations.models import SEED_OPERATIONS, OperationKind


@dataclass(frozen=True)
class OperationButton:
    kind: str
    label: str
    #: Destructive operations interrupt service or lose configuration: they ask first.
    confirm: str = ""


BUTTONS = [
    OperationButton(
        "reboot", "Reboot", "Reboot {name}? The device drops its links while it restarts."
    ),
    OperationButton(
        "factory",
        "Factory reset",
        "Factory reset {name}? The device AND its stored configuration are wiped.",
    ),
    OperationButton(
        "device_factory",
        "Device factory reset",
        "Factory reset {name}? Its stored configuration is re-applied afterwards.",
    ),
    OperationButton("sync", "Sync"),
    OperationButton("reconf", "Reconfigure"),
]
FIRMWARE_CONFIRM = "Upgrade {name} to firmware {version}? The device reboots to install it."
assert [b.kind for b in BUTTONS] == list(SEED_OPERATIONS)

#: What the operate endpoint accepts: the seed operations, a parameter refresh, firmware.
OPERATE_CHOICES = [(b.kind, b.label) for b in BUTTONS] + [
    (OperationKind.REFRESH, "Refresh parameters"),
    (OperationKind.FIRMWARE, "Firmware upgrade"),
]


def confirmation_for(kind: str, device: Device, image=None) -> str:
    """The question a destructive operation asks before it runs ("" when none)."""
    if kind == OperationKind.FIRMWARE:
        return FIRMWARE_CONFIRM.format(name=device.name, version=image.version if image else "?")
    for button in BUTTONS:
        if button.kind == kind:
            return button.confirm.format(name=device.name)
    return ""


class OperateForm(forms.Form):
    operation = forms.ChoiceField(choices=OPERATE_CHOICES)
    firmware_image = forms.ModelChoiceField(queryset=None, required=False)
    confirmed = forms.BooleanField(required=False)

    def __init__(self, *args, images=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["firmware_image"].queryset = images

    def clean(self):
        data = super().clean()
        if data.get("operation") == OperationKind.FIRMWARE and not data.get("firmware_image"):
            self.add_error("firmware_image", "Choose a firmware image of this device's type.")
        return data


def normalise_status(value: str | None) -> str | None:
    """ "Up"/"Down" for any spelling the API accepts, case-insensitively; None otherwise."""
    if not value:
        return None
    text = str(value).strip()
    return STATUS_VALUES.get(text) or STATUS_VALUES.get(text.lower())


SORTS = {
    "name": "name",
    "serial": "serial_number",
    "type": "type__short_name",
    "org": "organization__name",
    "status": "status",
    "changed": "status_change",
    "seen": "last_connection",
    "version": "software_version",
    "location": "location_name",
}


class DeviceListForm(forms.Form):
    """The device list's controls. Filtering itself is the API's `DeviceFilter`."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    #: What the API's `status` accepts (1/true/up, 0/false/down), in any letter case.
    status = forms.CharField(
        required=False,
        widget=forms.Select(choices=[("", "any status"), *DeviceStatus.choices]),
    )
    type = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    organization = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    location = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(
        required=False, choices=[(k, k) for k in SORTS] + [("-" + k, k) for k in SORTS]
    )

    def __init__(self, *args, types=(), organizations=(), locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        status = normalise_status(self.data.get("status"))
        if status and self.data.get("status") != status:
            # Shown selected in the control whatever spelling the link used.
            self.data = self.data.copy()
            self.data["status"] = status
        self.fields["type"].choices = [("", "any type")] + [(t.pk, t.short_name) for t in types]
        self.fields["organization"].choices = [("", "any organization")] + [
            (o.pk, o.name) for o in organizations
        ]
        self.fields["location"].choices = [("", "any location")] + [
            (loc.pk, loc.name) for loc in locations
        ]

    def clean_status(self) -> str:
        value = self.cleaned_data.get("status") or ""
        if value and not normalise_status(value):
            raise forms.ValidationError("Use up/down, 1/0 or true/false.")
        return normalise_status(value) or ""

    def ordering(self) -> list[str]:
        sort = (self.cleaned_data.get("sort") if self.is_bound and self.is_valid() else "") or ""
        field = SORTS.get(sort.lstrip("-"))
        if field is None:
            return ["name", "id"]
        return [("-" if sort.startswith("-") else "") + field, "id"]
