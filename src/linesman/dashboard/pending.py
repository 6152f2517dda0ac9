"""What is pending on a device, in words: "Reboot scheduled at 02:43 UTC",
"Firmware 2.5.0 pending", "Device.WiFi.SSID.1.SSID → guest pending".

Read from `operations.pending` (the API's `pending_settings`, so both say the same), with
the firmware version and the settings' desired values filled in for a person to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from linesman.core.redaction import redact
from linesman.inventory.models import Device
from linesman.operations.pending import PENDING_NAMES, pending_settings_for

#: pending_settings names of queued operations -> what a person calls them.
SCHEDULED_WORDS = {
    PENDING_NAMES["reboot"]: "Reboot",
    PENDING_NAMES["factory"]: "Factory reset",
    PENDING_NAMES["device_factory"]: "Device factory reset",
    PENDING_NAMES["sync"]: "Configuration sync",
    PENDING_NAMES["reconf"]: "Reconfiguration",
}
FIRMWARE = PENDING_NAMES["firmware"]


@dataclass(frozen=True)
class PendingItem:
    code: str  # the pending_settings name, for scripts and tests
    text: str  # the sentence shown
    detail: str = ""  # the raw value, shown as a tooltip


def _when(stamp: str, now: datetime) -> str:
    moment = parse_datetime(stamp)
    if moment is None:
        return stamp
    moment = moment.astimezone(UTC) if timezone.is_aware(moment) else moment
    if moment.date() == now.date():
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def pending_items(device: Device, now: datetime | None = None) -> list[PendingItem]:
    now = (now or timezone.now()).astimezone(UTC)
    text = pending_settings_for([device], detailed=True).get(device.pk) or ""
    desired = dict(device.settings.filter(pending=True).values_list("variable_name", "value"))
    items = []
    for entry in text.split(","):
        if not entry:
            continue
        name, _, state = entry.partition(":")
        if name == FIRMWARE:
            image = device.firmware_image
            version = f"Firmware {image.version}" if image else "Firmware upgrade"
            verb = "installing" if state == "in_progress" else "pending"
            items.append(PendingItem(name, f"{version} {verb}", state))
        elif name in SCHEDULED_WORDS:
            items.append(
                PendingItem(
                    name, f"{SCHEDULED_WORDS[name]} scheduled at {_when(state, now)}", state
                )
            )
        else:
            value = redact(name, desired.get(name, ""))
            items.append(PendingItem(name, f"{name} → {value} pending", state))
    return items
