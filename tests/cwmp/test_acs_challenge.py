"""The challenge to an Inform without credentials (issue #17): answered without a database
query when no device can be served without credentials, and never to a device that can."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linesman.core import crypto
from linesman.cwmp import challenge, soap
from linesman.inventory.models import Device
from tests.conftest import make_device
from tests.cwmp.acs_client import NS, inform_message

pytestmark = pytest.mark.django_db


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _inform(serial: str) -> bytes:
    message = inform_message(serial, events=("2 PERIODIC",))
    return soap.serialize(soap.Envelope(message, cwmp_id="1", cwmp_ns=NS))


def _post(body: bytes, client: Client | None = None, **headers):
    return (client or Client()).post("/cwmp/", data=body, content_type="text/xml", **headers)


@pytest.fixture
def device(org_a, device_type):
    return make_device(
        org_a,
        device_type,
        "CPE0001",
        username="cpe",
        password_encrypted=crypto.encrypt("pw"),
        last_connection=timezone.now(),
        connection_request_username="cr",
        connection_request_password_encrypted=crypto.encrypt("crpw"),
    )


def test_the_challenge_needs_no_query_and_its_answer_is_accepted(device):
    client = Client()
    _post(_inform("WARMUP"), client)  # the process learns that every device has credentials
    with CaptureQueriesContext(connection) as queries:
        response = _post(_inform("CPE0001"), client)
    assert response.status_code == 401
    assert len(queries) == 0
    header = response["WWW-Authenticate"]
    assert header.startswith('Digest realm="Linesman ACS", qop="auth", nonce="')
    nonce = re.search(r'nonce="([^"]+)"', header).group(1)
    ha1 = _md5("cpe:Linesman ACS:pw")
    answer = _md5(f"{ha1}:{nonce}:00000001:c1:auth:{_md5('POST:/cwmp/')}")
    authorization = (
        f'Digest username="cpe", realm="Linesman ACS", nonce="{nonce}", uri="/cwmp/", '
        f'qop=auth, nc=00000001, cnonce="c1", response="{answer}", algorithm=MD5'
    )
    ok = _post(_inform("CPE0001"), client, HTTP_AUTHORIZATION=authorization)
    assert ok.status_code == 200
    assert b"InformResponse" in ok.content
    again = _post(_inform("CPE0001"), Client(), HTTP_AUTHORIZATION=authorization)
    assert again.status_code == 401  # the same header proves nothing twice


def test_unknown_and_registered_serials_get_the_same_challenge(device):
    unknown, known = _post(_inform("NOPE")), _post(_inform("CPE0001"))
    assert unknown.status_code == known.status_code == 401
    strip = re.compile(r'nonce="[^"]+"')
    assert strip.sub("", unknown["WWW-Authenticate"]) == strip.sub("", known["WWW-Authenticate"])
    assert unknown.content == known.content == b""


def test_a_device_recorded_without_credentials_is_served_at_once(device, org_a, device_type):
    assert _post(_inform("CPE0001")).status_code == 401  # every device challenged so far
    make_device(org_a, device_type, "OPEN0001", last_connection=timezone.now())
    response = _post(_inform("OPEN0001"))
    assert response.status_code == 200
    assert b"InformResponse" in response.content


def test_credentials_removed_elsewhere_are_seen_within_the_recheck(device, monkeypatch):
    """A change this process was not told of (another process, a bulk update) is read
    again after RECHECK seconds."""
    monkeypatch.setattr(challenge, "RECHECK", 0.3)
    assert _post(_inform("CPE0001")).status_code == 401
    Device.objects.filter(pk=device.pk).update(username="", password_encrypted="")
    deadline = time.monotonic() + 5
    status = 401
    while status != 200 and time.monotonic() < deadline:
        status = _post(_inform("CPE0001")).status_code
    assert status == 200


def test_with_auto_registration_an_unknown_serial_is_registered_and_served(
    device, org_a, device_type, settings
):
    settings.LINESMAN_AUTO_REGISTER_ORG = ""
    assert _post(_inform("NEW0001")).status_code == 401  # every Inform challenged so far
    assert not Device.objects.filter(serial_number="NEW0001").exists()
    settings.LINESMAN_AUTO_REGISTER_ORG = org_a.name
    settings.LINESMAN_AUTO_REGISTER_TYPE = device_type.short_name
    response = _post(_inform("NEW0001"))
    assert response.status_code == 200
    assert Device.objects.filter(serial_number="NEW0001").exists()
