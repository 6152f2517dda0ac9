"""Connection requests to https URLs: httpx's TLS path (`connreq_tls`), which authenticates
as the plain path does, and which the processes of a plain-HTTP fleet never load."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from linesman.cwmp import connreq
from linesman.inventory.models import Device
from tests.conftest import make_device
from tests.cwmp.cr_listeners import point_device, recording_listener, tls_pair

pytestmark = pytest.mark.django_db

CHALLENGE = 'Digest realm="cpe", nonce="0123abcd", qop="auth"'


@pytest.fixture
def device(org_a, device_type):
    return make_device(org_a, device_type, "SIM000001")


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """The listener's TLS context; the ACS trusts its certificate for this test."""
    server, client = tls_pair(tmp_path)
    monkeypatch.setattr(connreq, "_ssl_context", lambda: client)
    return server


def _send(device: Device, fan_out: bool) -> connreq.Outcome:
    if not fan_out:
        return connreq.send(device)
    twin = Device.objects.get(pk=device.pk)
    twin.pk, twin.uuid = None, uuid.uuid4()
    twin.serial_number += "-TWIN"
    twin.name += "-twin"
    twin.save()
    return {o.device_id: o for o in connreq.send_many([device, twin])}[device.pk]


@pytest.mark.parametrize("fan_out", [False, True])
def test_an_https_target_is_reached_over_tls(device, tls, fan_out):
    with recording_listener(204, tls=tls) as listener:
        point_device(device, listener.url("cr?x=1"))
        outcome = _send(device, fan_out)
        received = listener.received
    assert outcome.ok and outcome.status_code == 204
    path, headers = received[0]
    assert path == "/cr?x=1"
    assert headers["host"] == f"127.0.0.1:{listener.port}"
    assert "authorization" not in headers


@pytest.mark.parametrize("fan_out", [False, True])
def test_a_digest_challenge_over_tls_gets_digest(device, tls, fan_out):
    with recording_listener(401, [("WWW-Authenticate", CHALLENGE)], tls=tls) as listener:
        point_device(device, listener.url("cr"))
        outcome = _send(device, fan_out)
        received = [headers for _path, headers in listener.received]
    assert outcome.cause == "authentication_failures"
    # Each device (the twin too, in a fan-out) asks bare, then answers the challenge.
    answers = [h.get("authorization") for h in received]
    assert len(answers) == (4 if fan_out else 2)
    assert answers.count(None) == len(answers) // 2
    assert answers[0] is None
    for answer in filter(None, answers):
        assert answer.startswith('Digest username="') and 'nonce="0123abcd"' in answer


def test_an_unusable_challenge_over_tls_is_an_authentication_failure(device, tls):
    challenge = 'Digest realm="cpe", nonce="abc", algorithm=SHA3-999'
    with recording_listener(401, [("WWW-Authenticate", challenge)], tls=tls) as listener:
        point_device(device, listener.url("cr"))
        outcome = connreq.send(device)
        received = listener.received
    assert outcome.cause == "authentication_failures"
    assert len(received) == 1 and "authorization" not in received[0][1]


def test_an_untrusted_certificate_sends_nothing(device, tmp_path):
    server, _client = tls_pair(tmp_path)  # the ACS keeps its own trust store
    with recording_listener(200, tls=server) as listener:
        point_device(device, listener.url("cr"))
        outcome = connreq.send(device)
        received = listener.received
    assert outcome.cause == "connection_failures"
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.detail
    assert received == []


def test_a_plain_http_fleet_never_loads_httpx():
    """The HTTP processes (the ACS and the API) and the policy check of a plain-HTTP
    connection request leave httpx unloaded: about 10 MB a process."""
    script = (
        "import sys, django; django.setup(); import linesman.wsgi\n"
        "from linesman.cwmp import connreq, netpolicy, provisioning\n"
        "from linesman.webhooks import services\n"
        "netpolicy.check('http://10.1.2.3:7547/cr')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linesman.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
