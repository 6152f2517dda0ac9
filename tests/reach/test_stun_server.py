"""The ACS's STUN server: answers Binding requests and records where devices behind NAT are.

Real UDP on 127.0.0.1: a device sends TR-111 Binding requests from its socket; what the
server recorded is read back from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct

import pytest

from linesman.core import crypto
from linesman.inventory.models import Device
from linesman.reach import stun
from linesman.reach.stunserver import StunServer
from tests.conftest import make_device

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME = "cr-7-abcdef01"
PASSWORD = "stun-secret"
KEY = b"stun-secret"


@pytest.fixture
def server():
    running = StunServer("127.0.0.1", 0).start()
    yield running
    running.stop()


@pytest.fixture
def device(org_a, device_type):
    return make_device(
        org_a,
        device_type,
        "NAT000001",
        connection_request_username=USERNAME,
        connection_request_password_encrypted=crypto.encrypt(PASSWORD),
    )


@pytest.fixture
def client():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(3)
    yield sock
    sock.close()


def exchange(client, server, data: bytes) -> bytes:
    client.sendto(data, server.address)
    answer, _ = client.recvfrom(2048)
    return answer


def signed_request(txid: bytes, username: str, key: bytes) -> bytes:
    """A TR-111 Binding request with MESSAGE-INTEGRITY computed here, per RFC 5389 15.4."""
    marker = b"dslforum.org/TR-111 "
    user = username.encode()
    attrs = struct.pack("!HH", 0x0006, len(user)) + user + b"\0" * (-len(user) % 4)
    attrs += struct.pack("!HH", 0xC001, len(marker)) + marker
    header = struct.pack("!HHI12s", 0x0001, len(attrs) + 24, 0x2112A442, txid)
    mac = hmac.new(key, header + attrs, hashlib.sha1).digest()
    return header + attrs + struct.pack("!HH", 0x0008, 20) + mac


def test_plain_binding_request_is_answered_with_the_source_address(server, client):
    txid = b"A" * 12
    request = struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, txid)
    answer = stun.parse(exchange(client, server, request))
    assert answer.type == 0x0101
    assert answer.transaction_id == txid
    port = client.getsockname()[1]
    xor = answer.get(0x0020)
    # XOR-MAPPED-ADDRESS by hand: port ^ 0x2112, address ^ the magic cookie.
    family, xport = struct.unpack("!xBH", xor[:4])
    address = bytes(a ^ b for a, b in zip(xor[4:], b"\x21\x12\xa4\x42", strict=True))
    assert (family, xport ^ 0x2112, socket.inet_ntoa(address)) == (1, port, "127.0.0.1")


def test_authenticated_connection_request_binding_records_the_public_address(
    server, client, device
):
    answer = stun.parse(exchange(client, server, signed_request(b"B" * 12, USERNAME, KEY)))
    assert answer.type == 0x0101
    device.refresh_from_db()
    assert device.udp_connection_request_address == f"127.0.0.1:{client.getsockname()[1]}"
    assert device.udp_address_updated is not None


def test_binding_without_integrity_gets_401_and_records_nothing(server, client, device):
    marker = b"dslforum.org/TR-111 "
    attrs = struct.pack("!HH", 0xC001, len(marker)) + marker
    request = struct.pack("!HHI12s", 0x0001, len(attrs), 0x2112A442, b"C" * 12) + attrs
    answer = stun.parse(exchange(client, server, request))
    assert answer.type == 0x0111
    assert answer.get(0x0009)[2:4] == bytes([4, 1])  # class 4, number 01: 401
    assert Device.objects.get(pk=device.pk).udp_connection_request_address == ""


@pytest.mark.parametrize(
    ("username", "key"),
    [(USERNAME, b"wrong-secret"), ("cr-unknown", b"stun-secret")],
    ids=["wrong password", "unknown username"],
)
def test_wrong_credentials_get_401_and_record_nothing(server, client, device, username, key):
    answer = stun.parse(exchange(client, server, signed_request(b"D" * 12, username, key)))
    assert answer.type == 0x0111
    assert Device.objects.get(pk=device.pk).udp_connection_request_address == ""


def test_garbage_gets_no_answer_and_the_server_keeps_serving(server, client, device):
    client.sendto(b"\x00\x01\x00\x04garbage!", server.address)
    client.sendto(b"GET / HTTP/1.1\r\n\r\n", server.address)
    answer = stun.parse(exchange(client, server, signed_request(b"E" * 12, USERNAME, KEY)))
    assert answer.transaction_id == b"E" * 12  # the first answer is to the valid request
