"""A fixed database for the API contract tests: two organizations with a few objects each,
the callers' tokens, and how to send requests through the WSGI app inside a test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core import signals
from django.db import close_old_connections
from rest_framework.test import APIClient

from linesman.cwmp.models import DeviceParameters
from linesman.inventory.models import (
    Device,
    DeviceStatus,
    DeviceType,
    FirmwareImage,
    Location,
    Parameter,
    Setting,
)
from linesman.tenancy import services as tenancy
from linesman.tenancy.models import Organization, Role


@pytest.fixture
def loopback_only(monkeypatch):
    """Fail any outgoing connection to an address that is not loopback."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network traffic to {address!r} during the fuzz test")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def build_fleet() -> dict[str, str]:
    """Two organizations with a few objects each (small fixed ids); the callers' tokens and
    the id of a bulk job of organization 1."""
    orgs = [Organization.objects.create(pk=pk, name=f"Org {pk}") for pk in (1, 2)]
    shared = DeviceType.objects.create(pk=1, short_name="router", name="Router")
    own = DeviceType.objects.create(pk=2, short_name="cpe_b", name="CPE of B", organization=orgs[1])
    locations = [
        Location.objects.create(pk=pk, organization=org, name=f"Site {pk}", short_name=f"s{pk}")
        for pk, org in ((1, orgs[0]), (2, orgs[1]))
    ]
    devices = []
    for pk, org, kind, location in (
        (1, orgs[0], shared, locations[0]),
        (2, orgs[0], shared, None),
        (3, orgs[1], own, locations[1]),
        (4, orgs[1], shared, None),
    ):
        device = Device.objects.create(
            pk=pk,
            organization=org,
            type=kind,
            location=location,
            name=f"dev-{pk}",
            serial_number=f"SN{pk}",
            status=DeviceStatus.UP if pk % 2 else DeviceStatus.DOWN,
        )
        Setting.objects.create(device=device, variable_name="Device.WiFi.SSID.1.SSID", value="x")
        devices.append(device)
    for device in devices[::2]:
        DeviceParameters.objects.create(
            device=device,
            values={
                "Device.DeviceInfo.SoftwareVersion": ["1.0", "xsd:string", False],
                "Device.WiFi.SSID.1.SSID": ["home", "xsd:string", True],
            },
        )
    FirmwareImage.objects.create(
        pk=1,
        device_type=shared,
        version="2.0",
        file="firmware/r-2.0.bin",
        size=4,
        checksum="0" * 64,
    )
    Parameter.objects.create(
        pk=1, name="SSID", variable_name="Device.WiFi.SSID.1.SSID", short_name="ssid", group="wifi"
    )
    from django.utils import timezone

    from linesman.connprofiles.models import ConnectionProfile
    from linesman.devicelog.models import DeviceLogEntry

    ConnectionProfile.objects.create(pk=1, name="residential")
    from linesman.webhooks.models import Delivery, Endpoint

    endpoint = Endpoint.objects.create(
        pk=1,
        organization=orgs[0],
        name="ticketing",
        url="https://hooks.example.net/linesman",
        event_types=["device.down"],
    )
    Delivery.objects.create(
        pk=1, endpoint=endpoint, event_type="device.down", payload={"event": "device.down"}
    )
    from linesman.metrics.models import Metric, MetricLog, Origin

    metric = Metric.objects.create(
        pk=1,
        name="rx",
        parameter_path="Device.IP.Interface.1.Stats.BytesReceived",
        kind="counter",
    )
    for pk, value in ((1, None), (2, 12.5)):
        MetricLog.objects.create(
            pk=pk,
            time=timezone.now(),
            device=devices[0],
            metric=metric,
            raw=100.0 * pk,
            value=value,
            origin=Origin.INFORM,
        )
    DeviceLogEntry.objects.create(
        pk=1, device=devices[0], time=timezone.now(), action="inform", status="ok"
    )
    _reset_sequences()
    root = tenancy.create_user("root", superuser=True)
    viewer_b = tenancy.create_user("viewer_b", organization=orgs[1], role=Role.VIEWER)
    fleet = {
        "superuser": tenancy.create_token(root).clear,
        "viewer_b": tenancy.create_token(viewer_b).clear,
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {fleet['superuser']}")
    started = client.put("/api/v1/inventory_device_operation/1/", {"operation": "reboot"})
    assert started.status_code == 200, started.content
    for device_id in (1, 3):
        job = client.post(
            "/api/v1/inventory_device_headless_operation/",
            {"operation": "sync", "device_ids": [device_id]},
            format="json",
        )
        assert job.status_code == 201, job.content
        fleet.setdefault("job", job.json()["id"])
    return fleet


@contextmanager
def wsgi_keeps_test_connection() -> Iterator[None]:
    """Requests through the WSGI app keep the test's database connection open (as Django's
    test client does): the test's transaction holds the fleet. Enter it after the last use
    of a test client, which reconnects the signals when its request ends."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _reset_sequences() -> None:
    """Rows above were given fixed ids; on PostgreSQL the id sequences must move past them,
    or the next row the API creates takes id 1 again (a 409 that depends on test order)."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label.startswith(
            (
                "inventory",
                "tenancy",
                "operations",
                "cwmp",
                "metrics",
                "devicelog",
                "connprofiles",
                "webhooks",
            )
        )
    ]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
