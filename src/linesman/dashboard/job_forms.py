"""The bulk job form: what a person fills in, turned into the API's request body.

The body goes through `operations.bulk.spec.parse`, exactly like a POST to the headless
operation endpoint, so every rule (roles, targets, options) is checked there, not here.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from linesman.operations.bulk.models import BulkOperationType, BulkPriority

#: Job types that change devices: the form shows what will be hit and asks before creating.
ASK_FIRST = {
    BulkOperationType.REBOOT,
    BulkOperationType.FACTORY,
    BulkOperationType.DEVICE_FACTORY,
    BulkOperationType.RECONF,
    BulkOperationType.FIRMWARE_UPGRADE,
    BulkOperationType.SET,
    BulkOperationType.ADD_OBJECT,
    BulkOperationType.DELETE_OBJECT,
}

STATUS_CHOICES = [
    ("", "any status"),
    ("up", "Up"),
    ("down", "Down"),
    ("pending", "with something pending"),
]


def parse_variables(text: str) -> list[dict[str, str]]:
    """One per line: NAME, NAME=VALUE or NAME:TYPE=VALUE."""
    items = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        name, _, kind = name.partition(":")
        item = {"variable_name": name.strip()}
        if sep:
            item["value"] = value.strip()
        if kind.strip():
            item["type"] = kind.strip()
        items.append(item)
    return items


def split_words(text: str) -> list[str]:
    return [word for word in re.split(r"[\s,;]+", text) if word]


class BulkJobForm(forms.Form):
    operation_type = forms.ChoiceField(choices=BulkOperationType.choices, initial="reboot")
    organizations = forms.MultipleChoiceField(
        required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    device_types = forms.MultipleChoiceField(
        required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    locations = forms.MultipleChoiceField(
        required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    serial_numbers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "serial numbers, any separator"}),
    )
    execute_at = forms.DateTimeField(
        required=False,
        label="Start at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    priority = forms.ChoiceField(choices=BulkPriority.choices, initial=BulkPriority.NORMAL)
    timeout_minutes = forms.FloatField(required=False, label="Per-device time-out (min)")
    max_concurrency = forms.IntegerField(required=False, label="Devices at once")
    validate_connectivity = forms.BooleanField(required=False)
    update_firmware_info = forms.BooleanField(required=False, initial=True)
    firmware_image = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    variables = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Device.WiFi.SSID.1.SSID=Guest  (get: names only)"}
        ),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organizations=(), types=(), locations=(), images=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizations"].choices = [(o.pk, o.name) for o in organizations]
        self.fields["device_types"].choices = [(t.pk, t.short_name) for t in types]
        self.fields["locations"].choices = [(loc.pk, loc.name) for loc in locations]
        self.fields["firmware_image"].choices = [("", "—")] + [
            (i.pk, f"{i.device_type.short_name} {i.version}") for i in images
        ]

    @property
    def asks_first(self) -> bool:
        return self.cleaned_data.get("operation_type") in ASK_FIRST

    def body(self) -> dict[str, Any]:
        """The POST body of inventory_device_serial_headless_operation/ for this form."""
        data = self.cleaned_data
        body: dict[str, Any] = {"operation_type": data["operation_type"]}
        if data["organizations"]:
            body["target_organizations"] = [int(o) for o in data["organizations"]]
        filters: dict[str, Any] = {}
        if data["device_types"]:
            filters["types"] = [int(t) for t in data["device_types"]]
        if data["locations"]:
            filters["locations"] = [int(loc) for loc in data["locations"]]
        if data["status"]:
            filters["status"] = [data["status"]]
        if data["serial_numbers"].strip():
            filters["serial_numbers"] = split_words(data["serial_numbers"])
        if filters:
            body["device_filters"] = filters
        schedule = {"priority": data["priority"]}
        if data["execute_at"]:
            schedule["execute_at"] = data["execute_at"].isoformat()
        body["schedule"] = schedule
        options: dict[str, Any] = {
            "validate_connectivity": data["validate_connectivity"],
            "update_firmware_info": data["update_firmware_info"],
        }
        if data["timeout_minutes"] is not None:
            options["timeout_minutes"] = data["timeout_minutes"]
        if data["max_concurrency"] is not None:
            options["max_concurrency"] = data["max_concurrency"]
        body["options"] = options
        if data["variables"].strip():
            body["variables"] = parse_variables(data["variables"])
        if data["firmware_image"]:
            body["firmware_image"] = data["firmware_image"]
        return body


def retry_body(job, failed_device_ids: list[int]) -> dict[str, Any]:
    """A new job's body: the same operation, options and parameters, on the failed devices."""
    options = {
        key: job.options[key]
        for key in (
            "timeout_minutes",
            "validate_connectivity",
            "update_firmware_info",
            "max_concurrency",
        )  # fmt: skip
        if job.options.get(key) is not None
    }
    body: dict[str, Any] = {
        "operation_type": job.operation_type,
        "device_filters": {"device_ids": failed_device_ids},
        "schedule": {"priority": job.priority},
        "options": options,
    }
    organizations = sorted(job.organizations.values_list("pk", flat=True))
    if organizations:
        body["target_organizations"] = organizations
    if job.params.get("variables"):
        body["variables"] = job.params["variables"]
    if job.params.get("firmware_image"):
        body["firmware_image"] = job.params["firmware_image"]
    return body
