"""Requests that prove a device by their Authorization header rather than a cookie.

Devices sharing one username, a stale nonce on a cookie-less request, a header naming no
device, and bodies over the unauthenticated limit admitted by a header or a live
database session's cookie. Written from issue #16's mutation run over the session engine.
"""

from __future__ import annotations

import pytest

from linesman.core import crypto
from linesman.cwmp import digest, session, soap
from linesman.cwmp.models import CwmpSession
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe, digest_header, inform_message
from tests.cwmp.test_acs_auth import NOT_XML, fresh_nonce, later  # noqa: F401 (fixture)
from tests.cwmp.test_acs_session import finish_session

pytestmark = pytest.mark.django_db


def _device(org, dtype, serial: str, username: str, password: str):
    return make_device(
        org, dtype, serial, username=username, password_encrypted=crypto.encrypt(password)
    )


def _empty_post(header: str) -> session.Reply:
    return session.handle(
        session.Request(body=b"", cookie=None, authorization=header, address="127.0.0.1")
    )


def test_a_header_for_a_username_no_device_has_counts_as_a_failure(db):
    reply = _empty_post(digest_header("nobody", "pw", fresh_nonce()))
    assert reply.status == 401
    assert reply.auth_failed is True


def test_a_cookieless_device_sharing_its_username_finds_its_own_session(org_a, device_type):
    first = _device(org_a, device_type, "SHARE001", "shared", "first-pw")
    second = _device(org_a, device_type, "SHARE002", "shared", "second-pw")
    # Both are in a session; the other device's is older, so it is tried first, and fails.
    assert (
        ScriptedCpe("shared", "first-pw").inform("SHARE001", events=("0 BOOTSTRAP",)).status_code
        == 200
    )
    cpe = ScriptedCpe("shared", "second-pw")
    assert cpe.inform("SHARE002", events=("0 BOOTSTRAP",)).status_code == 200
    assert CwmpSession.objects.get(device=first).pk < CwmpSession.objects.get(device=second).pk
    live = CwmpSession.objects.get(device=second)
    nonce = fresh_nonce()
    reply = _empty_post(digest_header("shared", "second-pw", nonce))
    assert reply.status == 200  # the session's first RPC, found without a cookie
    sent = soap.parse(reply.body)
    assert CwmpSession.objects.get(pk=live.pk).current_task_id == int(sent.cwmp_id)


def test_a_cookieless_request_does_not_revive_a_session_gone_silent(org_a, device_type):
    from datetime import timedelta

    from django.utils import timezone

    from linesman.cwmp.models import DeviceTask, TaskState

    _device(org_a, device_type, "SILENT01", "silent", "silent-pw")
    cpe = ScriptedCpe("silent", "silent-pw")
    assert cpe.inform("SILENT01", events=("0 BOOTSTRAP",)).status_code == 200
    silent_since = timezone.now() - session.SESSION_TIMEOUT - timedelta(seconds=1)
    CwmpSession.objects.filter(device__serial_number="SILENT01").update(last_activity=silent_since)
    reply = _empty_post(digest_header("silent", "silent-pw", fresh_nonce()))
    assert reply.status == 204  # a stray empty POST: no session, nothing sent
    assert not DeviceTask.objects.filter(state=TaskState.SENT).exists()


def test_a_cookieless_request_on_an_expired_nonce_is_told_it_is_stale(org_a, device_type, later):  # noqa: F811
    _device(org_a, device_type, "CPE0001", "cpe", "pw")
    nonce = fresh_nonce()
    later(digest.NONCE_LIFETIME + 5)
    reply = _empty_post(digest_header("cpe", "pw", nonce))
    assert reply.status == 401
    assert "stale=true" in reply.headers["WWW-Authenticate"]
    assert reply.auth_failed is False


def test_a_large_inform_with_the_right_header_opens_a_session(org_a, device_type):
    _device(org_a, device_type, "CPE0001", "cpe", "pw")
    body = soap.serialize(
        soap.Envelope(
            inform_message("CPE0001", params={"Device.X.Padding": "p" * (70 * 1024)}),
            cwmp_id="big",
            cwmp_ns=soap.NS_CWMP["1.0"],
        )
    )
    assert len(body) > session.UNAUTHENTICATED_BODY
    cpe = ScriptedCpe("cpe", "pw")
    header = digest_header("cpe", "pw", fresh_nonce())
    response = cpe.post(raw=body, HTTP_AUTHORIZATION=header)
    assert response.status_code == 200
    assert isinstance(cpe.parse(response).body, soap.InformResponse)


def test_a_large_body_in_a_database_session_is_read(org_a, device_type):
    _device(org_a, device_type, "CPE0001", "cpe", "pw")
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform("CPE0001", events=("0 BOOTSTRAP",)).status_code == 200
    cookie = cpe.client.cookies["lsm_session"].value
    assert not cookie.startswith("d.")  # a database session's key
    response = cpe.post(raw=NOT_XML)
    assert response.status_code == 400  # read and parsed, not refused unread
    assert b"malformed" in response.content
    finish_session(cpe)


@pytest.mark.parametrize("missing", ["org", "type"])
def test_auto_registration_into_an_org_or_type_that_does_not_exist_registers_nothing(
    settings, org_a, device_type, missing
):
    from linesman.inventory.models import Device

    settings.LINESMAN_AUTO_REGISTER_ORG = "No Such Org" if missing == "org" else org_a.name
    settings.LINESMAN_AUTO_REGISTER_TYPE = (
        "no-such-type" if missing == "type" else device_type.short_name
    )
    assert ScriptedCpe().inform("NEW0009", events=("0 BOOTSTRAP",)).status_code == 401
    assert not Device.objects.filter(serial_number="NEW0009").exists()
