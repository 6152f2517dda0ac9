"""Who may see and do what in the dashboard: thin wrappers over `tenancy.services.Access`.

The rules themselves live in tenancy (the API asks the same object); this module only turns
them into the dashboard's answers: querysets of visible objects, 404 for invisible devices,
403 for a role that is too low.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from linesman.inventory.models import Device, DeviceType, FirmwareImage, Location
from linesman.operations.models import Operation
from linesman.tenancy.models import Organization, Role
from linesman.tenancy.services import Access, access_for


def devices(access: Access) -> QuerySet[Device]:
    return access.restrict(Device.objects.select_related("type", "organization", "location"))


def operations(access: Access) -> QuerySet[Operation]:
    return access.restrict(Operation.objects.select_related("device"), "device__organization_id")


def organizations(access: Access) -> QuerySet[Organization]:
    return access.restrict(Organization.objects.all(), "id").order_by("name")


def device_types(access: Access) -> QuerySet[DeviceType]:
    return access.restrict(DeviceType.objects.all(), allow_shared=True).order_by("short_name")


def locations(access: Access) -> QuerySet[Location]:
    return access.restrict(Location.objects.all()).order_by("name")


def firmware_for(access: Access, device: Device) -> QuerySet[FirmwareImage]:
    """Images a device may be upgraded to: of its type, visible to the user."""
    images = FirmwareImage.objects.filter(device_type_id=device.type_id)
    return access.restrict(images, allow_shared=True).order_by("-id")


def visible_device(request: HttpRequest, pk: int) -> Device:
    """The device, or 404 when it does not exist or belongs to another organization."""
    device = devices(access_for(request)).filter(pk=pk).first()
    if device is None:
        raise Http404("No such device.")
    return device


def can_operate(request: HttpRequest, device: Device) -> bool:
    return access_for(request).has_role(device.organization_id, Role.OPERATOR)


def require_operator(request: HttpRequest, device: Device) -> None:
    """403 unless the user may run operations on the device (same role as the API asks)."""
    if not can_operate(request, device):
        raise PermissionDenied("Running operations needs the operator role.")


def can_read_audit(request: HttpRequest, device: Device) -> bool:
    """The audit API shows an organization's entries to its admins only; so does the UI."""
    return access_for(request).has_role(device.organization_id, Role.ADMIN)
