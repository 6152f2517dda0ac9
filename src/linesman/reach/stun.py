"""STUN messages (RFC 5389 Binding) with the TR-111 Part 2 attributes, kept small.

Only what TR-111 needs: Binding requests and their answers, MAPPED-ADDRESS and
XOR-MAPPED-ADDRESS, USERNAME and MESSAGE-INTEGRITY (HMAC-SHA1, keyed with the device's
STUNPassword), ERROR-CODE, and TR-111's CONNECTION-REQUEST-BINDING (the device asks the
server to record the address it sees) and BINDING-CHANGE (the device's address changed).
RFC 3489 clients (no magic cookie) are understood: TR-111 predates RFC 5389.

`parse` takes bytes from anyone on the internet: it raises `StunError` on anything malformed
and nothing else (fuzzed in tests/reach/test_stun_codec.py).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import struct
from dataclasses import dataclass, field

MAGIC_COOKIE = 0x2112A442
HEADER = struct.Struct("!HHI12s")

BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111

MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
XOR_MAPPED_ADDRESS = 0x0020
FINGERPRINT = 0x8028  # may follow MESSAGE-INTEGRITY; not checked (UDP has its own checksum)
#: TR-111 Part 2: "record this binding for UDP connection requests".
CONNECTION_REQUEST_BINDING = 0xC001
#: TR-111 Part 2: the binding changed since the device's last request.
BINDING_CHANGE = 0xC002
#: The fixed value of CONNECTION-REQUEST-BINDING (TR-111 Part 2, 2.2.1).
TR111_MARKER = b"dslforum.org/TR-111 "

MAX_MESSAGE = 548  # RFC 5389: a path MTU unknown, messages stay below 576 bytes of IP


class StunError(ValueError):
    """Bytes that are no acceptable STUN message."""


@dataclass
class Message:
    type: int
    transaction_id: bytes
    attributes: list[tuple[int, bytes]] = field(default_factory=list)
    cookie: int = MAGIC_COOKIE
    #: The message bytes before MESSAGE-INTEGRITY, header length already covering it
    #: (what the HMAC is computed over); None when the message carries none.
    integrity_input: bytes | None = None

    def get(self, attr: int) -> bytes | None:
        for kind, value in self.attributes:
            if kind == attr:
                return value
        return None

    def has(self, attr: int) -> bool:
        return any(kind == attr for kind, _ in self.attributes)

    @property
    def username(self) -> str | None:
        raw = self.get(USERNAME)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise StunError("USERNAME is not UTF-8") from None

    def integrity_ok(self, key: bytes) -> bool:
        """Whether MESSAGE-INTEGRITY is present and right for this key."""
        mac = self.get(MESSAGE_INTEGRITY)
        if mac is None or self.integrity_input is None:
            return False
        expected = hmac.new(key, self.integrity_input, hashlib.sha1).digest()
        return hmac.compare_digest(mac, expected)


def parse(data: bytes) -> Message:
    """A STUN message from a datagram; StunError when it is none."""
    if len(data) < HEADER.size:
        raise StunError("shorter than a STUN header")
    if len(data) > MAX_MESSAGE:
        raise StunError("longer than a STUN message may be")
    kind, length, cookie, txid = HEADER.unpack_from(data)
    if kind & 0xC000:
        raise StunError("the first two bits of a STUN message are zero")
    if length % 4 or HEADER.size + length != len(data):
        raise StunError("the length field does not match the datagram")
    message = Message(kind, txid, cookie=cookie)
    offset = HEADER.size
    while offset < len(data):
        if offset + 4 > len(data):
            raise StunError("truncated attribute header")
        attr, size = struct.unpack_from("!HH", data, offset)
        start = offset + 4
        end = start + size
        if end > len(data):
            raise StunError("attribute longer than the message")
        if attr == MESSAGE_INTEGRITY:
            if size != 20:
                raise StunError("MESSAGE-INTEGRITY is 20 bytes")
            # RFC 5389 15.4: the HMAC covers the header (length up to and including this
            # attribute) and every attribute before it.
            header = struct.pack("!HH", kind, end - HEADER.size) + data[4 : HEADER.size]
            message.integrity_input = header + data[HEADER.size : offset]
        elif message.integrity_input is not None and attr != FINGERPRINT:
            raise StunError("attributes after MESSAGE-INTEGRITY")
        message.attributes.append((attr, data[start:end]))
        offset = end + (-size % 4)
    if offset != len(data):
        raise StunError("attribute padding past the end")
    return message


def _attribute(attr: int, value: bytes) -> bytes:
    return struct.pack("!HH", attr, len(value)) + value + b"\0" * (-len(value) % 4)


def serialize(message: Message, integrity_key: bytes | None = None) -> bytes:
    """The message's bytes; with a key, MESSAGE-INTEGRITY is appended."""
    body = b"".join(_attribute(a, v) for a, v in message.attributes if a != MESSAGE_INTEGRITY)
    if integrity_key is None:
        return HEADER.pack(message.type, len(body), message.cookie, message.transaction_id) + body
    header = HEADER.pack(message.type, len(body) + 24, message.cookie, message.transaction_id)
    mac = hmac.new(integrity_key, header + body, hashlib.sha1).digest()
    return header + body + _attribute(MESSAGE_INTEGRITY, mac)


def _address(family_port_ip: tuple[int, int, bytes]) -> bytes:
    family, port, packed = family_port_ip
    return struct.pack("!BBH", 0, family, port) + packed


def mapped_address(host: str, port: int) -> bytes:
    ip = ipaddress.ip_address(host)
    return _address((1 if ip.version == 4 else 2, port, ip.packed))


def xor_mapped_address(host: str, port: int, transaction_id: bytes) -> bytes:
    ip = ipaddress.ip_address(host)
    mask = struct.pack("!I", MAGIC_COOKIE) + (transaction_id if ip.version == 6 else b"")
    packed = bytes(a ^ b for a, b in zip(ip.packed, mask, strict=False))
    return _address((1 if ip.version == 4 else 2, port ^ (MAGIC_COOKIE >> 16), packed))


def decode_address(value: bytes, transaction_id: bytes | None = None) -> tuple[str, int]:
    """(host, port) of a MAPPED-ADDRESS, or of an XOR-MAPPED-ADDRESS given the id."""
    if len(value) < 4:
        raise StunError("address attribute too short")
    _zero, family, port = struct.unpack_from("!BBH", value)
    packed = value[4:]
    if (family, len(packed)) not in ((1, 4), (2, 16)):
        raise StunError("unknown address family or length")
    if transaction_id is not None:
        mask = struct.pack("!I", MAGIC_COOKIE) + transaction_id
        packed = bytes(a ^ b for a, b in zip(packed, mask, strict=False))
        port ^= MAGIC_COOKIE >> 16
    return str(ipaddress.ip_address(packed)), port


def error_code(code: int, reason: str) -> bytes:
    return struct.pack("!HBB", 0, code // 100, code % 100) + reason.encode()


def binding_request(
    transaction_id: bytes, *, username: str | None = None, binding_change: bool = False
) -> Message:
    """A TR-111 Binding request asking the server to record this binding."""
    attributes = [(CONNECTION_REQUEST_BINDING, TR111_MARKER)]
    if binding_change:
        attributes.append((BINDING_CHANGE, b""))
    if username is not None:
        attributes.insert(0, (USERNAME, username.encode()))
    return Message(BINDING_REQUEST, transaction_id, attributes)
