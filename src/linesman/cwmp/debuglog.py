"""Raw SOAP exchanges of devices in debug mode, kept in their audit trail, secrets masked."""

from __future__ import annotations

import re

from linesman.audit import services as audit
from linesman.audit.models import AuditAction
from linesman.inventory.models import Device

MAX_KEPT = 64 * 1024
# The Value that follows a Name ending in "Password" (any prefixes), and Download passwords.
_PASSWORD_VALUE = re.compile(
    rb"(<(?:\w+:)?Name>[^<]*Password\s*</(?:\w+:)?Name>\s*<(?:\w+:)?Value[^>]*>)[^<]*",
    re.IGNORECASE,
)
_PASSWORD_ELEMENT = re.compile(rb"(<(?:\w+:)?Password>)[^<]*", re.IGNORECASE)


def mask(body: bytes) -> str:
    body = _PASSWORD_VALUE.sub(rb"\1********", body)
    body = _PASSWORD_ELEMENT.sub(rb"\1********", body)
    return body[:MAX_KEPT].decode("utf-8", errors="replace")


def record_exchange(device: Device, direction: str, body: bytes) -> None:
    audit.record(
        user=None,
        actor="device" if direction == "in" else "acs",
        action=AuditAction.SOAP,
        instance=device,
        device_id=device.pk,
        message=f"{'device -> ACS' if direction == 'in' else 'ACS -> device'}\n{mask(body)}",
    )
