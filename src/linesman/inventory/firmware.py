"""The firmware file server: expiring signed URLs that devices fetch images from.

Where the URL is decided: a queued `Download` task stores only the image's id. The URL
(`LINESMAN_PUBLIC_URL` + a signed token) is built when the server sends the RPC to the
device (`download_request`, called by the session engine), so it is always the server's
own public URL and signing key, whichever process queued the operation (the API, the
dashboard, a bulk job, or the local command line running with an environment of its own).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest

from linesman.inventory.models import Device, FirmwareImage

SALT = "linesman.firmware"
#: A device may start a download late (DelaySeconds, retries); a day is ample.
URL_LIFETIME = 24 * 3600
#: What a version becomes in the URL's last path segment: characters outside this set are
#: replaced, so the URL never needs percent-encoding (some CPEs fetch URLs verbatim). The
#: segment is cosmetic (the token names the image); the version itself is stored as given.
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")
#: Shown instead of the token wherever a URL is displayed: the token is a bearer credential
#: for the image file, which API users cannot otherwise download.
TOKEN_SHOWN = "…"


def file_name(image: FirmwareImage) -> str:
    """The URL's file name for an image: its version with unsafe characters replaced."""
    name = _UNSAFE_IN_NAME.sub("_", image.version).strip(".") or "firmware"
    return f"{name}.bin"


def signed_url(image: FirmwareImage, device_id: int) -> str:
    token = signing.dumps({"i": image.pk, "d": device_id}, salt=SALT, compress=True)
    return f"{settings.LINESMAN_PUBLIC_URL}/firmware/{token}/{file_name(image)}"


def shown_url(image: FirmwareImage) -> str:
    """The URL the device is given, with its token left out (for operators' eyes)."""
    return f"{settings.LINESMAN_PUBLIC_URL}/firmware/{TOKEN_SHOWN}/{file_name(image)}"


def download_args(op) -> dict[str, Any]:
    """What a firmware operation's queued Download task stores: no URL (see the module's
    docstring), only the image; `download_request` completes it at send time."""
    return {
        "command_key": op.operation_id,
        "file_type": "1 Firmware Upgrade Image",
        "firmware_image": op.params["firmware_image"],
    }


def download_request(device: Device, args: dict[str, Any]) -> dict[str, Any]:
    """The Download RPC's arguments at send time, built in the server that sends it.

    Records on the operation the URL (without its token), so a failed upgrade can show
    where the device was sent, and the version the device ran before. Tasks queued before
    URLs were built here carry a `url` already and are sent as they are.
    """
    if "firmware_image" not in args:
        return args
    image = FirmwareImage.objects.filter(pk=args["firmware_image"]).first()
    if image is None or not image.file:
        raise ValueError(f"firmware image {args['firmware_image']} no longer exists")
    _record_on_operation(device, args.get("command_key", ""), shown_url(image))
    return {
        "command_key": args.get("command_key", ""),
        "file_type": args.get("file_type", "1 Firmware Upgrade Image"),
        "url": signed_url(image, device.pk),
        "file_size": image.size,
        "target_file_name": image.file.name.rsplit("/", 1)[-1],
    }


def _record_on_operation(device: Device, command_key: str, url: str) -> None:
    from linesman.operations.models import Operation

    op = Operation.objects.filter(device_id=device.pk, operation_id=command_key).first()
    if op is None:
        return
    output = {"from_version": device.software_version, **op.output, "download_url": url}
    if output != op.output:
        op.output = output
        op.save(update_fields=["output"])


def last_upgrade(device_id: int) -> dict[str, Any] | None:
    """The device's last firmware upgrade as the API and the dashboard show it: its state,
    the version asked for, the URL the device was given and why it failed, if it did."""
    from linesman.core.times import iso_z
    from linesman.operations.models import Operation, OperationKind

    op = (
        Operation.objects.filter(device_id=device_id, kind=OperationKind.FIRMWARE)
        .order_by("-id")
        .first()
    )
    if op is None:
        return None
    return {
        "operation_id": op.operation_id,
        "status": op.state,
        "version": op.params.get("version"),
        "firmware_image": op.params.get("firmware_image"),
        "from_version": op.output.get("from_version"),
        "url": op.output.get("download_url"),
        "error": op.error or None,
        "fault": op.output.get("fault"),
        "initiated_at": iso_z(op.initiated_at),
        "completed_at": iso_z(op.completed_at),
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
