"""The firmware file server: expiring signed URLs that devices fetch images from."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest

from linesman.inventory.models import FirmwareImage

SALT = "linesman.firmware"
#: A device may start a download late (DelaySeconds, retries); a day is ample.
URL_LIFETIME = 24 * 3600


def signed_url(image: FirmwareImage, device_id: int) -> str:
    token = signing.dumps({"i": image.pk, "d": device_id}, salt=SALT, compress=True)
    return f"{settings.LINESMAN_PUBLIC_URL}/firmware/{token}/{image.version}.bin"


def download_args(op) -> dict[str, Any]:
    """Arguments of the Download RPC for a firmware operation."""
    image = FirmwareImage.objects.get(pk=op.params["firmware_image"])
    return {
        "command_key": op.operation_id,
        "file_type": "1 Firmware Upgrade Image",
        "url": signed_url(image, op.device_id),
        "file_size": image.size,
        "target_file_name": image.file.name.rsplit("/", 1)[-1],
    }


def serve(request: HttpRequest, token: str, filename: str = "") -> FileResponse:
    try:
        data = signing.loads(token, salt=SALT, max_age=URL_LIFETIME)
    except signing.BadSignature:
        raise Http404("unknown or expired firmware link") from None
    image = FirmwareImage.objects.filter(pk=data.get("i")).first()
    if image is None or not image.file:
        raise Http404("firmware image not found")
    response = FileResponse(image.file.open("rb"), content_type="application/octet-stream")
    response["Content-Length"] = str(image.size)
    return response
