"""Bootstrap provisioning: what a device gets on its first contact and after a reset.

The periodic inform interval (the device's `update_frequency`), connection request
credentials of its own (random, stored encrypted), its desired configuration (the
type's template plus its own settings), and its desired parameter attributes
(notifications). A type whose connection request methods include
"udp" also gets STUN switched on towards this server (TR-111 Part 2: STUNUsername and
STUNPassword are the connection request credentials, which the STUN server checks), and
one with "xmpp" gets the ACS's JID as the only one allowed to send connection requests
over its XMPP connection 1 (TR-069 Annex K; the XMPP account itself, Device.XMPP.
Connection.1.Username/Password/Domain, comes from the type's template or the device's
settings, as it is the XMPP operator's and not the ACS's).

The management parameters have one source of truth each: the inform interval is the
device's `update_frequency`, the connection request credentials are the ACS's. A template
entry or a setting for one of them is left out of the desired configuration, so one
session never sends two values for the same parameter (the settings and variables
endpoints refuse them; see `inventory.services.managed_parameter_problems`).
"""

from __future__ import annotations

import secrets

from django.conf import settings

from linesman.core import crypto, hotsql
from linesman.cwmp import queue
from linesman.cwmp.rpc import SECRET_REF
from linesman.inventory.models import Device, Setting
from linesman.inventory.services import is_managed_parameter
from linesman.operations.models import DesiredAttribute

CHUNK = 50

# Read at every first contact and bootstrap: compiled once (see `core.hotsql.Lookup`).
_SETTINGS = hotsql.Lookup(lambda device_id: Setting.objects.filter(device_id=device_id), int)
_ATTRIBUTES = hotsql.Lookup(
    lambda device_id: DesiredAttribute.objects.filter(device_id=device_id), int
)


def desired_configuration(device: Device) -> list[dict[str, str]]:
    """The device type's template overlaid with the device's own settings, without the
    management parameters (which `management_parameters` asserts)."""
    values: dict[str, dict[str, str]] = {
        path: {"name": path, "value": str(value), "type": "xsd:string"}
        for path, value in (device.type.settings_template or {}).items()
    }
    for setting in _SETTINGS.all(device.pk):
        values[setting.variable_name] = {
            "name": setting.variable_name,
            "value": setting.value,
            "type": setting.type,
        }
    return [item for name, item in values.items() if not is_managed_parameter(name)]


def desired_attributes(device: Device) -> list[dict]:
    """The parameter attributes the device should have (set by `set.attr` operations)."""
    return [
        {
            "variable_name": a.variable_name,
            "notification": a.notification,
            "access_list": a.access_list,
        }
        for a in _ATTRIBUTES.all(device.pk)
    ]


def attribute_args(attributes: list[dict]) -> dict:
    """SetParameterAttributes arguments for attributes ({variable_name, notification,
    access_list (None: leave the device's as it is)})."""
    return {
        "parameters": [
            {
                "name": a["variable_name"],
                "notification_change": True,
                "notification": int(a["notification"]),
                "access_list_change": a.get("access_list") is not None,
                "access_list": list(a.get("access_list") or []),
            }
            for a in attributes
        ]
    }


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
        *_nat_parameters(device, base),
    ]


STUN_KEEPALIVE = 30  # seconds: below the UDP timeout of most NATs (RFC 4787 asks >= 120)


def _nat_parameters(device: Device, base: str) -> list[dict[str, str]]:
    """STUN and XMPP connection request parameters, for types that use those methods."""
    from linesman.cwmp.connreq import methods_of

    methods = methods_of(device)
    config = settings.CONFIG
    params: list[dict[str, str]] = []
    if "udp" in methods and config.stun_bind is not None:
        params += [
            {"name": base + "STUNEnable", "value": "true", "type": "xsd:boolean"},
            {
                "name": base + "STUNServerAddress",
                "value": config.stun_server_address,
                "type": "xsd:string",
            },
            {
                "name": base + "STUNServerPort",
                "value": str(config.stun_bind[1]),
                "type": "xsd:unsignedInt",
            },
            {
                "name": base + "STUNUsername",
                "value": device.connection_request_username,
                "type": "xsd:string",
            },
            {"name": base + "STUNPassword", "value": SECRET_REF, "type": "xsd:string"},
            {
                "name": base + "STUNMinimumKeepAlivePeriod",
                "value": str(STUN_KEEPALIVE),
                "type": "xsd:unsignedInt",
            },
        ]
    if "xmpp" in methods and config.xmpp_jid and (device.data_model_root or "Device.") == "Device.":
        params += [
            {"name": "Device.XMPP.Connection.1.Enable", "value": "true", "type": "xsd:boolean"},
            {
                "name": base + "ConnReqXMPPConnection",
                "value": "Device.XMPP.Connection.1",
                "type": "xsd:string",
            },
            {
                "name": base + "ConnReqAllowedJabberIDs",
                "value": config.xmpp_jid,
                "type": "xsd:string",
            },
        ]
    return params


def ensure_connection_request_credentials(device: Device) -> None:
    if device.connection_request_username and device.connection_request_password_encrypted:
        return
    device.connection_request_username = f"cr-{device.pk}-{secrets.token_hex(4)}"
    device.connection_request_password_encrypted = crypto.encrypt(secrets.token_urlsafe(18))
    hotsql.update_fields(
        Device,
        device.pk,
        {
            "connection_request_username": device.connection_request_username,
            "connection_request_password_encrypted": device.connection_request_password_encrypted,
        },
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
    # A factory reset also forgot the notifications asked for: ask again.
    attributes = desired_attributes(device)
    for start in range(0, len(attributes), CHUNK):
        queue.enqueue(
            device.pk,
            "SetParameterAttributes",
            attribute_args(attributes[start : start + CHUNK]),
            handler="apply_attributes",
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
