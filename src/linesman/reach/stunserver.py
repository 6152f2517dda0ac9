"""The ACS's STUN server (TR-111 Part 2): learns where each device behind NAT can be reached.

A device with STUNEnable sends Binding requests to this server from the UDP port it listens
on for connection requests. Every Binding request is answered with the address and port the
server saw (so the device learns its public binding). A request carrying TR-111's
CONNECTION-REQUEST-BINDING must also carry USERNAME (the device's STUNUsername, which the
ACS provisions as its connection-request username) and MESSAGE-INTEGRITY keyed with its
STUNPassword (the connection-request password); one without is answered 401, as TR-111
says, and one with wrong integrity 401 too. An authenticated one records the address as the
device's `udp_connection_request_address` (written only when it changed).

One blocking thread with one UDP socket, started by `linesman serve` in its supervising
process: exactly one per node, whatever the number of HTTP worker processes.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading

from django.db import close_old_connections, connection
from django.utils import timezone

from linesman.reach import stun

log = logging.getLogger(__name__)


def _device_for(username: str):
    from linesman.inventory.models import Device

    return Device.objects.filter(connection_request_username=username).first()


def record_binding(device, address: str) -> bool:
    """Store the device's public UDP address; True when it changed."""
    from linesman.inventory.models import Device

    if device.udp_connection_request_address == address:
        return False
    Device.objects.filter(pk=device.pk).update(
        udp_connection_request_address=address, udp_address_updated=timezone.now()
    )
    return True


def _format(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def handle(data: bytes, source: tuple[str, int]) -> bytes | None:
    """The answer to one datagram (None: nothing to send back)."""
    try:
        request = stun.parse(data)
    except stun.StunError:
        return None
    if request.type != stun.BINDING_REQUEST:
        return None
    host, port = source[0], source[1]
    if host.startswith("::ffff:"):
        host = host[7:]

    def error(code: int, reason: str) -> bytes:
        answer = stun.Message(stun.BINDING_ERROR, request.transaction_id, cookie=request.cookie)
        answer.attributes.append((stun.ERROR_CODE, stun.error_code(code, reason)))
        return stun.serialize(answer)

    key = None
    if request.has(stun.CONNECTION_REQUEST_BINDING):
        try:
            username = request.username
        except stun.StunError:
            return error(400, "Bad Request")
        if not username or not request.has(stun.MESSAGE_INTEGRITY):
            return error(401, "Unauthorized")
        device = _device_for(username)
        if device is None or not device.connection_request_password_encrypted:
            return error(401, "Unauthorized")
        key = device.connection_request_password.encode()
        if not request.integrity_ok(key):
            return error(401, "Unauthorized")
        if record_binding(device, _format(host, port)):
            log.info("device %s reachable by UDP at %s", device.pk, _format(host, port))
    answer = stun.Message(stun.BINDING_SUCCESS, request.transaction_id, cookie=request.cookie)
    answer.attributes.append((stun.MAPPED_ADDRESS, stun.mapped_address(host, port)))
    if request.cookie == stun.MAGIC_COOKIE:
        answer.attributes.append(
            (stun.XOR_MAPPED_ADDRESS, stun.xor_mapped_address(host, port, request.transaction_id))
        )
    return stun.serialize(answer, key)


class StunServer:
    """A UDP STUN server in a daemon thread."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.5)
        self.address = self.sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linesman-stun", daemon=True)

    def start(self) -> StunServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    data, source = self.sock.recvfrom(2048)
                except TimeoutError:
                    continue
                except OSError:
                    if self._stop.is_set():
                        return
                    continue
                close_old_connections()
                try:
                    answer = handle(data, source)
                except Exception:  # one bad datagram or a database hiccup: keep serving
                    log.exception("STUN request from %s failed", source[0])
                    continue
                if answer is not None:
                    with contextlib.suppress(OSError):  # the sender is gone: nothing to do
                        self.sock.sendto(answer, source)
        finally:
            connection.close()
