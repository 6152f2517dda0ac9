"""The numbers on the fleet overview, computed in a handful of grouped queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from linesman.dashboard import access as visible
from linesman.inventory.models import DeviceStatus
from linesman.operations.models import ACTIVE_STATES, Operation, OperationState
from linesman.tenancy.services import Access

#: Rows shown in each overview list; the full set is one click away.
LIST_LIMIT = 12
#: A device "changed status recently" within this window.
RECENT = timedelta(hours=1)
FAILED_STATES = (OperationState.FAILED, OperationState.TIMED_OUT)

_UP_DOWN = {
    "up": Count("id", filter=Q(status=DeviceStatus.UP)),
    "down": Count("id", filter=Q(status=DeviceStatus.DOWN)),
}


@dataclass
class Overview:
    total: int
    up: int
    down: int
    by_organization: list[dict[str, Any]]
    by_type: list[dict[str, Any]]
    recent_changes: list
    recent_change_count: int
    in_flight: list
    in_flight_count: int
    failing: list
    failing_count: int


def failing_operations(access: Access):
    """Each device's last operation, where that one failed or timed out."""
    newer = Operation.objects.filter(device_id=OuterRef("device_id"), id__gt=OuterRef("id"))
    return (
        visible.operations(access)
        .filter(state__in=FAILED_STATES)
        .exclude(Exists(newer))
        .order_by("-id")
    )


def build(access: Access) -> Overview:
    devices = visible.devices(access)
    totals = devices.aggregate(total=Count("id"), **_UP_DOWN)
    by_org = list(
        devices.values("organization_id", "organization__name")
        .annotate(**_UP_DOWN)
        .order_by("organization__name")
    )
    by_type = list(
        devices.values("type_id", "type__short_name", "type__name")
        .annotate(**_UP_DOWN)
        .order_by("type__short_name")
    )
    since = timezone.now() - RECENT
    changed = devices.filter(status_change__gte=since).order_by("-status_change")
    in_flight = visible.operations(access).filter(state__in=ACTIVE_STATES).order_by("-id")
    failing = failing_operations(access)
    return Overview(
        total=totals["total"],
        up=totals["up"],
        down=totals["down"],
        by_organization=by_org,
        by_type=by_type,
        recent_changes=list(changed[:LIST_LIMIT]),
        recent_change_count=changed.count(),
        in_flight=list(in_flight[:LIST_LIMIT]),
        in_flight_count=in_flight.count(),
        failing=list(failing[:LIST_LIMIT]),
        failing_count=failing.count(),
    )
