"""What is pending on a device: unconfirmed settings, queued operations, firmware upgrades.

Rendered as the seeds' `pending_settings` string: `firmware_update,reboot_scheduled`, or
with detail `firmware_update:pending,reboot_scheduled:2024-01-16T02:00:00Z`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from linesman.core.times import iso_z as _stamp
from linesman.inventory.models import Device, Setting
from linesman.operations.models import ACTIVE_STATES, Operation, OperationKind

#: How each kind of queued operation is named in pending_settings.
PENDING_NAMES = {
    OperationKind.REBOOT: "reboot_scheduled",
    OperationKind.FACTORY: "factory_reset_scheduled",
    OperationKind.DEVICE_FACTORY: "device_factory_reset_scheduled",
    OperationKind.SYNC: "sync_scheduled",
    OperationKind.RECONF: "reconf_scheduled",
    OperationKind.FIRMWARE: "firmware_update",
}


def pending_settings_for(devices: Iterable[Device], *, detailed: bool) -> dict[int, str | None]:
    """pending_settings for each device, in two queries whatever the number of devices
    (plain rows, not models: this runs for every page of the device list)."""
    devices = list(devices)
    ids = [d.pk for d in devices]
    items: dict[int, list[str]] = defaultdict(list)
    firmware_state: dict[int, str] = {}

    for device_id, kind, state, initiated_at, params in (
        Operation.objects.filter(device_id__in=ids, state__in=ACTIVE_STATES)
        .order_by("id")
        .values_list("device_id", "kind", "state", "initiated_at", "params")
    ):
        if kind == OperationKind.FIRMWARE:
            firmware_state[device_id] = state  # reported from the device's flag below
            continue
        for step in params.get("steps") or [kind]:
            name = PENDING_NAMES.get(step)
            if name:
                when = params.get("execute_at") or _stamp(initiated_at)
                items[device_id].append(f"{name}:{when}" if detailed else name)

    for device in devices:
        if device.firmware_image_is_pending:
            state = firmware_state.get(device.pk)
            label = "in_progress" if state in ("dispatched", "in_progress") else "pending"
            items[device.pk].insert(
                0, f"firmware_update:{label}" if detailed else "firmware_update"
            )

    for device_id, variable in (
        Setting.objects.filter(device_id__in=ids, pending=True)
        .order_by("id")
        .values_list("device_id", "variable_name")
    ):
        items[device_id].append(f"{variable}:pending" if detailed else variable)

    return {pk: (",".join(items[pk]) if items.get(pk) else None) for pk in ids}
