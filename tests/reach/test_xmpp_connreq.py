"""XMPP connection requests (TR-069 Annex K) through a real Prosody, to simulated devices.

The device side is the simulator's XMPP client: it answers the connectionRequest IQ only
from allowed JIDs with the right credentials, and a request it accepts makes it connect
(counted in its counters; its ACS URL leads nowhere here).
"""

from __future__ import annotations

import dataclasses

import pytest

from linesman.cwmp import connreq
from linesman.inventory.models import DeviceType
from linesman.reach import methods
from linesman.simulator.fleet import Fleet, SimulatorThread
from tests.conftest import make_device
from tests.cwmp.cr_listeners import point_device
from tests.reach.prosody import ACS, CPES, ONE_WORKER, ensure_prosody

pytestmark = [pytest.mark.django_db, ONE_WORKER]


@pytest.fixture(scope="module")
def xmpp_server():
    return ensure_prosody()


@pytest.fixture
def acs_account(settings, xmpp_server):
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, xmpp_jid=ACS[0], xmpp_password=ACS[1], xmpp_server=xmpp_server
    )


@pytest.fixture
def sim(xmpp_server):
    fleet = Fleet(
        "http://127.0.0.1:9/cwmp/",  # nothing listens: the device only counts the kick
        1,
        serial_prefix="XMPP",
        nat="xmpp",
        xmpp_accounts=CPES[:1],
        xmpp_server=xmpp_server,
        retry_min_wait=30,
    )
    thread = SimulatorThread(fleet)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def pair(org_a, sim):
    """(inventory device, simulated device): the ACS knows the device's JID and credentials,
    and the device allows the ACS's JID."""
    sim_device = sim.fleet.devices[0]
    username, password = sim.run(sim_device.connreq_credentials)
    dtype = DeviceType.objects.create(
        short_name="xmpp_gw", name="XMPP gateway", connection_request_methods="http,xmpp"
    )
    device = make_device(org_a, dtype, sim_device.serial)
    point_device(device, sim.run(lambda: sim_device.connreq_url), username, password)
    device.xmpp_jid = sim.run(lambda: sim_device.xmpp_jid)
    device.save()
    allow = sim_device.ms("ConnReqAllowedJabberIDs")
    sim.run(lambda: sim_device.model.set(allow, ACS[0]))
    return device, sim_device


def kicks(sim, sim_device) -> int:
    return sim.run(lambda: sim_device.counters.connection_requests)


def test_the_device_reports_its_full_jid(sim):
    jid = sim.run(lambda: sim.fleet.devices[0].xmpp_jid)
    assert jid.startswith(CPES[0][0] + "/")


def test_http_refused_then_xmpp_reaches_the_device(acs_account, pair, sim):
    device, sim_device = pair
    before = kicks(sim, sim_device)
    outcome = connreq.send(device)
    assert outcome.ok and outcome.method == "xmpp"
    assert kicks(sim, sim_device) == before + 1
    log = [(r.method, r.ok, r.url) for r in device.connection_requests.order_by("id")]
    assert log[0][:2] == ("http", False)
    assert log[1] == ("xmpp", True, device.xmpp_jid)


def test_wrong_credentials_are_refused_by_the_device(acs_account, pair, sim):
    device, sim_device = pair
    point_device(device, device.connection_request_url, device.connection_request_username, "no")
    attempt = methods.send_xmpp(device)
    assert (attempt.ok, attempt.cause) == (False, "authentication_failures")
    assert sim.run(lambda: sim.fleet.reach[sim_device.serial].refused) == ["not-authorized"]
    assert kicks(sim, sim_device) == 0


def test_a_jid_the_device_does_not_allow_is_refused(acs_account, pair, sim):
    device, sim_device = pair
    allow = sim_device.ms("ConnReqAllowedJabberIDs")
    sim.run(lambda: sim_device.model.set(allow, "someone-else@localhost"))
    attempt = methods.send_xmpp(device)
    assert not attempt.ok and attempt.cause == "connection_failures"
    assert sim.run(lambda: sim.fleet.reach[sim_device.serial].refused) == ["service-unavailable"]
    assert kicks(sim, sim_device) == 0


def test_a_device_not_connected_is_a_failure_not_a_hang(acs_account, pair):
    device, _sim_device = pair
    device.xmpp_jid = CPES[3][0] + "/gone"
    attempt = methods.send_xmpp(device)
    assert not attempt.ok and attempt.cause == "connection_failures"


def test_acs_account_refused_by_the_server(settings, xmpp_server, pair):
    device, _sim_device = pair
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, xmpp_jid=ACS[0], xmpp_password="wrong", xmpp_server=xmpp_server
    )
    attempt = methods.send_xmpp(device)
    assert (attempt.ok, attempt.cause) == (False, "xmpp_unavailable")


def test_without_an_acs_account_xmpp_is_not_configured(pair):
    device, _sim_device = pair
    attempt = methods.send_xmpp(device)
    assert (attempt.ok, attempt.cause) == (False, "xmpp_not_configured")
