"""Bootstrap provisioning: what a device gets on its first contact and after a reset.

The periodic inform interval (the device's `update_frequency`), connection request
credentials of its own (random, stored encrypted), and its desired configuration (the
type's template plus its own settings).

The management parameters have one source of truth each: the inform interval is the
device's `update_frequency`, the connection request credentials are the ACS's. A template
entry or a setting for one of them is left out of the desired configuration, so one
session never sends two values for the same parameter (the settings and variables
endpoints refuse them; see `inventory.services.managed_parameter_problems`).
"""

from __future__ import annotations

import secrets

from linesman.core import crypto
from linesman.cwmp import queue
from linesman.cwmp.rpc import SECRET_REF
from linesman.inventory.models import Device
from linesman.inventory.services import is_managed_parameter

CHUNK = 50


def desired_configuration(device: Device) -> list[dict[str, str]]:
    """The device type's template overlaid with the device's own settings, without the
    management parameters (which `management_parameters` asserts)."""
    values: dict[str, dict[str, str]] = {
        path: {"name": path, "value": str(value), "type": "xsd:string"}
        for path, value in (device.type.settings_template or {}).items()
    }
    for setting in device.settings.all():
        values[setting.variable_name] = {
            "name": setting.variable_name,
            "value": setting.value,
            "type": setting.type,
        }
    return [item for name, item in values.items() if not is_managed_parameter(name)]


def management_parameters(device: Device) -> list[dict[str, str]]:
    base = (device.data_model_root or "Device.") + "ManagementServer."
    return [
        {"name": base + "PeriodicInformEnable", "value": "true", "type": "xsd:boolean"},
        {
            "name": base + "PeriodicInformInterval",
            "value": str(device.update_frequency),
            "type": "xsd:unsignedInt",
        },
        {
            "name": base + "ConnectionRequestUsername",
            "value": device.connection_request_username,
            "type": "xsd:string",
        },
        {"name": base + "ConnectionRequestPassword", "value": SECRET_REF, "type": "xsd:string"},
    ]


def ensure_connection_request_credentials(device: Device) -> None:
    if device.connection_request_username and device.connection_request_password_encrypted:
        return
    device.connection_request_username = f"cr-{device.pk}-{secrets.token_hex(4)}"
    device.connection_request_password_encrypted = crypto.encrypt(secrets.token_urlsafe(18))
    Device.objects.filter(pk=device.pk).update(
        connection_request_username=device.connection_request_username,
        connection_request_password_encrypted=device.connection_request_password_encrypted,
    )


def provision(device: Device, operation_id: int | None = None) -> None:
    """Queue the bootstrap SetParameterValues (linked to an operation waiting on it)."""
    ensure_connection_request_credentials(device)
    queue.enqueue(
        device.pk,
        "SetParameterValues",
        {"parameters": management_parameters(device), "parameter_key": "bootstrap"},
        handler="provision",
        operation_id=operation_id,
    )
    desired = desired_configuration(device)
    for start in range(0, len(desired), CHUNK):
        queue.enqueue(
            device.pk,
            "SetParameterValues",
            {"parameters": desired[start : start + CHUNK], "parameter_key": "bootstrap"},
            handler="apply",
            operation_id=operation_id,
        )


def read_tree(device: Device) -> None:
    """Read the device's whole parameter tree after its first contact (or a bootstrap), as
    GenieACS does, so its page shows more than the Inform's few parameters. Queued after
    the provisioning writes and owned by no operation, so it blocks none; the engine reads
    the names' values in chunks, up to `engine.TREE_READ_LIMIT` parameters."""
    queue.enqueue(
        device.pk,
        "GetParameterNames",
        {"path": None, "next_level": False},
        handler="discover",
    )


def needs_provisioning(
    device: Device, events: set[str], first_contact: bool, reported: dict[str, str]
) -> bool:
    if first_contact or "0 BOOTSTRAP" in events:
        return True
    if not device.connection_request_username:
        return True
    root = device.data_model_root or "Device."
    interval = reported.get(root + "ManagementServer.PeriodicInformInterval")
    return interval is not None and interval != str(device.update_frequency)
