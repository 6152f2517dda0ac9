"""The last known parameter values of each device (one JSON document per device)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from linesman.cwmp.models import DeviceParameters


@transaction.atomic
def merge_values(device_id: int, parameters: list[dict[str, Any]]) -> None:
    """Store reported values: {name, value, type} each; writability is kept if known."""
    if not parameters:
        return
    row, _ = DeviceParameters.objects.select_for_update().get_or_create(device_id=device_id)
    values = row.values
    for p in parameters:
        old = values.get(p["name"])
        writable = old[2] if old else None
        values[p["name"]] = [p.get("value", ""), p.get("type", "xsd:string"), writable]
    row.save()


@transaction.atomic
def merge_names(device_id: int, infos: list[dict[str, Any]]) -> None:
    """Store writability learned from GetParameterNames; values come with the next read."""
    leaves = [i for i in infos if not i["name"].endswith(".")]
    if not leaves:
        return
    row, _ = DeviceParameters.objects.select_for_update().get_or_create(device_id=device_id)
    values = row.values
    for info in leaves:
        old = values.get(info["name"], ["", "xsd:string", None])
        values[info["name"]] = [old[0], old[1], bool(info.get("writable"))]
    row.save()


def clear_values(device_id: int) -> None:
    DeviceParameters.objects.filter(device_id=device_id).update(values={})


def get_values(device_id: int) -> dict[str, list[Any]]:
    row = DeviceParameters.objects.filter(device_id=device_id).first()
    return row.values if row else {}
