"""UDP connection requests (TR-069 Annex G): the signed request sent to a device behind NAT.

The ACS sends one datagram, repeated a few times because UDP is lossy, to the public
address and port the STUN server recorded for the device:

    GET http://host:port?ts=..&id=..&un=..&cn=..&sig=.. HTTP/1.1
    Host: host:port

ts is the time in seconds, id a message id (the same in every copy, so the device acts
once), un the connection-request username, cn a random cnonce, and sig the hex HMAC-SHA1
of ts, id, un and cn concatenated, keyed with the connection-request password. There is no
answer: the device shows it was reached by opening a session.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

COPIES = 3  # Annex G: the message is sent several times, the device acts on the first
COPY_INTERVAL = 0.05
MAX_DATAGRAM = 1024


def signature(ts: str, msg_id: str, username: str, cnonce: str, password: str) -> str:
    text = (ts + msg_id + username + cnonce).encode()
    return hmac.new(password.encode(), text, hashlib.sha1).hexdigest().upper()


def build(
    host: str,
    port: int,
    username: str,
    password: str,
    *,
    msg_id: str | None = None,
    ts: int | None = None,
) -> bytes:
    """The request datagram for one connection request."""
    ts_text = str(int(time.time()) if ts is None else ts)
    msg_id = msg_id or str(secrets.randbelow(2**31))
    cnonce = secrets.token_hex(8)
    sig = signature(ts_text, msg_id, username, cnonce, password)
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    query = f"ts={ts_text}&id={msg_id}&un={quote(username, safe='')}&cn={cnonce}&sig={sig}"
    return f"GET http://{where}?{query} HTTP/1.1\r\nHost: {where}\r\n\r\n".encode()


@dataclass(frozen=True)
class Request:
    ts: int
    msg_id: str
    username: str
    cnonce: str
    sig: str


class BadRequest(ValueError):
    pass


def parse(data: bytes) -> Request:
    """A received UDP connection request (device side); BadRequest when malformed."""
    if len(data) > MAX_DATAGRAM:
        raise BadRequest("too long")
    try:
        line = data.decode("ascii").split("\r\n", 1)[0]
    except UnicodeDecodeError:
        raise BadRequest("not ASCII") from None
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/1."):
        raise BadRequest("not a GET request line")
    query = parse_qs(urlsplit(parts[1]).query)
    try:
        fields = {k: query[k][0] for k in ("ts", "id", "un", "cn", "sig")}
        ts = int(fields["ts"])
    except (KeyError, IndexError, ValueError):
        raise BadRequest("a field is missing") from None
    return Request(ts, fields["id"], fields["un"], fields["cn"], fields["sig"])


def verify(request: Request, username: str, password: str) -> bool:
    """Whether the request is signed for these credentials."""
    expected = signature(
        str(request.ts), request.msg_id, request.username, request.cnonce, password
    )
    return request.username == username and hmac.compare_digest(expected, request.sig.upper())


def split_address(address: str) -> tuple[str, int]:
    """("host", port) of a recorded "host:port" ("[v6]:port" for IPv6)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    ipaddress.ip_address(host)  # ValueError for anything but an address literal
    return host, int(port)


def send(host: str, port: int, username: str, password: str) -> None:
    """Send the request `COPIES` times; OSError when the datagram cannot be sent."""
    datagram = build(host, port, username, password)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        for copy in range(COPIES):
            if copy:
                time.sleep(COPY_INTERVAL)
            sock.sendto(datagram, (host, port))
