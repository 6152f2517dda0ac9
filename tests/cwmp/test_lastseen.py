"""Batched last-seen stamps and the plain-SQL statements of the ACS hot path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.core import hotsql
from linesman.cwmp import lastseen
from linesman.inventory.models import Device, DeviceStatus
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def devices(org_a, device_type):
    seen = timezone.now() - timedelta(minutes=5)
    return [
        make_device(org_a, device_type, f"LS{i:04d}", status=DeviceStatus.UP, last_connection=seen)
        for i in range(3)
    ]


def test_write_stamps_many_devices_in_one_go(devices):
    now = timezone.now()
    changed = lastseen.write({d.pk: now + timedelta(seconds=i) for i, d in enumerate(devices)})
    assert changed == 3
    for i, device in enumerate(devices):
        device.refresh_from_db()
        assert device.last_connection == now + timedelta(seconds=i)
        assert device.status == DeviceStatus.UP


def test_an_older_stamp_never_overwrites_a_newer_one(devices):
    newer = timezone.now()
    Device.objects.filter(pk=devices[0].pk).update(last_connection=newer)
    assert lastseen.write({devices[0].pk: newer - timedelta(seconds=1)}) == 0
    devices[0].refresh_from_db()
    assert devices[0].last_connection == newer


def test_a_device_marked_down_meanwhile_comes_back_up(devices):
    """The status sweep ran between the Inform and the flush: the stamp proves the device
    is alive, so it is Up again, with the flip recorded like any other."""
    Device.objects.filter(pk=devices[1].pk).update(status=DeviceStatus.DOWN)
    now = timezone.now()
    lastseen.write({devices[1].pk: now})
    devices[1].refresh_from_db()
    assert devices[1].status == DeviceStatus.UP
    assert devices[1].status_change == now
    assert AuditEntry.objects.filter(device_id=devices[1].pk).exists()


def test_buffer_keeps_the_latest_stamp_per_device_and_flushes_once(devices):
    buffer = lastseen.Buffer(interval=3600)  # the thread never wakes during the test
    now = timezone.now()
    buffer.add(devices[0].pk, now - timedelta(seconds=2))
    buffer.add(devices[0].pk, now)
    buffer.add(devices[2].pk, now)
    assert buffer.pending() == 2
    assert buffer.flush() == 2
    assert buffer.pending() == 0 and buffer.flush() == 0
    devices[0].refresh_from_db()
    assert devices[0].last_connection == now


def test_hotsql_update_fields_adapts_values_like_the_orm(devices):
    now = timezone.now()
    assert hotsql.update_fields(Device, devices[0].pk, {"last_connection": now, "oui": "A1"}) == 1
    devices[0].refresh_from_db()
    assert (devices[0].last_connection, devices[0].oui) == (now, "A1")
    assert hotsql.update_fields(Device, 10**9, {"oui": "B2"}) == 0
    assert hotsql.update_fields(Device, devices[0].pk, {}) == 0
