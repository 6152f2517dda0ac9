"""The STUN codec: RFC 5769's sample messages, TR-111 requests, and hostile datagrams."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linesman.reach import stun

# RFC 5769 section 2.1 and 2.2 (short-term credentials).
PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"
SAMPLE_REQUEST = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae"
    "802200105354554e207465737420636c69656e74"
    "002400046e0001ff"
    "80290008932ff9b151263b36"
    "000600096576746a3a68367659202020"
    "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
    "80280004e57a3bcf"
)
SAMPLE_IPV4_RESPONSE = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f"
    "7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53"
    "f06be7d780280004c07d4c96"
)


def test_rfc5769_sample_request_parses_and_its_integrity_checks():
    message = stun.parse(SAMPLE_REQUEST)
    assert message.type == stun.BINDING_REQUEST
    assert message.transaction_id == bytes.fromhex("b7e7a701bc34d686fa87dfae")
    assert message.username == "evtj:h6vY"
    assert message.integrity_ok(PASSWORD)
    assert not message.integrity_ok(b"another password")


def test_rfc5769_sample_response_gives_192_0_2_1_port_32853():
    message = stun.parse(SAMPLE_IPV4_RESPONSE)
    assert message.type == stun.BINDING_SUCCESS
    raw = message.get(stun.XOR_MAPPED_ADDRESS)
    assert stun.decode_address(raw, message.transaction_id) == ("192.0.2.1", 32853)
    assert message.integrity_ok(PASSWORD)


def test_our_xor_mapped_address_is_the_rfc_sample_bytes():
    txid = bytes.fromhex("b7e7a701bc34d686fa87dfae")
    assert stun.xor_mapped_address("192.0.2.1", 32853, txid) == bytes.fromhex("0001a147e112a643")


def test_a_tr111_request_round_trips_with_integrity():
    txid = b"\x01" * 12
    data = stun.serialize(stun.binding_request(txid, username="cr-1-ab"), b"secret")
    message = stun.parse(data)
    assert message.has(stun.CONNECTION_REQUEST_BINDING)
    assert message.get(stun.CONNECTION_REQUEST_BINDING) == b"dslforum.org/TR-111 "
    assert message.username == "cr-1-ab"
    assert message.integrity_ok(b"secret")
    assert not message.integrity_ok(b"Secret")


def test_a_flipped_byte_breaks_integrity():
    data = bytearray(stun.serialize(stun.binding_request(b"\x02" * 12, username="u"), b"k"))
    data[25] ^= 0x01  # inside USERNAME
    assert not stun.parse(bytes(data)).integrity_ok(b"k")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 19,
        SAMPLE_REQUEST[:-1],  # length field no longer matches
        SAMPLE_REQUEST + b"\0\0\0\0",
        b"\xc0" + SAMPLE_REQUEST[1:],  # top bits set: not STUN
        struct.pack("!HHI12s", 1, 4, stun.MAGIC_COOKIE, b"x" * 12) + b"\x00\x06\x00\x09",
        struct.pack("!HHI12s", 1, 8, stun.MAGIC_COOKIE, b"x" * 12)
        + b"\x00\x08\x00\x04abcd",  # MESSAGE-INTEGRITY of the wrong size
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x00\x01" + b"\xff" * 600,
    ],
)
def test_malformed_datagrams_raise_stun_error(data):
    with pytest.raises(stun.StunError):
        stun.parse(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise_anything_but_stun_error(data):
    with contextlib.suppress(stun.StunError):
        stun.parse(data)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=40)), max_size=8),
    st.integers(0, 0xFFFF),
    st.data(),
)
def test_mutated_well_formed_messages_parse_or_raise_stun_error(attributes, kind, data):
    message = stun.Message(kind & 0x3FFF, b"t" * 12, attributes)
    raw = bytearray(stun.serialize(message))
    if raw and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    try:
        parsed = stun.parse(bytes(raw))
        parsed.username  # noqa: B018 - decoding may fail only with StunError
        for attr in (stun.MAPPED_ADDRESS, stun.XOR_MAPPED_ADDRESS):
            if (value := parsed.get(attr)) is not None:
                stun.decode_address(value, parsed.transaction_id)
    except stun.StunError:
        pass
