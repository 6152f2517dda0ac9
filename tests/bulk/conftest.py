"""Fixtures of the bulk job tests: the seed's organizations (101-103) and device types, an
operator of all three, a small mixed fleet, twelve Up routers, and a connection-request
listener."""

from __future__ import annotations

import pytest
from django.utils import timezone

from linesman.inventory.models import DeviceStatus, DeviceType
from linesman.tenancy import services as tenancy
from linesman.tenancy.models import Organization, Role
from tests.conftest import make_actor, make_device
from tests.cwmp.cr_listeners import recording_listener

URL = "/api/v1/inventory_device_serial_headless_operation/"
ID_URL = "/api/v1/inventory_device_headless_operation/"
NAME_URL = "/api/v1/inventory_device_name_headless_operation/"


@pytest.fixture
def seed_orgs(db):
    """Organizations with the seed's ids 101, 102 and 103."""
    return [Organization.objects.create(pk=pk, name=f"Org {pk}") for pk in (101, 102, 103)]


@pytest.fixture
def types(db):
    return {
        name: DeviceType.objects.create(short_name=name, name=name.replace("_", " ").title())
        for name in ("router", "switch", "access_point")
    }


@pytest.fixture
def noc(seed_orgs):
    """An operator in all three seed organizations."""
    actor = make_actor("noc", seed_orgs[0], Role.OPERATOR)
    for org in seed_orgs[1:]:
        tenancy.set_membership(actor.user, org, Role.OPERATOR)
    return actor


@pytest.fixture
def seed_fleet(seed_orgs, types):
    """Ten devices: routers and switches Up/Down across the orgs, an access point, and one
    Down router with a pending setting (matched by the seed's "pending" status)."""
    now = timezone.now()
    up = {"status": DeviceStatus.UP, "last_connection": now, "is_active": True}
    org101, org102, org103 = seed_orgs
    devices = [
        make_device(org101, types["router"], "RT101A", **up),
        make_device(org101, types["router"], "RT101B", **up),
        make_device(org101, types["switch"], "SW101A", **up),
        make_device(org101, types["router"], "RT101DOWN"),
        make_device(org102, types["router"], "RT102A", **up),
        make_device(org102, types["switch"], "SW102A", **up),
        make_device(org102, types["access_point"], "AP102A", **up),
        make_device(org103, types["switch"], "SW103A", **up),
        make_device(org103, types["switch"], "SW103DOWN"),
        make_device(org103, types["router"], "RT103PEND"),
    ]
    from linesman.inventory.models import Setting

    Setting.objects.create(
        device=devices[-1], variable_name="Device.WiFi.SSID.1.SSID", value="x", pending=True
    )
    return {d.serial_number: d for d in devices}


@pytest.fixture
def fleet(seed_orgs, types):
    """Twelve Up routers: eight in org 101, four in org 102."""
    now = timezone.now()
    return [
        make_device(
            seed_orgs[0] if i < 8 else seed_orgs[1],
            types["router"],
            f"R{i:03d}",
            status=DeviceStatus.UP,
            last_connection=now,
            is_active=True,
        )
        for i in range(12)
    ]


@pytest.fixture
def cr_server():
    """A connection-request listener's base URL: /auth... answers 401, anything else 200."""
    with recording_listener(
        on_request=lambda path: 401 if path.startswith("/auth") else None
    ) as listener:
        yield f"http://127.0.0.1:{listener.port}"
