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
    """Store writability learned from GetParameterNames (of parameters and of objects);
    values come with the next read."""
    if not infos:
        return
    row, _ = DeviceParameters.objects.select_for_update().get_or_create(device_id=device_id)
    values = row.values
    for info in infos:
        if info["name"].endswith("."):
            row.object_writable[info["name"]] = bool(info.get("writable"))
            continue
        old = values.get(info["name"], ["", "xsd:string", None])
        values[info["name"]] = [old[0], old[1], bool(info.get("writable"))]
    row.save()


@transaction.atomic
def forget_object(device_id: int, object_name: str) -> None:
    """A deleted object instance: drop what is stored under it (a refresh only adds)."""
    row = DeviceParameters.objects.select_for_update().filter(device_id=device_id).first()
    if row is None or not object_name.endswith("."):
        return
    row.values = {k: v for k, v in row.values.items() if not k.startswith(object_name)}
    row.object_writable = {
        k: v for k, v in row.object_writable.items() if not k.startswith(object_name)
    }
    row.save()


def clear_values(device_id: int) -> None:
    DeviceParameters.objects.filter(device_id=device_id).update(values={}, object_writable={})


def get_values(device_id: int) -> dict[str, list[Any]]:
    row = DeviceParameters.objects.filter(device_id=device_id).first()
    return row.values if row else {}
