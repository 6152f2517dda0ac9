"""XMPP connection requests (TR-069 Annex K): the ACS asks a device through an XMPP server.

A device behind NAT keeps a connection open to an XMPP server (its
`Device.XMPP.Connection.{i}`) and reports its full JID as `ManagementServer.ConnReqJabberID`.
The ACS logs in with its own account (`LINESMAN_XMPP_JID`) and sends that JID an IQ get

    <connectionRequest xmlns="urn:broadband-forum-org:cwmp:xmppConnReq-1-0">
      <username>..</username><password>..</password>
    </connectionRequest>

with the device's connection-request credentials. An empty IQ result means the device
accepted and will open a session; an IQ error says why not (not-authorized: credentials;
service-unavailable: the device is not connected). The device only accepts IQs from the
JIDs in its `ManagementServer.ConnReqAllowedJabberIDs`, which provisioning sets to the ACS's.

One XMPP login per request, on a private event loop: connection requests are rare next to
sessions, and a client held open would have to live in every worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

NS = "urn:broadband-forum-org:cwmp:xmppConnReq-1-0"
LOGIN_TIMEOUT = 5.0
IQ_TIMEOUT = 5.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    ok: bool
    cause: str  # "" when ok, else a key of linesman.cwmp.connreq.CAUSES
    detail: str = ""


def payload(username: str, password: str) -> ET.Element:
    """The <connectionRequest> element of the IQ."""
    element = ET.Element(f"{{{NS}}}connectionRequest")
    ET.SubElement(element, f"{{{NS}}}username").text = username
    ET.SubElement(element, f"{{{NS}}}password").text = password
    return element


def credentials_of(element: ET.Element) -> tuple[str, str]:
    """(username, password) of a received <connectionRequest> (device side)."""
    return (
        element.findtext(f"{{{NS}}}username") or "",
        element.findtext(f"{{{NS}}}password") or "",
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def login(jid: str, password: str, server: tuple[str, int], timeout: float):
    """A connected, authenticated slixmpp client; raises TimeoutError or PermissionError.

    TLS is required (direct TLS or STARTTLS, certificates verified), except towards an XMPP
    server on a loopback address, where nothing crosses a network: there a server without
    TLS is accepted (the tests' Prosody), and SCRAM keeps the password off the stream."""
    import slixmpp

    local = _loopback(server[0])
    plugin_config = {"feature_mechanisms": {"unencrypted_scram": True}} if local else None
    client = slixmpp.ClientXMPP(jid, password, plugin_config=plugin_config)
    if local:
        client.enable_direct_tls = False
        client.enable_plaintext = True
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def settle(exc: BaseException | None) -> None:
        if not ready.done():
            if exc is None:
                ready.set_result(None)
            else:
                ready.set_exception(exc)

    client.add_event_handler("session_start", lambda _e: settle(None))
    client.add_event_handler(
        "failed_all_auth", lambda _e: settle(PermissionError("XMPP login refused"))
    )
    client.add_event_handler(
        "connection_failed", lambda e: settle(ConnectionError(f"XMPP server unreachable: {e}"))
    )
    client.connect(*server)
    try:
        await asyncio.wait_for(ready, timeout)
    except BaseException:
        await logout(client)
        raise
    return client


async def logout(client, timeout: float = 2.0) -> None:
    """Close the stream and wait (bounded) until slixmpp has let go of the connection, so no
    task of it outlives its event loop."""
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.ensure_future(client.disconnect(wait=0)), timeout)
    # slixmpp cancels its outgoing-filter task on disconnect: let that cancellation finish.
    filters = getattr(client, "_run_out_filters", None)
    if filters is not None:
        filters.cancel()
        await asyncio.gather(filters, return_exceptions=True)


async def request(
    acs_jid: str,
    acs_password: str,
    server: tuple[str, int],
    device_jid: str,
    username: str,
    password: str,
) -> Result:
    """Send one connectionRequest IQ and wait for the device's answer."""
    from slixmpp.exceptions import IqError, IqTimeout

    try:
        client = await login(acs_jid, acs_password, server, LOGIN_TIMEOUT)
    except (TimeoutError, PermissionError, ConnectionError, OSError) as exc:
        return Result(False, "xmpp_unavailable", f"ACS login: {type(exc).__name__}: {exc}")
    try:
        iq = client.make_iq_get(ito=device_jid)
        iq.xml.append(payload(username, password))
        try:
            await iq.send(timeout=IQ_TIMEOUT)
        except IqTimeout:
            return Result(False, "connection_timeouts", "no IQ answer")
        except IqError as exc:
            condition = exc.condition or "error"
            cause = (
                "authentication_failures"
                if condition in ("not-authorized", "forbidden")
                else "connection_failures"
            )
            return Result(False, cause, f"IQ error {condition}")
        return Result(True, "")
    finally:
        await logout(client)


def send(
    acs_jid: str,
    acs_password: str,
    server: tuple[str, int],
    device_jid: str,
    username: str,
    password: str,
) -> Result:
    """`request` from synchronous code (a task worker thread)."""
    return asyncio.run(request(acs_jid, acs_password, server, device_jid, username, password))
