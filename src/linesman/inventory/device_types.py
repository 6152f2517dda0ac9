"""A short-lived per-process cache of device types for the ACS hot path.

Every Inform needs its device's type (Basic auth allowed? settings template?); there are
few types and they change rarely, so each process keeps them for a few seconds instead of
reading one per session.
"""

from __future__ import annotations

import threading
import time

from linesman.inventory.models import DeviceType

TTL = 10.0
_lock = threading.Lock()
_cache: dict[int, tuple[float, DeviceType]] = {}


def get(type_id: int) -> DeviceType:
    now = time.monotonic()
    hit = _cache.get(type_id)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    device_type = DeviceType.objects.get(pk=type_id)
    with _lock:
        _cache[type_id] = (now, device_type)
    return device_type


def forget(type_id: int | None = None) -> None:
    """Drop cached types (all, or one), e.g. after a change in this process."""
    with _lock:
        if type_id is None:
            _cache.clear()
        else:
            _cache.pop(type_id, None)


def _on_change(sender, instance: DeviceType, **kwargs) -> None:
    forget(instance.pk)


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_on_change, sender=DeviceType, dispatch_uid="device-type-cache")
    post_delete.connect(_on_change, sender=DeviceType, dispatch_uid="device-type-cache-del")
