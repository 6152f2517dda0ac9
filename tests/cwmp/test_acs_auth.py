"""Who may take part in a CWMP session: cookies, credentials, Digest replays, enumeration and
what an unauthenticated request may cost (issue 12, the CWMP endpoint)."""

from __future__ import annotations

import io
import re
import time
import types

import pytest
from django.test import Client
from django.utils import timezone

from linesman.core import crypto
from linesman.core.rediscache import SharedClientRedisCache
from linesman.cwmp import digest, session, soap
from linesman.cwmp.models import DeviceTask, DigestNonce, TaskState
from linesman.cwmp.rpc import SECRET_REF
from tests.conftest import make_device
from tests.cwmp.acs_client import NS, ScriptedCpe, digest_header, inform_message

pytestmark = pytest.mark.django_db

CR_PASSWORD = "cr-secret-never-to-leak"


@pytest.fixture
def device(org_a, device_type):
    """A registered device that has been seen before and has nothing to do."""
    return make_device(
        org_a,
        device_type,
        "CPE0001",
        username="cpe",
        password_encrypted=crypto.encrypt("pw"),
        last_connection=timezone.now(),
        connection_request_username="cr",
        connection_request_password_encrypted=crypto.encrypt(CR_PASSWORD),
    )


def envelope_bytes(message) -> bytes:
    return soap.serialize(soap.Envelope(message, cwmp_id="1", cwmp_ns=NS))


def fresh_nonce(client: Client | None = None) -> str:
    """A nonce from the ACS's own challenge (to an unauthenticated Inform)."""
    response = (client or Client()).post(
        "/cwmp/", data=envelope_bytes(inform_message("NOPE")), content_type="text/xml"
    )
    assert response.status_code == 401
    return re.search(r'nonce="([^"]+)"', response["WWW-Authenticate"]).group(1)


def post(body: bytes, client: Client | None = None, path: str = "/cwmp/", **headers):
    return (client or Client()).post(path, data=body, content_type="text/xml", **headers)


def inform_with(header: str, serial: str = "CPE0001", client: Client | None = None):
    body = envelope_bytes(inform_message(serial, events=("2 PERIODIC",)))
    return post(body, client, HTTP_AUTHORIZATION=header)


# --- 1. session takeover by address ------------------------------------------------------


def test_a_second_client_at_the_same_address_gets_nothing_of_the_session(device):
    """Two clients on 127.0.0.1: the second, without cookie or credentials, must neither
    receive the first's queued SetParameterValues (with the connection-request password)
    nor answer RPCs or report a TransferComplete in its name."""
    DeviceTask.objects.create(
        device=device,
        method="SetParameterValues",
        args={
            "parameters": [
                {"name": "Device.ManagementServer.ConnectionRequestPassword", "value": SECRET_REF}
            ]
        },
    )
    owner = ScriptedCpe("cpe", "pw")
    assert owner.inform("CPE0001").status_code == 200
    assert owner.client.cookies["lsm_session"].value

    intruder = Client()  # same REMOTE_ADDR (127.0.0.1), no cookie, no credentials
    stolen = intruder.post("/cwmp/", data=b"", content_type="text/xml")
    assert stolen.status_code == 204
    assert CR_PASSWORD.encode() not in stolen.content
    forged = intruder.post(
        "/cwmp/",
        data=envelope_bytes(soap.TransferComplete("op-1", 0, "")),
        content_type="text/xml",
    )
    assert forged.status_code == 400
    assert b"TransferCompleteResponse" not in forged.content
    answer = intruder.post(
        "/cwmp/", data=envelope_bytes(soap.SetParameterValuesResponse(0)), content_type="text/xml"
    )
    assert answer.status_code == 400

    # The task is still waiting for its owner, who gets it with its cookie.
    assert DeviceTask.objects.get(device=device).state == TaskState.QUEUED
    rpc = owner.parse(owner.post(None)).body
    assert isinstance(rpc, soap.SetParameterValues)
    assert CR_PASSWORD in {p.value for p in rpc.parameters}


def test_a_cpe_that_drops_cookies_joins_its_session_with_its_credentials(device):
    DeviceTask.objects.create(device=device, method="Reboot", args={"command_key": "k"})
    nonce = fresh_nonce()
    first = inform_with(digest_header("cpe", "pw", nonce, nc=1))
    assert first.status_code == 200
    # No cookie sent back, but the next request proves the device's credentials.
    reply = post(b"", HTTP_AUTHORIZATION=digest_header("cpe", "pw", nonce, nc=2))
    assert reply.status_code == 200
    assert isinstance(soap.parse(reply.content).body, soap.Reboot)
    # A wrong password for the same username joins nothing, and says so.
    wrong = post(b"", HTTP_AUTHORIZATION=digest_header("cpe", "guess", nonce, nc=3))
    assert wrong.status_code == 401
    assert wrong.content == b""


# --- 2. Digest replay ------------------------------------------------------------------------


def test_the_same_authorization_header_is_accepted_once(device):
    header = digest_header("cpe", "pw", fresh_nonce(), nc=1)
    assert inform_with(header).status_code == 200
    replayed = inform_with(header)
    assert replayed.status_code == 401
    assert "stale" not in replayed["WWW-Authenticate"]


def test_the_nonce_count_must_grow(device):
    nonce = fresh_nonce()
    assert inform_with(digest_header("cpe", "pw", nonce, nc=5)).status_code == 200
    assert inform_with(digest_header("cpe", "pw", nonce, nc=3)).status_code == 401
    assert inform_with(digest_header("cpe", "pw", nonce, nc=5)).status_code == 401
    assert inform_with(digest_header("cpe", "pw", nonce, nc=6)).status_code == 200
    # The count is kept where every server process sees it: Redis when configured (with
    # the nonce's lifetime), else the database.
    assert _stored_count(nonce) == 6


def _stored_count(nonce: str) -> int | None:
    from django.core.cache import caches

    backend = caches["default"]
    if isinstance(backend, SharedClientRedisCache):
        client = backend.client()
        key = backend.make_key(f"digest-nonce:{nonce}")
        lifetime = client.ttl(key)
        assert 0 < lifetime <= digest.NONCE_LIFETIME
        assert not DigestNonce.objects.filter(nonce=nonce).exists()
        return int(client.get(key))
    return DigestNonce.objects.get(nonce=nonce).nc


def test_the_uri_must_name_the_request_target(device):
    nonce = fresh_nonce()
    assert inform_with(digest_header("cpe", "pw", nonce, nc=1, uri="/other/")).status_code == 401
    assert inform_with(digest_header("cpe", "pw", nonce, nc=2, uri="/cwmp/")).status_code == 200
    # The same ACS path without the slash is another target: its uri must say so.
    body = envelope_bytes(inform_message("CPE0001", events=("2 PERIODIC",)))
    header = digest_header("cpe", "pw", nonce, nc=3, uri="/cwmp/")
    assert post(body, path="/cwmp", HTTP_AUTHORIZATION=header).status_code == 401
    header = digest_header("cpe", "pw", nonce, nc=4, uri="/cwmp")
    assert post(body, path="/cwmp", HTTP_AUTHORIZATION=header).status_code == 200


def test_a_nonce_not_issued_by_this_acs_is_refused(device):
    import base64

    forged = base64.b64encode(f"{int(time.time())}:00:{'0' * 32}".encode()).decode()
    assert inform_with(digest_header("cpe", "pw", forged, nc=1)).status_code == 401


@pytest.fixture
def later(monkeypatch):
    """Move the Digest clock past a nonce's lifetime."""

    def advance(seconds: float) -> None:
        real = time.time
        monkeypatch.setattr(digest, "time", types.SimpleNamespace(time=lambda: real() + seconds))

    return advance


def test_an_expired_nonce_with_the_right_password_is_answered_stale(device, later):
    nonce = fresh_nonce()
    later(digest.NONCE_LIFETIME + 5)
    expired = inform_with(digest_header("cpe", "pw", nonce, nc=1))
    assert expired.status_code == 401
    challenge = expired["WWW-Authenticate"]
    assert "stale=true" in challenge
    # A wrong password on an expired nonce learns nothing: no stale flag.
    wrong = inform_with(digest_header("cpe", "guess", nonce, nc=2))
    assert wrong.status_code == 401
    assert "stale" not in wrong["WWW-Authenticate"]
    # The new nonce works.
    renewed = re.search(r'nonce="([^"]+)"', challenge).group(1)
    assert inform_with(digest_header("cpe", "pw", renewed, nc=1)).status_code == 200


def test_auth_failed_is_set_only_for_wrong_credentials(device, later):
    body = envelope_bytes(inform_message("CPE0001", events=("2 PERIODIC",)))
    unknown = envelope_bytes(inform_message("NOPE", events=("2 PERIODIC",)))

    def handle(header: str, raw: bytes = body) -> session.Reply:
        return session.handle(
            session.Request(body=raw, cookie=None, authorization=header, address="10.0.0.1")
        )

    nonce = fresh_nonce()
    assert handle("").auth_failed is False  # no credentials presented
    assert handle(digest_header("cpe", "guess", nonce, nc=1)).auth_failed is True
    assert handle("Basic Y3BlOnB3").auth_failed is True  # the type does not allow Basic
    assert handle(digest_header("cpe", "pw", nonce, nc=1), unknown).auth_failed is True
    assert handle("", unknown).auth_failed is False
    ok = handle(digest_header("cpe", "pw", nonce, nc=2))
    assert ok.status == 200 and ok.auth_failed is False
    later(digest.NONCE_LIFETIME + 5)
    stale = handle(digest_header("cpe", "pw", nonce, nc=3))
    assert stale.status == 401 and stale.auth_failed is False


def test_housekeeping_purges_expired_nonces(device):
    from django.core.cache import caches

    from linesman.cwmp import replay

    if isinstance(caches["default"], SharedClientRedisCache):
        pytest.skip("with Redis, nonces are kept there under keys that expire with them")
    nonce = fresh_nonce()
    assert inform_with(digest_header("cpe", "pw", nonce, nc=1)).status_code == 200
    assert DigestNonce.objects.filter(nonce=nonce).exists()
    assert replay.purge(time.time()) == 0
    assert replay.purge(time.time() + digest.NONCE_LIFETIME + 1) == 1
    assert not DigestNonce.objects.exists()


# --- 3. serial enumeration ------------------------------------------------------------------


def _comparable(response) -> tuple:
    headers = {
        k: re.sub(r'nonce="[^"]+"', 'nonce="N"', v)
        for k, v in response.headers.items()
        if k.lower() != "date"
    }
    return response.status_code, response.content, headers


def test_unknown_and_registered_serials_get_the_same_refusal(device):
    nonce = fresh_nonce()
    answers = {
        "unknown, no credentials": post(envelope_bytes(inform_message("NOPE"))),
        "registered, no credentials": post(envelope_bytes(inform_message("CPE0001"))),
        "unknown, credentials": inform_with(digest_header("cpe", "pw", nonce, nc=1), "NOPE"),
        "registered, wrong": inform_with(digest_header("cpe", "guess", nonce, nc=2)),
    }
    shapes = {name: _comparable(r) for name, r in answers.items()}
    assert len(set(map(repr, shapes.values()))) == 1, shapes
    status, body, headers = shapes["unknown, no credentials"]
    assert status == 401 and body == b""
    assert headers["WWW-Authenticate"].startswith("Digest ")


# --- 4. cost before authentication -----------------------------------------------------------

NOT_XML = b"\x00not xml at all " * (4 * 1024 * 1024 // 16)  # 4 MiB


def test_a_large_body_without_credentials_is_refused_unread(device):
    started = time.monotonic()
    response = post(NOT_XML)
    # Not parsed (that would answer 400 "malformed"), but challenged, and the unread body
    # closes the connection.
    assert response.status_code == 401
    assert response.content == b""
    assert response["WWW-Authenticate"].startswith("Digest ")
    assert response["Connection"] == "close"
    assert time.monotonic() - started < 2.0


def test_a_large_body_with_wrong_credentials_is_refused_before_parsing(device):
    nonce = fresh_nonce()
    for header in (
        digest_header("cpe", "guess", nonce, nc=1),
        digest_header("nobody", "pw", nonce, nc=2),
        "Basic Y3BlOnB3",
    ):
        response = post(NOT_XML, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response["Connection"] == "close"


def test_a_small_unauthenticated_body_is_still_parsed(device):
    assert post(b"\x00not xml at all").status_code == 400


def test_a_large_body_with_credentials_or_a_session_is_read(device):
    nonce = fresh_nonce()
    # Admitted by its credentials: read and parsed (and found not to be XML).
    response = post(NOT_XML, HTTP_AUTHORIZATION=digest_header("cpe", "pw", nonce, nc=1))
    assert response.status_code == 400
    assert b"malformed" in response.content
    # Admitted by its session cookie.
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform("CPE0001").status_code == 200
    assert cpe.post(raw=NOT_XML).status_code == 400
    # A made-up cookie admits nothing.
    forged = Client()
    forged.cookies["lsm_session"] = "made-up"
    assert post(NOT_XML, forged).status_code == 401


def test_a_small_compressed_body_that_expands_needs_credentials(device):
    import gzip

    response = post(gzip.compress(NOT_XML), HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 401


@pytest.mark.parametrize("length", ["²", "٣", "1e3", "-5"])
def test_a_content_length_that_is_no_number_is_not_a_500(db, length):
    from linesman.cwmp import endpoint

    body = b"<x/>"
    reply = endpoint.exchange(
        method="POST",
        read=io.BytesIO(body).read,
        content_length=length,
        content_encoding=None,
        cookie=None,
        authorization="",
        address="127.0.0.1",
    )
    assert reply.status in (400, 401, 413)
