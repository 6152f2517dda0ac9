"""UDP connection requests (TR-069 Annex G) and the order of methods per device type.

What a device behind NAT receives is read from a real UDP socket on 127.0.0.1 and its
signature checked here with HMAC-SHA1 over ts, id, un and cn, as Annex G defines it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from linesman.cwmp import connreq, provisioning
from linesman.cwmp.models import ConnectionRequestLog
from linesman.inventory.models import DeviceType
from tests.conftest import make_device
from tests.cwmp.cr_listeners import point_device, recording_listener

pytestmark = pytest.mark.django_db

USERNAME = "cr-user"
PASSWORD = "cr-pass"


@pytest.fixture
def nat_type(db):
    return DeviceType.objects.create(
        short_name="nat_gateway", name="NAT gateway", connection_request_methods="http,udp"
    )


@pytest.fixture
def refused_url():
    """An HTTP URL whose port refuses connections (a bound socket that never listens)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/cr"
    sock.close()


@pytest.fixture
def udp_listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def received(sock: socket.socket, wait: float = 0.5) -> list[bytes]:
    sock.settimeout(wait)
    datagrams = []
    try:
        while True:
            datagrams.append(sock.recvfrom(2048)[0])
    except TimeoutError:
        return datagrams


def nat_device(org, dtype, url, udp_address):
    device = make_device(org, dtype, "NAT000001")
    point_device(device, url, USERNAME, PASSWORD)
    device.udp_connection_request_address = udp_address
    device.save()
    return device


def test_http_refused_then_a_signed_udp_request_reaches_the_device(
    org_a, nat_type, refused_url, udp_listener
):
    host, port = udp_listener.getsockname()
    device = nat_device(org_a, nat_type, refused_url, f"{host}:{port}")

    outcome = connreq.send(device)

    assert outcome.ok and outcome.method == "udp"
    datagrams = received(udp_listener)
    assert len(datagrams) >= 2, "UDP is lossy: the request is sent more than once"
    assert len(set(datagrams)) == 1, "every copy is the same message (same id)"
    line, _, rest = datagrams[0].decode("ascii").partition("\r\n")
    method, uri, version = line.split(" ")
    assert (method, version) == ("GET", "HTTP/1.1")
    assert uri.startswith(f"http://127.0.0.1:{port}?")
    assert f"Host: 127.0.0.1:{port}" in rest
    q = {k: v[0] for k, v in parse_qs(urlsplit(uri).query).items()}
    assert q["un"] == USERNAME
    text = (q["ts"] + q["id"] + q["un"] + q["cn"]).encode()
    assert q["sig"].lower() == hmac.new(PASSWORD.encode(), text, hashlib.sha1).hexdigest()

    log = list(ConnectionRequestLog.objects.filter(device=device).order_by("id"))
    assert [(r.method, r.ok) for r in log] == [("http", False), ("udp", True)]
    assert log[1].url == f"127.0.0.1:{port}"


def test_http_that_works_is_not_followed_by_udp(org_a, nat_type, udp_listener):
    host, port = udp_listener.getsockname()
    with recording_listener() as listener:
        url = f"http://127.0.0.1:{listener.port}/cr"
        device = nat_device(org_a, nat_type, url, f"{host}:{port}")
        outcome = connreq.send(device)
        assert len(listener.received) == 1
    assert outcome.ok and outcome.method == "http"
    assert received(udp_listener, 0.3) == []


def test_the_type_order_decides_udp_first(org_a, nat_type, refused_url, udp_listener):
    nat_type.connection_request_methods = "udp,http"
    nat_type.save()
    host, port = udp_listener.getsockname()
    device = nat_device(org_a, nat_type, refused_url, f"{host}:{port}")
    # UDP first with HTTP after it: UDP counts only when the device then connects.
    outcome = connreq.send(device, confirm_timeout=0.3)
    assert received(udp_listener)
    log = [(r.method, r.ok, r.error) for r in device.connection_requests.order_by("id")]
    assert log[0][:2] == ("udp", False) and "no session" in log[0][2]
    assert log[1][:2] == ("http", False)
    assert not outcome.ok


@pytest.mark.parametrize("address", ["169.254.169.254:7547", "224.0.0.1:7547"])
def test_udp_targets_obey_the_address_policy(org_a, nat_type, refused_url, address):
    device = nat_device(org_a, nat_type, refused_url, address)
    outcome = connreq.send(device)
    assert not outcome.ok
    assert outcome.cause == "connection_refused"  # HTTP's, the transient one, decides
    udp = device.connection_requests.get(method="udp")
    assert not udp.ok and udp.error.startswith(address.split(":")[0])


def test_loopback_udp_target_refused_without_the_loopback_setting(
    org_a, nat_type, refused_url, udp_listener, settings
):
    settings.LINESMAN_CONNREQ_ALLOW_LOOPBACK = False
    nat_type.connection_request_methods = "udp"
    nat_type.save()
    host, port = udp_listener.getsockname()
    device = nat_device(org_a, nat_type, refused_url, f"{host}:{port}")
    outcome = connreq.send(device)
    assert (outcome.ok, outcome.cause) == (False, "address_not_allowed")
    assert received(udp_listener, 0.3) == []


def test_without_a_stun_binding_udp_is_a_permanent_failure(org_a, nat_type, refused_url):
    nat_type.connection_request_methods = "udp"
    nat_type.save()
    device = nat_device(org_a, nat_type, refused_url, "")
    outcome = connreq.send(device)
    assert (outcome.ok, outcome.cause) == (False, "no_udp_address")
    assert outcome.cause in connreq.PERMANENT_CAUSES


def test_types_using_udp_get_stun_provisioned_towards_this_server(org_a, nat_type, settings):
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, stun_bind=("0.0.0.0", 3479), stun_server_address="acs.example.net"
    )
    device = make_device(org_a, nat_type, "NAT000002", data_model_root="Device.")
    provisioning.ensure_connection_request_credentials(device)
    values = {p["name"]: p["value"] for p in provisioning.management_parameters(device)}
    ms = "Device.ManagementServer."
    assert values[ms + "STUNEnable"] == "true"
    assert values[ms + "STUNServerAddress"] == "acs.example.net"
    assert values[ms + "STUNServerPort"] == "3479"
    assert values[ms + "STUNUsername"] == device.connection_request_username
    assert values[ms + "STUNPassword"] == "$connection_request_password"  # never in clear


def test_http_only_types_get_no_stun(org_a, device_type):
    device = make_device(org_a, device_type, "NAT000003")
    provisioning.ensure_connection_request_credentials(device)
    names = [p["name"] for p in provisioning.management_parameters(device)]
    assert not [n for n in names if "STUN" in n or "XMPP" in n or "Jabber" in n]
