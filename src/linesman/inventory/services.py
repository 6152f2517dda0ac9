"""Inventory rules: creating, changing and deleting devices and reference objects.

The REST API, the admin, the CLI and the dashboard all change inventory through here, so
validation that needs the database, secrets handling and the audit trail live in one place.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from linesman.audit import services as audit
from linesman.audit.models import AuditAction
from linesman.core import crypto
from linesman.core.events import announce
from linesman.core.redaction import MARKER, is_secret, redact
from linesman.cwmp import types
from linesman.inventory.models import Device, DeviceStatus, Setting

#: The shortest periodic inform interval a device may be given, in seconds.
MIN_UPDATE_FREQUENCY = 10

#: Management parameters the ACS owns (see cwmp.provisioning): never desired configuration.
_MANAGED = re.compile(
    r"^[^.]+\.ManagementServer\.(PeriodicInformEnable|PeriodicInformInterval"
    r"|ConnectionRequestUsername|ConnectionRequestPassword)$"
)


def is_managed_parameter(name: str) -> bool:
    """Whether `name` is a management parameter the ACS sets itself at every provisioning."""
    return bool(_MANAGED.match(name))


def managed_parameter_problems(names: list[str]) -> dict[str, str]:
    """Why each of `names` cannot be written through settings or variables, if it cannot.

    A device's inform interval has one source of truth, its `update_frequency`: a value
    written here would contradict it in the next provisioning session.
    """
    problems = {}
    for name in names:
        if name.endswith(".ManagementServer.PeriodicInformInterval") and is_managed_parameter(name):
            problems[name] = (
                "The inform interval is the device's update_frequency: change it with "
                'PATCH inventory_device/{id}/ {"update_frequency": SECONDS}.'
            )
        elif is_managed_parameter(name):
            problems[name] = "Set by the ACS itself at provisioning; it cannot be written here."
    return problems


class SettingsRejected(Exception):
    """Desired settings refused, nothing written: {name: problem}. `unprocessable` when
    the request was well formed but a value does not fit its type (422, not 400)."""

    def __init__(self, problems: dict[str, str], *, unprocessable: bool) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems
        self.unprocessable = unprocessable


def change_settings(*, user, device: Device, items: list[dict[str, Any]], replace: bool) -> None:
    """Record desired settings ({variable_name, value, type?}), each `pending` until the
    device confirms it. `replace` drops the device's other settings. What the settings API
    (PUT/PATCH) and the dashboard's in-place editing both call."""
    managed = managed_parameter_problems([i["variable_name"] for i in items])
    if managed:
        raise SettingsRejected(managed, unprocessable=False)
    items = [dict(item) for item in items]
    problems = {}
    stored = dict(device.settings.values_list("variable_name", "value"))
    kept = set()
    for item in items:
        name = item["variable_name"]
        item["type"] = types.normalise(item.get("type"))
        if item["value"] == MARKER and is_secret(name):
            # A secret reads back as the marker: writing that back keeps the stored
            # value, so a client may PUT what it read without wiping the secret.
            if name not in stored:
                problems[name] = f"{MARKER} stands for a stored secret; send the value."
            kept.add(name)
            continue
        error = types.check(item["type"], item["value"])
        if error:
            problems[name] = error
    if problems:
        raise SettingsRejected(problems, unprocessable=True)
    with transaction.atomic():
        if replace:
            names = [i["variable_name"] for i in items]
            Setting.objects.filter(device=device).exclude(variable_name__in=names).delete()
        for item in items:
            if item["variable_name"] in kept:
                continue
            Setting.objects.update_or_create(
                device=device,
                variable_name=item["variable_name"],
                defaults={"value": item["value"], "type": item["type"], "pending": True},
            )
        audit.record(
            user=user,
            action="update",
            instance=device,
            device_id=device.pk,
            message="settings " + ("replaced" if replace else "changed"),
            changes={
                i["variable_name"]: [None, redact(i["variable_name"], i["value"])] for i in items
            },
        )


class DeviceBusy(Exception):
    """The device has an operation in progress; the change must wait."""


def _apply(instance: models.Model, data: dict[str, Any]) -> None:
    for key, value in data.items():
        setattr(instance, key, value)


def _device_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    if "password" in fields:
        password = fields.pop("password")
        # PUT without a password keeps the stored one; an explicit "" clears it.
        if password is not None:
            fields["password_encrypted"] = crypto.encrypt(password)
    return fields


@transaction.atomic
def create_device(*, user, data: dict[str, Any]) -> Device:
    fields = _device_fields(data)
    device = Device(**fields)
    if device.location_id and not device.location_name:
        device.location_name = device.location.name
    device.save()
    audit.record_create(user, device, device_id=device.pk)
    announce(
        "device.registered",
        device_id=device.pk,
        organization_id=device.organization_id,
        serial_number=device.serial_number,
    )
    return device


@transaction.atomic
def update_device(*, user, device: Device, data: dict[str, Any]) -> Device:
    before = audit.snapshot(device)
    # The snapshot masks secrets, so a password replaced by another one looks unchanged
    # there: compare the clear values instead.
    password = data.get("password")
    password_changed = password is not None and password != device.password
    _apply(device, _device_fields(data))
    if "location" in data and device.location_id and "location_name" not in data:
        device.location_name = device.location.name
    changed = audit.diff(before, audit.snapshot(device))
    if changed or password_changed:
        device.last_change = timezone.now()
        device.save()
        audit.record_update(
            user,
            device,
            before,
            device_id=device.pk,
            secrets_changed=("password_encrypted",) if password_changed else (),
        )
    return device


@transaction.atomic
def delete_device(*, user, device: Device) -> None:
    from linesman.operations.models import ACTIVE_STATES

    if device.operations.filter(state__in=ACTIVE_STATES).exists():
        raise DeviceBusy(f"device {device.pk} has an operation in progress")
    audit.record_delete(user, device, device_id=device.pk)
    device.delete()


@transaction.atomic
def save_reference(*, user, instance: models.Model, data: dict[str, Any]) -> models.Model:
    """Create or update a reference object (organization, type, location, firmware)."""
    creating = instance.pk is None
    before = {} if creating else audit.snapshot(instance)
    _apply(instance, data)
    instance.save()
    if creating:
        audit.record_create(user, instance)
    else:
        audit.record_update(user, instance, before)
    return instance


@transaction.atomic
def delete_reference(*, user, instance: models.Model) -> None:
    audit.record_delete(user, instance)
    instance.delete()


def device_is_up(device: Device, now=None, grace: int | None = None) -> bool:
    """Up while the last session is younger than the inform interval plus a grace period."""
    from django.conf import settings

    if device.last_connection is None:
        return False
    now = now or timezone.now()
    grace = settings.LINESMAN_STATUS_GRACE if grace is None else grace
    return (now - device.last_connection).total_seconds() <= device.update_frequency + grace


def set_status(device: Device, up: bool, now=None) -> bool:
    """Record a status flip (stamping status_change); returns whether it changed."""
    wanted = DeviceStatus.UP if up else DeviceStatus.DOWN
    if device.status == wanted:
        return False
    now = now or timezone.now()
    Device.objects.filter(pk=device.pk).update(status=wanted, status_change=now)
    device.status, device.status_change = wanted, now
    audit.record(
        user=None,
        actor="system",
        action=AuditAction.UPDATE,
        instance=device,
        changes={"status": [DeviceStatus.UP if not up else DeviceStatus.DOWN, wanted]},
        device_id=device.pk,
    )
    announce(
        "device.up" if up else "device.down",
        device_id=device.pk,
        organization_id=device.organization_id,
        previous=DeviceStatus.DOWN if up else DeviceStatus.UP,
        reason="inform" if up else "silent",
    )
    return True


def mark_silent_devices_down(now=None) -> int:
    """Flip every Up device whose last session is too old to Down; returns how many."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Q

    now = now or timezone.now()
    grace = settings.LINESMAN_STATUS_GRACE
    # The database narrows to devices silent for longer than the shortest possible interval;
    # the exact per-device interval is checked here, which is portable across databases.
    cutoff = now - timedelta(seconds=grace + MIN_UPDATE_FREQUENCY)
    candidates = Device.objects.filter(
        Q(last_connection__lt=cutoff) | Q(last_connection__isnull=True), status=DeviceStatus.UP
    ).only(
        "id",
        "status",
        "last_connection",
        "update_frequency",
        "organization_id",
        "name",
        "serial_number",
    )
    flipped = 0
    for device in candidates.iterator(chunk_size=2000):
        if not device_is_up(device, now=now, grace=grace) and set_status(device, False, now=now):
            flipped += 1
    return flipped


def refresh_status(devices: list[Device]) -> None:
    """Bring the listed devices' status up to date before answering (`update_status=true`).

    Devices that look Down are probed with a connection request (bounded concurrency and
    total time); a device that answers opens a session, which marks it Up.
    """
    from linesman.cwmp import connreq

    now = timezone.now()
    to_probe = []
    for device in devices:
        up = device_is_up(device, now=now)
        set_status(device, up, now=now)
        if not up and device.connection_request_url:
            to_probe.append(device)
    if to_probe:
        connreq.probe_and_wait(to_probe)
        for device in to_probe:
            device.refresh_from_db(fields=["status", "status_change", "last_connection"])


def firmware_upgrade_finished(device_id: int, *, succeeded: bool, when) -> None:
    """A firmware upgrade ended: the device's firmware fields follow what it reports.

    After a success the requested image is the device's (it informed that version). After
    a failure, time-out or cancel the requested image is not: the device's image becomes
    the one of its type whose version it reports, or none. The upgrade's outcome, URL and
    fault stay visible on the operation (`inventory.firmware.last_upgrade`).
    """
    from linesman.inventory.models import FirmwareImage

    fields: dict[str, Any] = {"firmware_image_is_pending": False, "last_change": when}
    if not succeeded:
        device = Device.objects.only("type_id", "software_version").get(pk=device_id)
        fields["firmware_image"] = FirmwareImage.objects.filter(
            device_type_id=device.type_id, version=device.software_version
        ).first()
    Device.objects.filter(pk=device_id).update(**fields)


def firmware_image_values(data: dict[str, Any]) -> dict[str, Any]:
    """A firmware image's fields as stored: it belongs to its device type's organization
    unless one is given, and its size and checksum are those of the uploaded file."""
    values = dict(data)
    device_type = values.get("device_type")
    if "organization_id" not in values and device_type is not None:
        values["organization_id"] = device_type.organization_id
    upload = values.get("file")
    if upload is not None:
        values.update(describe_upload(upload))
    return values


def describe_upload(upload) -> dict[str, Any]:
    """Size and SHA-256 of an uploaded file, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return {"size": size, "checksum": digest.hexdigest()}
