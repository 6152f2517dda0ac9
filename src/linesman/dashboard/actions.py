"""Requests shared by the dashboard and the CLI that take more than one service call.

Only sequencing lives here; every rule is in the services it calls. (A candidate to move
into `operations.services`, where the API's PATCH handler could use it too.)
"""

from __future__ import annotations

from django.db import transaction

from linesman.inventory import services as inventory
from linesman.inventory.models import Device, FirmwareImage
from linesman.operations import services as operations
from linesman.operations.models import Operation


def upgrade_firmware(*, device: Device, image: FirmwareImage, user=None) -> Operation:
    """What PATCH {firmware_image, firmware_image_is_pending: true} does: refuse a busy
    device before changing anything, record the chosen image, start the upgrade."""
    if image.device_type_id != device.type_id:
        raise operations.NotApplicable("The firmware image is for another device type.")
    with transaction.atomic():
        operations.check_can_start(device)
        inventory.update_device(
            user=user,
            device=device,
            data={"firmware_image": image, "firmware_image_is_pending": True},
        )
        return operations.start_firmware_upgrade(device=device, user=user)
