"""Connection requests to devices behind NAT: by UDP (Annex G) and by XMPP (Annex K).

`linesman.cwmp.connreq.send` calls `send` for the methods after HTTP in the device type's
order. The UDP target passes the same address policy as HTTP ones (`cwmp.netpolicy`): the
address comes from a datagram anyone can send, so it must not aim the ACS at internal
services either.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from linesman.cwmp import netpolicy
from linesman.inventory.models import Device
from linesman.reach import udpcr, xmpp


@dataclass(frozen=True)
class Attempt:
    ok: bool
    cause: str  # "" when ok, else a key of linesman.cwmp.connreq.CAUSES
    detail: str = ""
    target: str = ""


def send(device: Device, method: str, confirm_timeout: float = 0.0) -> Attempt:
    """One connection request by `method` ("udp" or "xmpp")."""
    if method == "udp":
        return send_udp(device, confirm_timeout)
    if method == "xmpp":
        return send_xmpp(device)
    raise ValueError(f"unknown connection request method {method!r}")


def send_udp(device: Device, confirm_timeout: float = 0.0) -> Attempt:
    """Send the signed UDP request to the recorded address; with a confirm timeout, wait
    that long for the device to open a session."""
    address = device.udp_connection_request_address
    if not address:
        return Attempt(False, "no_udp_address", "no STUN binding recorded")
    try:
        host, port = udpcr.split_address(address)
    except ValueError:
        return Attempt(False, "bad_url", f"unusable UDP address {address!r}", address)
    if not netpolicy.address_allowed(ipaddress.ip_address(host)):
        return Attempt(
            False, "address_not_allowed", f"{host} is not an address we contact", address
        )
    started = timezone.now()
    try:
        username = device.connection_request_username
        udpcr.send(host, port, username, device.connection_request_password)
    except OSError as exc:
        return Attempt(False, "connection_failures", f"{type(exc).__name__}: {exc}", address)
    if confirm_timeout <= 0:
        return Attempt(True, "", "sent", address)
    deadline = time.monotonic() + confirm_timeout
    while time.monotonic() < deadline:
        if Device.objects.filter(pk=device.pk, last_connection__gte=started).exists():
            return Attempt(True, "", "device connected", address)
        time.sleep(0.2)
    return Attempt(False, "not_confirmed", "no session after the UDP request", address)


def send_xmpp(device: Device) -> Attempt:
    """Send the connectionRequest IQ to the device's JID from the ACS's account."""
    config = settings.CONFIG
    if not config.xmpp_jid or config.xmpp_server is None:
        return Attempt(False, "xmpp_not_configured", "LINESMAN_XMPP_JID is not set")
    if not device.xmpp_jid:
        return Attempt(False, "no_xmpp_jid", "no ConnReqJabberID reported")
    result = xmpp.send(
        config.xmpp_jid,
        config.xmpp_password,
        config.xmpp_server,
        device.xmpp_jid,
        device.connection_request_username,
        device.connection_request_password,
    )
    return Attempt(result.ok, result.cause, result.detail, device.xmpp_jid)
