"""Parameter attributes (TR-069 notification and access list) as operations.

`set_attributes` records the attributes as part of the device's desired configuration
(re-applied by bootstrap provisioning after a factory reset) and starts a `set.attr`
operation that sends SetParameterAttributes; `read_attributes` starts a `get.attr`
operation whose output holds what the device reports. A parameter with active
notification makes the device open a session with `4 VALUE CHANGE` when its value
changes; the ACS stores the values and announces `parameter.changed` (webhooks, metrics).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from linesman.operations import services
from linesman.operations.models import DesiredAttribute, Notification, Operation, OperationKind

NAMES = {label: value for value, label in Notification.choices}


def parse_notification(value: Any) -> int | None:
    """0/1/2 or off/passive/active; None for anything else."""
    if isinstance(value, str) and value.lower() in NAMES:
        return NAMES[value.lower()]
    if isinstance(value, int) and not isinstance(value, bool) and value in Notification.values:
        return value
    return None


def label(notification: int) -> str:
    return Notification(notification).label


def desired(device) -> list[dict[str, Any]]:
    return [
        {
            "variable_name": a.variable_name,
            "notification": label(a.notification),
            "access_list": a.access_list,
            "updated": a.updated,
        }
        for a in DesiredAttribute.objects.filter(device=device)
    ]


def set_attributes(*, device, user, attributes: list[dict[str, Any]], **start) -> Operation:
    """Store the desired attributes and start the operation that applies them; nothing
    is stored when the operation cannot start (409/422)."""
    with transaction.atomic():
        for item in attributes:
            DesiredAttribute.objects.update_or_create(
                device=device,
                variable_name=item["variable_name"],
                defaults={
                    "notification": item["notification"],
                    "access_list": item.get("access_list"),
                },
            )
        return services.start_operation(
            device=device,
            kind=OperationKind.SET_ATTRIBUTES,
            user=user,
            params={"attributes": attributes},
            **start,
        )


def read_attributes(*, device, user, names: list[str], **start) -> Operation:
    return services.start_operation(
        device=device,
        kind=OperationKind.GET_ATTRIBUTES,
        user=user,
        params={"variables": [{"variable_name": n} for n in names]},
        **start,
    )
