"""Connection requests authenticate the way the CPE's challenge asks (TR-069 3.2.2).

The ACS's first GET carries no credentials; a Digest challenge gets Digest, Basic is sent
only to a CPE that offers nothing but Basic. Checked against the simulator's own listener,
with a device type that allows Basic for Informs (which used to make the ACS send Basic
pre-emptively, the password in clear).
"""

from __future__ import annotations

import uuid

import pytest

from linesman.cwmp import connreq
from linesman.cwmp.models import ConnectionRequestLog
from linesman.inventory.models import Device
from tests.conftest import make_device
from tests.cwmp.cr_listeners import point_device, recording_listener, sim_listener

pytestmark = pytest.mark.django_db


@pytest.fixture
def basic_inform_type(device_type):
    """A device type whose devices may use Basic for their Informs."""
    device_type.allow_basic_auth = True
    device_type.save()
    return device_type


@pytest.fixture
def device(org_a, basic_inform_type):
    return make_device(org_a, basic_inform_type, "SIM000001")


@pytest.mark.parametrize("challenge", ["digest", "digest+basic"])
def test_digest_challenge_gets_digest_and_never_basic(device, challenge):
    with sim_listener(challenge) as listener:
        point_device(device, listener.url)
        outcome = connreq.send(device)
        schemes = listener.schemes
        kicks = listener.agent.kicks
    assert outcome.ok and outcome.status_code == 200 and outcome.cause == ""
    assert schemes == {"none": 1, "digest": 1}  # bare first, then Digest; no Basic at all
    assert kicks == 1


@pytest.mark.parametrize("allow_basic_for_informs", [True, False])
def test_basic_only_cpe_gets_basic_after_its_challenge(device, allow_basic_for_informs):
    device.type.allow_basic_auth = allow_basic_for_informs
    device.type.save()
    with sim_listener("basic") as listener:
        point_device(device, listener.url)
        outcome = connreq.send(device)
        schemes = listener.schemes
        kicks = listener.agent.kicks
    assert outcome.ok
    assert schemes == {"none": 1, "basic": 1}  # in clear only because the CPE asked for it
    assert kicks == 1


def test_wrong_password_is_an_authentication_failure_without_basic(device):
    with sim_listener("digest") as listener:
        point_device(device, listener.url, password="not-the-password")
        outcome = connreq.send(device)
        schemes = listener.schemes
        kicks = listener.agent.kicks
    assert not outcome.ok and outcome.status_code == 401
    assert outcome.cause == "authentication_failures"
    assert schemes == {"none": 1, "digest": 1}
    assert kicks == 0
    row = ConnectionRequestLog.objects.get(device=device)
    assert row.ok is False and row.status_code == 401


def test_fan_out_answers_each_challenge_too(device):
    with sim_listener("digest") as listener:
        point_device(device, listener.url)
        outcomes = connreq.send_many([device])
        schemes = listener.schemes
    assert [o.ok for o in outcomes] == [True]
    assert schemes == {"none": 1, "digest": 1}


def test_a_fan_out_of_several_answers_every_challenge(device):
    """Several devices go out together on the event-loop path; each is challenged and
    answers (both point at one listener, which knows one device's credentials)."""
    with sim_listener("digest") as listener:
        point_device(device, listener.url)
        twin = Device.objects.get(pk=device.pk)
        twin.pk, twin.uuid, twin.serial_number, twin.name = None, uuid.uuid4(), "TWIN-1", "twin"
        twin.save()
        outcomes = connreq.send_many([device, twin])
        schemes = listener.schemes
    assert [o.ok for o in outcomes] == [True, True]
    assert schemes == {"none": 2, "digest": 2}


def test_device_without_credentials_sends_none(device):
    with sim_listener("digest") as listener:
        point_device(device, listener.url, username="", password="")
        outcome = connreq.send(device)
        schemes = listener.schemes
    assert outcome.cause == "authentication_failures"
    assert schemes == {"none": 1}


@pytest.mark.parametrize(
    "challenge",
    [
        'Digest realm="cpe", nonce="abc", algorithm=SHA3-999',  # an algorithm nobody knows
        'Digest realm="cpe", junk',  # a field without a value
        'Digest nonce="abc"',  # no realm
        'Digest realm="cpe", nonce="abc", qop="auth-int"',  # no "auth" among its qops
    ],
)
def test_unusable_digest_challenge_is_an_authentication_failure(device, challenge):
    with recording_listener(401, [("WWW-Authenticate", challenge)]) as listener:
        point_device(device, f"http://127.0.0.1:{listener.port}/cr")
        outcome = connreq.send(device)
        [(_path, headers)] = listener.received
    assert not outcome.ok and outcome.cause == "authentication_failures"
    assert "authorization" not in headers


def test_unknown_scheme_is_not_answered(device):
    with recording_listener(401, [("WWW-Authenticate", 'Bearer realm="cpe"')]) as listener:
        point_device(device, f"http://127.0.0.1:{listener.port}/cr")
        outcome = connreq.send(device)
        received = listener.received
    assert outcome.cause == "authentication_failures"
    assert len(received) == 1 and "authorization" not in received[0][1]


def test_the_simulators_basic_only_listener_refuses_digest():
    import httpx

    with sim_listener("basic") as listener:
        with httpx.Client(trust_env=False, timeout=5) as http:
            digest = http.get(listener.url, auth=httpx.DigestAuth("SIM000001", "SIM000001-secret"))
            basic = http.get(listener.url, auth=httpx.BasicAuth("SIM000001", "SIM000001-secret"))
        kicks = listener.agent.kicks
    assert digest.status_code == 401
    assert digest.headers.get_list("www-authenticate") == ['Basic realm="Linesman CPE"']
    assert basic.status_code == 200 and kicks == 1


def test_an_unusable_digest_beside_basic_gets_neither(device):
    """A device offering Digest asked for Digest: when its Digest challenge cannot be
    answered, the password is not sent in clear instead."""
    challenges = [
        ("WWW-Authenticate", 'Digest realm="cpe", nonce="abc", algorithm=SHA3-999'),
        ("WWW-Authenticate", 'Basic realm="cpe"'),
    ]
    with recording_listener(401, challenges) as listener:
        point_device(device, f"http://127.0.0.1:{listener.port}/cr")
        outcome = connreq.send(device)
        received = listener.received
    assert outcome.cause == "authentication_failures"
    assert len(received) == 1 and "authorization" not in received[0][1]


def test_the_request_is_a_bare_get_to_the_urls_host(device):
    with recording_listener(204) as listener:
        point_device(device, f"http://127.0.0.1:{listener.port}/cr?x=1")
        outcome = connreq.send(device)
        [(path, headers)] = listener.received
    assert outcome.ok and outcome.status_code == 204
    assert path == "/cr?x=1"
    assert headers["host"] == f"127.0.0.1:{listener.port}"
    assert "content-length" not in headers and "transfer-encoding" not in headers
    assert headers["user-agent"] == "Linesman-ACS"
