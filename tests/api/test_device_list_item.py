"""The device list's and detail's lean renderers answer exactly what the DRF serializer would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.inventory.api.serializers import DeviceSerializer, detail_item, list_item
from linesman.inventory.models import Device, DeviceStatus
from linesman.operations import services as operations
from linesman.operations.pending import pending_settings_for
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied_devices(org_a, device_type, location_a, admin_a):
    now = timezone.now()
    bare = make_device(org_a, device_type, "LI-BARE")  # nulls and blanks everywhere
    full = make_device(
        org_a,
        device_type,
        "LI-FULL",
        name="Full",
        customer_id="C-1",
        description="a description",
        status=DeviceStatus.UP,
        software_version="2.0.1",
        hardware_version="hw9",
        manufacturer="Acme",
        address="192.0.2.7",
        latitude="40.7128",
        longitude="-74.0060",
        last_connection=now - timedelta(seconds=5, microseconds=123),
        last_configuration=now - timedelta(days=2),
        location=location_a,
        firmware_image_is_pending=True,
        is_active=True,
    )
    named_here = make_device(
        org_a, device_type, "LI-LOCNAME", location=location_a, location_name="Rack 4"
    )
    operations.start_operation(device=bare, kind="reboot", user=admin_a.user)
    return [bare, full, named_here]


@pytest.mark.parametrize("detailed", [False, True])
def test_list_item_equals_the_serializer(varied_devices, detailed):
    page = list(
        Device.objects.select_related("type", "location")
        .filter(pk__in=[d.pk for d in varied_devices])
        .order_by("id")
    )
    pending = pending_settings_for(page, detailed=detailed)
    expected = DeviceSerializer(
        page, many=True, context={"pending_settings": pending}, list_item=True
    ).data
    assert [list_item(d, pending) for d in page] == [dict(row) for row in expected]
    full = DeviceSerializer(page, many=True, context={"pending_settings": pending}).data
    assert [detail_item(d, pending) for d in page] == [dict(row) for row in full]
    assert [list(detail_item(d, pending)) for d in page] == [list(row) for row in full]
    assert pending[varied_devices[0].pk]  # the reboot shows, so the field was exercised


def test_api_list_rows_are_the_serializer_rows(varied_devices, admin_a):
    response = admin_a.client.get("/api/v1/inventory_device/", {"pending": "true"})
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    for device in varied_devices:
        device = Device.objects.select_related("type", "location").get(pk=device.pk)
        pending = pending_settings_for([device], detailed=True)
        expected = DeviceSerializer(
            device, context={"pending_settings": pending}, list_item=True
        ).data
        assert rows[device.pk] == dict(expected)
        detail = admin_a.client.get(f"/api/v1/inventory_device/{device.pk}/?pending=true")
        full = DeviceSerializer(device, context={"pending_settings": pending}).data
        assert detail.json() == dict(full)
