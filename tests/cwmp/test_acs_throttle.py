"""Brute-force throttling at the ACS: wrong credentials are counted per username and per
source address; beyond the limit the ACS answers 503 with Retry-After without looking at
the credentials, until the window ends. Devices that authenticate are never counted."""

from __future__ import annotations

import base64

import pytest

from linesman.core import crypto, throttle
from linesman.cwmp import soap
from linesman.inventory.models import Device
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe, inform_message
from tests.cwmp.test_acs_session import finish_session

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float = 1_000_000.0):  # 40 s into a 60 s window
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LINESMAN_THROTTLE_WINDOW = 60
    settings.LINESMAN_ACS_AUTH_FAILURES_PER_IDENTITY = 3
    settings.LINESMAN_ACS_AUTH_FAILURES_PER_ADDRESS = 8


def registered(org, dtype, serial: str, username: str, password: str) -> Device:
    return make_device(
        org, dtype, serial, username=username, password_encrypted=crypto.encrypt(password)
    )


def digest_inform(serial: str, username: str, password: str, address: str = "127.0.0.1"):
    """Challenge, then answer it: the second response (the one with credentials). A session
    that opens is ended at once (empty POST), so the device may open the next one."""
    cpe = ScriptedCpe(username, password)
    first = cpe.post(inform_message(serial), REMOTE_ADDR=address)
    assert first.status_code == 401
    response = cpe.post(
        inform_message(serial), challenge=first["WWW-Authenticate"], REMOTE_ADDR=address
    )
    if response.status_code == 200:
        finish_session(cpe)
    return response


def basic_inform(serial: str, username: str, password: str, address: str = "127.0.0.1"):
    return ScriptedCpe(username, password, basic=True).post(
        inform_message(serial), REMOTE_ADDR=address
    )


def is_session(response) -> bool:
    return response.status_code == 200 and isinstance(
        soap.parse(response.content).body, soap.InformResponse
    )


def test_after_the_limit_the_right_password_is_refused_until_the_window_ends(
    clock, org_a, device_type
):
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    for _ in range(2):
        assert digest_inform("CPE1", "cpe1", "wrong").status_code == 401
    third = digest_inform("CPE1", "cpe1", "wrong")  # reaches the limit
    assert third.status_code == 503
    assert third["Retry-After"] == "20"  # what is left of the window

    refused = digest_inform("CPE1", "cpe1", "right")
    assert refused.status_code == 503, "a right guess is not even checked while blocked"
    assert Device.objects.get(serial_number="CPE1").last_connection is None

    clock.now += 20  # the window ends
    assert is_session(digest_inform("CPE1", "cpe1", "right"))


def test_another_device_at_the_same_address_still_gets_in(clock, org_a, device_type):
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    registered(org_a, device_type, "CPE2", "cpe2", "other")
    for _ in range(3):
        digest_inform("CPE1", "cpe1", "wrong")
    assert digest_inform("CPE1", "cpe1", "right").status_code == 503
    assert is_session(digest_inform("CPE2", "cpe2", "other"))


def test_devices_that_authenticate_are_never_counted(clock, org_a, device_type):
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    for _ in range(12):  # beyond both limits, were successes counted
        assert is_session(digest_inform("CPE1", "cpe1", "right"))


def test_challenges_without_credentials_are_not_failures(clock, org_a, device_type):
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    for _ in range(12):
        assert ScriptedCpe().post(inform_message("CPE1")).status_code == 401
    assert is_session(digest_inform("CPE1", "cpe1", "right"))


def test_wrong_basic_and_unknown_serials_count_too(clock, org_a, device_type):
    device_type.allow_basic_auth = True
    device_type.save()
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    for _ in range(2):
        assert basic_inform("CPE1", "cpe1", "wrong").status_code == 401
    assert basic_inform("CPE1", "cpe1", "wrong").status_code == 503
    assert basic_inform("CPE1", "cpe1", "right").status_code == 503

    for _ in range(2):  # a username guessed for a serial that is not registered
        assert digest_inform("NOPE", "ghost", "x", address="10.0.0.9").status_code == 401
    assert digest_inform("NOPE", "ghost", "x", address="10.0.0.9").status_code == 503
    assert digest_inform("NOPE", "ghost", "x", address="10.0.0.9").status_code == 503


def test_one_address_cycling_usernames_is_stopped_by_the_address_limit(clock, org_a, device_type):
    """Per-address limit: 8 here (300 by default, so a CGNAT fleet's rare failures fit)."""
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    for n in range(7):
        assert digest_inform("CPE1", f"guess{n}", "x", address="198.51.100.7").status_code == 401
    assert digest_inform("CPE1", "guess8", "x", address="198.51.100.7").status_code == 503
    # Devices at that address wait for the window too; elsewhere nothing changed.
    assert digest_inform("CPE1", "cpe1", "right", address="198.51.100.7").status_code == 503
    assert is_session(digest_inform("CPE1", "cpe1", "right", address="203.0.113.1"))


def test_a_refused_request_costs_no_parsing(clock, org_a, device_type):
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    for _ in range(3):
        digest_inform("CPE1", "cpe1", "wrong")
    token = base64.b64encode(b"cpe1:whatever").decode()
    response = ScriptedCpe().client.post(
        "/cwmp/", data=b"<not xml", content_type="text/xml", HTTP_AUTHORIZATION=f"Basic {token}"
    )
    assert response.status_code == 503  # not 400: the body was never parsed


def test_blocks_are_shared_between_processes(clock, org_a, device_type):
    """A process that never saw the failures learns the block at its first failure."""
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    for _ in range(2):
        digest_inform("CPE1", "cpe1", "wrong")
    throttle.fail(throttle.acs_limits("cpe1", "127.0.0.1"))  # the third, in another process
    throttle._known.clear()  # this process saw none of them
    assert digest_inform("CPE1", "cpe1", "wrong").status_code == 503
    assert digest_inform("CPE1", "cpe1", "right").status_code == 503


def test_wrong_credentials_on_a_large_body_count_too(clock, org_a, device_type):
    """However early the exchange refuses a wrong header (a large body may be refused
    before it is read), the failure is counted."""
    device_type.allow_basic_auth = True
    device_type.save()
    registered(org_a, device_type, "CPE1", "cpe1", "right")
    padding = {f"Device.X_Pad.{i}": "x" * 1000 for i in range(100)}  # about 100 KiB
    message = inform_message("CPE1", params=padding)
    cpe = ScriptedCpe("cpe1", "wrong", basic=True)
    assert len(soap.serialize(soap.Envelope(message, cwmp_id="1"))) > 100_000
    assert [cpe.post(message).status_code for _ in range(3)] == [401, 401, 503]
    assert basic_inform("CPE1", "cpe1", "right").status_code == 503
