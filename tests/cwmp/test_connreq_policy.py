"""The address policy for connection-request targets, and the causes API users see.

A device reports its ConnectionRequestURL itself; the ACS must not become a way to reach
cloud metadata or services on its own loopback, nor tell a caller how an internal port
answered.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid

import pytest

from linesman.cwmp import connreq, netpolicy
from linesman.cwmp.models import ConnectionRequestLog
from linesman.inventory.models import Device
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device
from tests.cwmp.cr_listeners import point_device, recording_listener, silent_socket

pytestmark = pytest.mark.django_db

ip = ipaddress.ip_address
EVERYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def _send(device, fan_out):
    """One request: alone (`send`), or in a fan-out of one device or of two (the second a
    twin with the same URL), which takes the event-loop path."""
    if fan_out is None:
        return connreq.send(device)
    if fan_out == "one":
        return connreq.send_many([device])[0]
    twin = Device.objects.get(pk=device.pk)
    twin.pk = None
    twin.uuid = uuid.uuid4()
    twin.serial_number += "-TWIN"
    twin.name += "-twin"
    twin.save()
    return {o.device_id: o for o in connreq.send_many([device, twin])}[device.pk]


@pytest.fixture
def device(org_a, device_type):
    return make_device(org_a, device_type, "SIM000001")


@pytest.fixture
def no_loopback(settings):
    settings.LINESMAN_CONNREQ_ALLOW_LOOPBACK = False


@pytest.fixture
def fake_dns(monkeypatch):
    """Names under .test resolve to what the test says, answer by answer; every lookup of
    them is counted. Other names resolve as usual."""
    real = socket.getaddrinfo
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(name)
        queue = answers[name]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port or 80, 0, 0) if ":" in a else (a, port or 80),
            )
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connections are refused
    return port


# --- the rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("169.254.169.254", False),  # cloud metadata
        ("169.254.1.1", False),  # link-local
        ("fd00:ec2::254", False),  # metadata over IPv6
        ("fe80::1", False),
        ("224.0.0.1", False),  # multicast
        ("239.255.255.250", False),
        ("ff02::1", False),
        ("0.0.0.0", False),  # unspecified: reaches the local host
        ("::", False),
        ("255.255.255.255", False),  # broadcast
        ("::ffff:169.254.169.254", False),  # the metadata address mapped into IPv6
        ("64:ff9b::a9fe:a9fe", False),  # ... and through NAT64
        ("127.0.0.1", False),  # loopback, while not allowed
        ("127.8.9.10", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("10.1.2.3", True),  # private unicast: CPEs live there
        ("192.168.1.1", True),
        ("100.64.0.9", True),  # CGNAT
        ("198.51.100.7", True),  # public
        ("2001:db8::1", True),
        ("fd12:3456::1", True),  # unique local
    ],
)
def test_default_policy(address, allowed):
    assert netpolicy.address_allowed(ip(address), networks=EVERYWHERE, allow_loopback=False) is (
        allowed
    )


def test_loopback_only_when_allowed_and_the_never_list_still_holds():
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert netpolicy.address_allowed(ip(address), networks=EVERYWHERE, allow_loopback=True)
    for address in ("169.254.169.254", "0.0.0.0", "ff02::1"):
        assert not netpolicy.address_allowed(ip(address), networks=EVERYWHERE, allow_loopback=True)


def test_configured_networks_limit_the_targets():
    only_ten = (ipaddress.ip_network("10.0.0.0/8"),)
    assert netpolicy.address_allowed(ip("10.9.8.7"), networks=only_ten, allow_loopback=False)
    assert not netpolicy.address_allowed(
        ip("198.51.100.7"), networks=only_ten, allow_loopback=False
    )
    assert not netpolicy.address_allowed(ip("2001:db8::1"), networks=only_ten, allow_loopback=False)
    # Link-local inside a configured network is still never allowed.
    assert not netpolicy.address_allowed(
        ip("169.254.169.254"),
        networks=(ipaddress.ip_network("169.254.0.0/16"),),
        allow_loopback=False,
    )


def test_configuration_is_validated(monkeypatch):
    from linesman import conf

    monkeypatch.setenv("LINESMAN_CONNREQ_ALLOWED_NETWORKS", "10.0.0.0/8, 2001:db8::/32")
    monkeypatch.setenv("LINESMAN_CONNREQ_ALLOW_LOOPBACK", "true")
    config = conf.load()
    assert config.connreq_allowed_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert config.connreq_allow_loopback is True
    monkeypatch.setenv("LINESMAN_CONNREQ_ALLOWED_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(conf.ConfigError, match="LINESMAN_CONNREQ_ALLOWED_NETWORKS.*intranet"):
        conf.load()
    monkeypatch.delenv("LINESMAN_CONNREQ_ALLOWED_NETWORKS")
    monkeypatch.delenv("LINESMAN_CONNREQ_ALLOW_LOOPBACK")
    config = conf.load()
    assert config.connreq_allowed_networks == EVERYWHERE
    assert config.connreq_allow_loopback is False


# --- refused targets: no request is made ------------------------------------------------


def test_metadata_address_is_refused_and_logged(device):
    point_device(device, "http://169.254.169.254/latest/meta-data/")
    outcome = connreq.send(device)
    assert not outcome.ok and outcome.status_code is None
    assert outcome.cause == "address_not_allowed"
    row = ConnectionRequestLog.objects.get(device=device)
    assert row.ok is False and row.status_code is None
    assert row.error.startswith("address_not_allowed")


@pytest.mark.usefixtures("no_loopback")
@pytest.mark.parametrize("fan_out", [None, "one", "many"])
def test_loopback_target_is_refused_without_a_connection(device, fan_out):
    with silent_socket() as (port, connected):
        point_device(device, f"http://127.0.0.1:{port}/")
        outcome = _send(device, fan_out)
        assert outcome.cause == "address_not_allowed"
        assert not connected()
    assert ConnectionRequestLog.objects.filter(device=device, ok=False).count() == 1


@pytest.mark.usefixtures("no_loopback")
def test_redis_port_on_loopback_is_refused(device):
    point_device(device, "http://127.0.0.1:6379/")
    assert connreq.send(device).cause == "address_not_allowed"


def test_loopback_is_reached_when_configured(device, settings):
    settings.LINESMAN_CONNREQ_ALLOW_LOOPBACK = True
    with recording_listener(200) as listener:
        point_device(device, f"http://127.0.0.1:{listener.port}/cr")
        outcome = connreq.send(device)
        received = listener.received
    assert outcome.ok and [path for path, _headers in received] == ["/cr"]


@pytest.mark.usefixtures("no_loopback")
def test_host_name_resolving_to_loopback_is_refused(device):
    with silent_socket() as (port, connected):
        point_device(device, f"http://localhost:{port}/")
        assert connreq.send(device).cause == "address_not_allowed"
        assert not connected()


@pytest.mark.parametrize("fan_out", [None, "one", "many"])
def test_every_resolved_address_must_pass(device, fake_dns, fan_out):
    answers, _lookups = fake_dns
    answers["cpe.test"] = [["198.51.100.7", "169.254.169.254"]]
    point_device(device, "http://cpe.test:7547/")
    outcome = _send(device, fan_out)
    assert outcome.cause == "address_not_allowed"


@pytest.mark.parametrize("fan_out", [None, "one", "many"])
def test_the_checked_address_is_the_one_connected_to(device, fake_dns, fan_out):
    """DNS rebinding: the name answers 127.0.0.1 at the check and the metadata address at
    any later lookup; the request still goes to the checked address, under the name."""
    answers, lookups = fake_dns
    answers["cpe.test"] = [["127.0.0.1"], ["169.254.169.254"]]
    with recording_listener(200) as listener:
        point_device(device, f"http://cpe.test:{listener.port}/cr")
        outcome = _send(device, fan_out)
        received = listener.received
    assert outcome.ok
    assert [(path, headers["host"]) for path, headers in received] == [
        ("/cr", f"cpe.test:{listener.port}")
    ]
    # In a fan-out of two, the twin's own lookup got the metadata address: refused, unsent.
    assert lookups == ["cpe.test"] * (2 if fan_out == "many" else 1)


def test_unresolvable_host_name(device, fake_dns):
    answers, _lookups = fake_dns
    answers["gone.test"] = [[]]
    point_device(device, "http://gone.test/")
    assert connreq.send(device).cause == "host_not_found"


@pytest.mark.parametrize(
    "template",
    [
        "gopher://127.0.0.1:{port}/_INFO",
        "ftp://127.0.0.1:{port}/",
        "file:///etc/passwd",
        "http:///no-host",
        "http://[zz]:{port}/",
        "127.0.0.1:{port}",
    ],
)
def test_only_http_urls(device, template):
    with silent_socket() as (port, connected):
        point_device(device, template.format(port=port))
        assert connreq.send(device).cause == "bad_url"
        assert connreq.send_many([device])[0].cause == "bad_url"
        assert not connected()


def test_user_info_in_the_url_is_never_sent(device):
    with recording_listener(200) as listener:
        point_device(device, f"http://admin:hunter2@127.0.0.1:{listener.port}/cr", "", "")
        outcome = connreq.send(device)
        [(_path, headers)] = listener.received
    assert outcome.ok and "authorization" not in headers


# --- classified causes ------------------------------------------------------------------


@pytest.mark.parametrize("fan_out", [None, "one", "many"])
def test_refused_connection(device, fan_out):
    point_device(device, f"http://127.0.0.1:{closed_port()}/cr")
    outcome = _send(device, fan_out)
    assert outcome.cause == "connection_refused" and outcome.status_code is None


def test_silent_device_times_out(device):
    with silent_socket() as (port, _connected):
        point_device(device, f"http://127.0.0.1:{port}/cr")
        assert connreq.send(device).cause == "connection_timeouts"


@pytest.mark.parametrize(
    ("status", "cause"), [(404, "http_error"), (403, "authentication_failures")]
)
def test_error_status(device, status, cause):
    with recording_listener(status) as listener:
        point_device(device, f"http://127.0.0.1:{listener.port}/cr")
        outcome = connreq.send(device)
    assert outcome.cause == cause and outcome.status_code == status


# --- what the WHIP endpoint tells its caller --------------------------------------------


def whip(actor, device):
    return actor.client.get(f"/api/v1/inventory_device_whip/{device.pk}/?operation=reboot")


@pytest.mark.usefixtures("no_loopback")
def test_whip_names_the_policy_refusal_not_the_address(operator_a, device_a):
    with silent_socket() as (port, connected):
        point_device(device_a, f"http://127.0.0.1:{port}/")
        response = whip(operator_a, device_a)
        assert not connected()
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "address_not_allowed" in detail and "nothing was queued" in detail
    assert "127.0.0.1" not in detail and str(port) not in detail
    assert Operation.objects.get().state == OperationState.CANCELLED


def test_whip_names_a_refused_connection_without_the_socket_error(operator_a, device_a):
    point_device(device_a, f"http://127.0.0.1:{closed_port()}/cr")
    response = whip(operator_a, device_a)
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "connection_refused" in detail
    assert "Errno" not in detail and "ConnectError" not in detail


def test_whip_never_echoes_what_the_target_answered(operator_a, device_a):
    banner = b"redis_version:7.2.4 role:master"
    with recording_listener(500, [("Server", "redis-ish")], banner) as listener:
        point_device(device_a, f"http://127.0.0.1:{listener.port}/cr")
        response = whip(operator_a, device_a)
    assert response.status_code == 503
    body = response.content.decode()
    assert "http_error" in response.json()["detail"]
    assert "redis" not in body and "500" not in body


# --- retries ----------------------------------------------------------------------------


def _retries_scheduled(device, url: str) -> int:
    """Run the connection request task for a device with work waiting; retries it queued."""
    from huey.contrib.djhuey import HUEY

    from linesman.cwmp import tasks
    from linesman.cwmp.models import DeviceTask

    DeviceTask.objects.get_or_create(device=device, method="Reboot")  # work waits
    point_device(device, url)
    before = HUEY.scheduled_count()
    assert tasks.connection_request(device.pk)() is False
    return HUEY.scheduled_count() - before


@pytest.mark.usefixtures("no_loopback")
def test_a_refused_target_is_not_retried(device):
    assert _retries_scheduled(device, "http://169.254.169.254/") == 0
    assert _retries_scheduled(device, "gopher://198.51.100.7/") == 0


def test_an_unreachable_device_is_retried(device):
    assert _retries_scheduled(device, f"http://127.0.0.1:{closed_port()}/cr") == 1


@pytest.mark.parametrize(
    ("url", "target", "host_header"),
    [
        # Default ports are not named; others are, in the URL and in the Host header.
        ("http://10.1.2.3/cr", "http://10.1.2.3/cr", "10.1.2.3"),
        ("http://10.1.2.3:80/cr", "http://10.1.2.3/cr", "10.1.2.3"),
        ("https://10.1.2.3:443", "https://10.1.2.3/", "10.1.2.3"),
        ("HTTP://10.1.2.3:7547/cr?a=1", "http://10.1.2.3:7547/cr?a=1", "10.1.2.3:7547"),
        ("http://[2001:db8::1]:7547/", "http://[2001:db8::1]:7547/", "[2001:db8::1]:7547"),
        # User info never goes anywhere.
        ("http://admin:hunter2@10.1.2.3:81/cr", "http://10.1.2.3:81/cr", "10.1.2.3:81"),
        # What would break the request line is percent-encoded; escapes stay as they were.
        (
            "http://10.1.2.3/a b/\u00fc?x=\u00e9 1",
            "http://10.1.2.3/a%20b/%C3%BC?x=%C3%A9%201",
            "10.1.2.3",
        ),
        ("http://10.1.2.3/a%20b", "http://10.1.2.3/a%20b", "10.1.2.3"),
    ],
)
def test_a_checked_url_is_sent_as_written_less_what_is_unsafe(url, target, host_header):
    checked = netpolicy.check(url)
    assert (checked.url, checked.host_header) == (target, host_header)


def test_a_unicode_host_name_is_sent_in_idna_form(fake_dns):
    answers, lookups = fake_dns
    answers["xn--bcher-kva.test"] = [["10.1.2.3"]]
    checked = netpolicy.check("https://b\u00fccher.test:8443/cr")
    assert lookups == ["xn--bcher-kva.test"]
    assert (checked.url, checked.host_header, checked.sni_hostname) == (
        "https://10.1.2.3:8443/cr",
        "xn--bcher-kva.test:8443",
        "xn--bcher-kva.test",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3:99999/",  # port out of range
        "http://10.1.2.3:\u0668\u0660/",  # Unicode digits are not a port
        "http://10.1.2.3:+80/",
        "http://10.1.2.3:0/",
        "http://cpe host/",  # a space in the host would go into the Host header
        "http://cpe\x00host/",
        "http://[zz]/",
    ],
)
def test_urls_that_cannot_be_requested_are_bad_urls(url):
    with pytest.raises(netpolicy.NotAllowed) as refused:
        netpolicy.check(url)
    assert refused.value.cause == "bad_url"
