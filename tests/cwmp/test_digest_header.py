"""Reading a device's Digest Authorization header (RFC 7616 section 3.4): quoted values with
and without quoted-pair escapes, tokens, and headers cut short, as devices send them."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client
from django.utils import timezone

from linesman.core import crypto
from linesman.cwmp import digest, soap
from tests.conftest import make_device
from tests.cwmp.acs_client import NS, inform_message

pytestmark = pytest.mark.django_db


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_quoted_values_and_tokens_are_read_as_sent():
    header = (
        'Digest username="CPE0001", realm="Linesman ACS", nonce="bm9uY2U=", uri="/cwmp/?a=1,b", '
        'qop=auth, nc=00000001, cnonce="c n", response="0123abcd", algorithm=MD5'
    )
    assert digest.parse_authorization(header) == (
        "digest",
        {
            "username": "CPE0001",
            "realm": "Linesman ACS",
            "nonce": "bm9uY2U=",
            "uri": "/cwmp/?a=1,b",
            "qop": "auth",
            "nc": "00000001",
            "cnonce": "c n",
            "response": "0123abcd",
            "algorithm": "MD5",
        },
    )


def test_a_quoted_pair_stands_for_its_character():
    header = r'Digest username="a\"b\\c", realm="x"'
    assert digest.parse_authorization(header)[1] == {"username": 'a"b\\c', "realm": "x"}


def test_an_unterminated_quoted_value_runs_to_the_end():
    assert digest.parse_authorization('Digest nonce="abc')[1] == {"nonce": "abc"}


def test_a_device_whose_username_needs_escaping_authenticates(org_a, device_type):
    """A username with a quote travels as a quoted-pair; the ACS reads it back and accepts
    the device's answer to its challenge."""
    username = 'cpe"7'
    make_device(
        org_a,
        device_type,
        "CPE0007",
        username=username,
        password_encrypted=crypto.encrypt("pw"),
        last_connection=timezone.now(),
        connection_request_username="cr",
        connection_request_password_encrypted=crypto.encrypt("crpw"),
    )
    body = soap.serialize(
        soap.Envelope(inform_message("CPE0007", events=("2 PERIODIC",)), cwmp_id="1", cwmp_ns=NS)
    )
    client = Client()
    challenge = client.post("/cwmp/", data=body, content_type="text/xml")
    assert challenge.status_code == 401
    nonce = re.search(r'nonce="([^"]+)"', challenge["WWW-Authenticate"]).group(1)
    ha1 = _md5(f"{username}:Linesman ACS:pw")
    response = _md5(f"{ha1}:{nonce}:00000001:cn:auth:{_md5('POST:/cwmp/')}")
    header = (
        'Digest username="cpe\\"7", realm="Linesman ACS", '
        f'nonce="{nonce}", uri="/cwmp/", qop=auth, nc=00000001, cnonce="cn", '
        f'response="{response}", algorithm=MD5'
    )
    answer = client.post("/cwmp/", data=body, content_type="text/xml", HTTP_AUTHORIZATION=header)
    assert answer.status_code == 200
    assert b"InformResponse" in answer.content
