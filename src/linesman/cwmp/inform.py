"""What an Inform tells the inventory: identity, versions, address, status, CR URL."""

from __future__ import annotations

from django.utils import timezone

from linesman.cwmp import soap
from linesman.inventory.models import Device, DeviceStatus

#: Inform parameters (after the data model root) that map to device fields.
_FIELD_SUFFIXES = {
    "DeviceInfo.SoftwareVersion": "software_version",
    "DeviceInfo.HardwareVersion": "hardware_version",
    "ManagementServer.ConnectionRequestURL": "connection_request_url",
}

VERSION_FOR_NS = {ns: version for version, ns in soap.NS_CWMP.items()}


def data_model_root(inform: soap.Inform) -> str:
    for p in inform.parameters:
        head = p.name.split(".", 1)[0]
        if head in ("Device", "InternetGatewayDevice"):
            return head + "."
    return "Device."


def _with_work_flags():
    """Devices annotated with whether anything waits for them, in the same query: a
    periodic inform with nothing to do then costs one SELECT and one UPDATE."""
    from django.db.models import Exists, OuterRef

    from linesman.cwmp.models import CwmpSession, DeviceTask, TaskState
    from linesman.operations.models import ACTIVE_STATES, Operation

    return Device.objects.select_related("type").annotate(
        has_queued=Exists(DeviceTask.objects.filter(device=OuterRef("pk"), state=TaskState.QUEUED)),
        has_active_operation=Exists(
            Operation.objects.filter(device=OuterRef("pk"), state__in=ACTIVE_STATES)
        ),
        has_session=Exists(CwmpSession.objects.filter(device=OuterRef("pk"))),
    )


def find_device(inform: soap.Inform) -> Device | None:
    serial = inform.device_id.serial_number
    device = _with_work_flags().filter(serial_number=serial).first()
    if device is None and serial:
        device = _with_work_flags().filter(serial_number_alt=serial).first()
    return device


def reported(inform: soap.Inform) -> dict[str, str]:
    return {p.name: p.value for p in inform.parameters}


def apply(device: Device, inform: soap.Inform, envelope: soap.Envelope, address: str) -> dict:
    """Update the device from its Inform in one UPDATE; returns the changed fields."""
    now = timezone.now()
    root = data_model_root(inform)
    params = reported(inform)
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
    if any(k in changed for k in ("software_version", "hardware_version")):
        changed["last_change"] = now
    Device.objects.filter(pk=device.pk).update(**changed)
    for key, value in changed.items():
        setattr(device, key, value)
    return changed
