"""What an Inform tells the inventory: identity, versions, address, status, CR URL."""

from __future__ import annotations

from django.utils import timezone

from linesman.core import hotsql
from linesman.core.events import announce
from linesman.cwmp import lastseen, soap
from linesman.cwmp.handlers import INFORM_SUBSCRIBERS
from linesman.inventory import device_types
from linesman.inventory.models import Device, DeviceStatus

#: Inform parameters (after the data model root) that map to device fields.
_FIELD_SUFFIXES = {
    "DeviceInfo.SoftwareVersion": "software_version",
    "DeviceInfo.HardwareVersion": "hardware_version",
    "ManagementServer.ConnectionRequestURL": "connection_request_url",
    "ManagementServer.ConnReqJabberID": "xmpp_jid",
}

VERSION_FOR_NS = {ns: version for version, ns in soap.NS_CWMP.items()}


def data_model_root(inform: soap.Inform) -> str:
    for p in inform.parameters:
        head = p.name.split(".", 1)[0]
        if head in ("Device", "InternetGatewayDevice"):
            return head + "."
    return "Device."


_FLAGS = ("has_queued", "has_active_operation", "has_session")


def _with_work_flags():
    """Devices annotated with whether anything waits for them, in the same query: a
    periodic inform with nothing to do then costs one SELECT and one UPDATE."""
    from django.db.models import Exists, OuterRef

    from linesman.cwmp.models import CwmpSession, DeviceTask, TaskState
    from linesman.operations.models import ACTIVE_STATES, Operation

    return Device.objects.annotate(
        has_queued=Exists(DeviceTask.objects.filter(device=OuterRef("pk"), state=TaskState.QUEUED)),
        has_active_operation=Exists(
            Operation.objects.filter(device=OuterRef("pk"), state__in=ACTIVE_STATES)
        ),
        has_session=Exists(CwmpSession.objects.filter(device=OuterRef("pk"))),
    )


_SENTINEL = "\x00linesman-serial\x00"
_compiled: dict[tuple[str, str], tuple[str, list]] = {}


def _lookup(field: str, serial: str) -> Device | None:
    """The annotated device query, compiled by the ORM once per database and field.

    Compiling the three EXISTS subqueries costs the ORM about ten times what the database
    needs to answer them, so on the hot path the generated SQL is reused with the serial
    swapped in, and the row is turned into a Device the way the ORM itself does.
    """
    from django.db import connection

    key = (connection.alias, field)
    if key not in _compiled:
        query = _with_work_flags().filter(**{field: _SENTINEL})[:1].query
        sql, params = query.sql_with_params()
        _compiled[key] = (sql, list(params))
    sql, params = _compiled[key]
    row = hotsql.fetchone(sql, [serial if p == _SENTINEL else p for p in params])
    if row is None:
        return None
    names = [f.attname for f in Device._meta.concrete_fields]
    device = Device.from_db(connection.alias, names, row[: len(names)])
    for name, value in zip(_FLAGS, row[len(names) :], strict=True):
        setattr(device, name, bool(value))
    device.type = device_types.get(device.type_id)
    return device


def find_device(inform: soap.Inform) -> Device | None:
    serial = inform.device_id.serial_number
    device = _lookup("serial_number", serial)
    if device is None and serial:
        device = _lookup("serial_number_alt", serial)
    return device


def reported(inform: soap.Inform) -> dict[str, str]:
    return {p.name: p.value for p in inform.parameters}


def apply(
    device: Device,
    inform: soap.Inform,
    envelope: soap.Envelope,
    address: str,
    params: dict[str, str] | None = None,
) -> dict:
    """Update the device from its Inform in one UPDATE; returns the changed fields.
    `params` is `reported(inform)` where the caller has it already."""
    now = timezone.now()
    root = data_model_root(inform)
    params = reported(inform) if params is None else params
    ident = inform.device_id
    fields: dict = {
        "last_connection": now,
        "is_active": True,
        "address": address or None,
        "manufacturer": ident.manufacturer or device.manufacturer,
        "oui": ident.oui or device.oui,
        "product_class": ident.product_class or device.product_class,
        "unique_identifier": f"{ident.oui}-{ident.product_class}-{ident.serial_number}",
        "data_model_root": root,
        "cwmp_version": envelope.use_cwmp_version or VERSION_FOR_NS.get(envelope.cwmp_ns, ""),
    }
    for suffix, field in _FIELD_SUFFIXES.items():
        value = params.get(root + suffix)
        if value is not None:
            fields[field] = value
    if device.status != DeviceStatus.UP:
        fields["status"] = DeviceStatus.UP
        fields["status_change"] = now
    changed = {k: v for k, v in fields.items() if getattr(device, k) != v}
    for subscriber in INFORM_SUBSCRIBERS:  # before `device` changes: it is as last seen
        subscriber(device, params, root, now)
    if any(k in changed for k in ("software_version", "hardware_version")):
        changed["last_change"] = now
    if len(changed) == 1 and device.last_connection is not None:
        lastseen.stamp(device.pk, now)  # a plain periodic inform: batched with others
    else:
        hotsql.update_fields(Device, device.pk, changed)
    previous = device.status
    for key, value in changed.items():
        setattr(device, key, value)
    if "status" in changed:
        announce(
            "device.up",
            device_id=device.pk,
            organization_id=device.organization_id,
            previous=previous,
            reason="inform",
        )
    return changed
