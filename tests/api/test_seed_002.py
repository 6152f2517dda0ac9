"""Seed 002 acceptance: every curl example of the Inventory Device page, as sent.

Ids of the seed are replaced by fixtures' ids: type 12 -> `device_type`, type 15 ->
`second_type`, organization 5 -> `org_a`, device 1001 -> `device_a`, firmware image 47 ->
`firmware_image`.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from linesman.core import crypto
from linesman.inventory.models import Device, DeviceStatus
from linesman.operations.models import Operation
from tests.conftest import make_device

ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")
JSON = "application/json"

#: The list example's item: field -> accepted JSON types (the seed's, plus null where the
#: value may legitimately be missing).
LIST_ITEM_TYPES = {
    "id": (int,),
    "uuid": (str,),
    "name": (str,),
    "customer_id": (str,),
    "is_active": (bool,),
    "status": (str,),
    "status_change": (str,),
    "type": (int,),
    "type_short_name": (str,),
    "software_version": (str,),
    "hardware_version": (str,),
    "manufacturer": (str,),
    "serial_number": (str,),
    "description": (str,),
    "organization_id": (int,),
    "location_name": (str,),
    "location": (int,),
    "location_short_name": (str,),
    "latitude": (str,),
    "longitude": (str,),
    "address": (str,),
    "last_connection": (str,),
    "last_configuration": (str,),
    "created": (str,),
    "pending_settings": (str, type(None)),
}
DATETIME_FIELDS = ("status_change", "last_connection", "last_configuration", "created")

DETAIL_FIELDS = {
    "id",
    "uuid",
    "name",
    "customer_id",
    "is_active",
    "status",
    "status_change",
    "type",
    "type_short_name",
    "software_version",
    "hardware_version",
    "manufacturer",
    "unique_identifier",
    "product_class",
    "serial_number",
    "serial_number_alt",
    "description",
    "organization_id",
    "firmware_image",
    "firmware_image_is_pending",
    # Not in the seed: the last firmware upgrade (state, URL, fault), issue 11.
    "firmware_upgrade",
    "location_name",
    "location",
    "location_short_name",
    "latitude",
    "longitude",
    "username",
    "update_frequency",
    "address",
    "last_connection",
    "last_configuration",
    "last_change",
    "created",
    "debug",
    "pending_settings",
}

CREATE_RESPONSE_FIELDS = {
    "id",
    "uuid",
    "name",
    "customer_id",
    "is_active",
    "status",
    "status_change",
    "type",
    "type_short_name",
    "software_version",
    "hardware_version",
    "manufacturer",
    "serial_number",
    "serial_number_alt",
    "description",
    "organization_id",
    "location_name",
    "latitude",
    "longitude",
    "username",
    "update_frequency",
    "created",
    "pending_settings",
}


def _is_iso(value) -> bool:
    return isinstance(value, str) and ISO_DATETIME.match(value) is not None


def _url(device) -> str:
    return f"/api/v1/inventory_device/{device.pk}/"


def _up(device: Device, **fields) -> Device:
    """Make a device look like a live one (informing now, every field of the example set)."""
    now = timezone.now()
    values = {
        "is_active": True,
        "status": DeviceStatus.UP,
        "status_change": now,
        "last_connection": now,
        "last_configuration": now,
        "software_version": "2.4.1",
        "hardware_version": "v1.2",
        "manufacturer": "Zequenze Systems",
        "unique_identifier": "ZEQ:ENT:RTR:240100001",
        "product_class": "EnterpriseRouter",
        "customer_id": "CUST-2024-001",
        "description": "Main branch office router",
        "latitude": "40.7128",
        "longitude": "-74.0060",
        "address": "192.168.1.1",
        "username": "device_admin",
        "password_encrypted": crypto.encrypt("old_secret"),
        **fields,
    }
    for key, value in values.items():
        setattr(device, key, value)
    device.save()
    return device


@pytest.fixture
def live_device(device_a, location_a):
    return _up(device_a, location=location_a, location_name="New York Branch Office")


# --- GET /inventory_device/?status=1&organization=5&limit=25&update_status=true ----------


def test_list_with_the_seed_query(admin_a, org_a, org_b, device_type, location_a):
    for n in range(30):
        _up(
            make_device(org_a, device_type, f"ZEQ2401{n:05d}"),
            location=location_a,
            location_name="New York Branch Office",
        )
    for n in range(3):  # Down devices of the organization: filtered out by status=1
        make_device(org_a, device_type, f"DOWN{n}")
    for n in range(2):  # Up devices of another organization: filtered out by organization
        _up(make_device(org_b, device_type, f"OTHER{n}"))

    response = admin_a.client.get(
        f"/api/v1/inventory_device/?status=1&organization={org_a.pk}&limit=25&update_status=true",
        HTTP_CONTENT_TYPE=JSON,
    )

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 30
    assert body["previous"] is None
    assert isinstance(body["results"], list) and len(body["results"]) == 25
    next_query = parse_qs(urlsplit(body["next"]).query)
    assert urlsplit(body["next"]).path == "/api/v1/inventory_device/"
    assert next_query == {
        "status": ["1"],
        "organization": [str(org_a.pk)],
        "limit": ["25"],
        "offset": ["25"],
        "update_status": ["true"],
    }
    up_ids = set(
        Device.objects.filter(organization=org_a, status=DeviceStatus.UP).values_list(
            "pk", flat=True
        )
    )
    for item in body["results"]:
        assert set(item) == set(LIST_ITEM_TYPES), set(item) ^ set(LIST_ITEM_TYPES)
        for field, types in LIST_ITEM_TYPES.items():
            assert type(item[field]) in types, (field, item[field])
        for field in DATETIME_FIELDS:
            assert _is_iso(item[field]), (field, item[field])
        uuid.UUID(item["uuid"])
        assert item["status"] == "Up"
        assert item["id"] in up_ids
        assert item["organization_id"] == org_a.pk
        assert item["type"] == device_type.pk
        assert item["type_short_name"] == "enterprise_router"
        assert item["location"] == location_a.pk
        assert item["location_short_name"] == "ny_branch"
        assert item["latitude"] == "40.7128" and item["longitude"] == "-74.0060"
        assert item["pending_settings"] is None

    second = admin_a.client.get(body["next"])
    assert second.status_code == 200
    page2 = second.json()
    assert len(page2["results"]) == 5 and page2["next"] is None
    assert {i["id"] for i in body["results"]} | {i["id"] for i in page2["results"]} == up_ids


def test_list_status_values_are_up_or_down(admin_a, org_a, device_type):
    _up(make_device(org_a, device_type, "UP1"))
    make_device(org_a, device_type, "DOWN1")
    body = admin_a.client.get("/api/v1/inventory_device/").json()
    assert sorted(item["status"] for item in body["results"]) == ["Down", "Up"]
    down = next(item for item in body["results"] if item["status"] == "Down")
    assert down["last_connection"] is None and down["pending_settings"] is None


# --- POST /inventory_device/ ---------------------------------------------------------------


def _seed_post_body(device_type, org) -> dict:
    return {
        "name": "Router-Branch-Office-002",
        "customer_id": "CUST-2024-002",
        "serial_number": "ZEQ240100002",
        "serial_number_alt": "ALT-ZEQ240100002",
        "type": device_type.pk,
        "organization_id": org.pk,
        "location_name": "Boston Branch Office",
        "latitude": "42.3601",
        "longitude": "-71.0589",
        "description": "Secondary branch office router",
        "username": "device_admin",
        "password": "secure_password_123",
        "update_frequency": 300,
    }


def test_create_with_the_seed_body(admin_a, org_a, device_type):
    before = timezone.now().replace(microsecond=0)
    response = admin_a.client.post(
        "/api/v1/inventory_device/", _seed_post_body(device_type, org_a), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= CREATE_RESPONSE_FIELDS, CREATE_RESPONSE_FIELDS - set(body)
    assert "password" not in body
    assert "secure_password_123" not in response.content.decode()
    assert isinstance(body["id"], int)
    uuid.UUID(body["uuid"])
    assert _is_iso(body["created"]) and _is_iso(body["status_change"])
    # A new device's status starts now: Down, changed at its creation.
    stamp = datetime.fromisoformat(body["status_change"].replace("Z", "+00:00"))
    assert before <= stamp <= timezone.now()
    fixed = CREATE_RESPONSE_FIELDS - {"id", "uuid", "created", "status_change"}
    assert {k: body[k] for k in fixed} == {
        "name": "Router-Branch-Office-002",
        "customer_id": "CUST-2024-002",
        "is_active": False,
        "status": "Down",
        "type": device_type.pk,
        "type_short_name": "enterprise_router",
        "software_version": None,
        "hardware_version": None,
        "manufacturer": None,
        "serial_number": "ZEQ240100002",
        "serial_number_alt": "ALT-ZEQ240100002",
        "description": "Secondary branch office router",
        "organization_id": org_a.pk,
        "location_name": "Boston Branch Office",
        "latitude": "42.3601",
        "longitude": "-71.0589",
        "username": "device_admin",
        "update_frequency": 300,
        "pending_settings": None,
    }

    device = Device.objects.get(pk=body["id"])
    assert device.serial_number == "ZEQ240100002"
    assert device.organization_id == org_a.pk
    assert device.password_encrypted not in ("", "secure_password_123")
    assert "secure_password_123" not in device.password_encrypted
    assert device.password == "secure_password_123"


def test_create_with_the_short_curl_body(admin_a, org_a, device_type):
    """The curl example sends fewer fields than the example body (no alt serial, no GPS)."""
    body = _seed_post_body(device_type, org_a)
    for key in ("serial_number_alt", "latitude", "longitude"):
        body.pop(key)
    response = admin_a.client.post("/api/v1/inventory_device/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["serial_number_alt"] == ""
    assert response.json()["latitude"] is None and response.json()["longitude"] is None


# --- GET /inventory_device/1001/?pending=true&update_status=true --------------------------


def test_detail_with_pending_and_update_status(admin_a, live_device, firmware_image):
    live_device.firmware_image = firmware_image
    live_device.firmware_image_is_pending = True
    live_device.save()
    assert (
        admin_a.client.patch(_url(live_device), {"reboot": True}, format="json").status_code == 200
    )

    response = admin_a.client.get(
        f"{_url(live_device)}?pending=true&update_status=true", HTTP_CONTENT_TYPE=JSON
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS, set(body) ^ DETAIL_FIELDS
    assert body["id"] == live_device.pk
    assert body["uuid"] == str(live_device.uuid)
    assert body["status"] == "Up" and body["is_active"] is True
    assert body["type"] == live_device.type_id and body["type_short_name"] == "enterprise_router"
    assert body["organization_id"] == live_device.organization_id
    assert body["firmware_image"] == firmware_image.pk
    assert body["firmware_image_is_pending"] is True
    assert body["location"] == live_device.location_id
    assert body["location_name"] == "New York Branch Office"
    assert body["location_short_name"] == "ny_branch"
    assert body["unique_identifier"] == "ZEQ:ENT:RTR:240100001"
    assert body["product_class"] == "EnterpriseRouter"
    assert body["latitude"] == "40.7128" and body["longitude"] == "-74.0060"
    assert body["username"] == "device_admin" and body["update_frequency"] == 300
    assert body["address"] == "192.168.1.1"
    assert body["debug"] is False
    for field in ("status_change", "last_connection", "last_configuration", "created"):
        assert _is_iso(body[field]), (field, body[field])
    match = re.fullmatch(r"firmware_update:pending,reboot_scheduled:(.+)", body["pending_settings"])
    assert match, body["pending_settings"]
    assert _is_iso(match.group(1))
    when = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    assert abs((timezone.now() - when).total_seconds()) < 60


# --- PUT /inventory_device/1001/ ---------------------------------------------------------------


def test_put_with_the_seed_body(admin_a, org_a, live_device, second_type):
    body = {
        "name": "Router-Branch-Office-001-Updated",
        "customer_id": "CUST-2024-001",
        "serial_number": "ZEQ240100001",
        "type": second_type.pk,
        "organization_id": org_a.pk,
        "location_name": "New York Main Office",
        "description": "Updated main office router with new configuration",
        "latitude": "40.7589",
        "longitude": "-73.9851",
        "update_frequency": 180,
    }

    response = admin_a.client.put(_url(live_device), body, format="json")

    assert response.status_code == 200, response.json()
    got = response.json()
    assert set(got) == DETAIL_FIELDS
    assert "password" not in got
    for key, value in body.items():
        assert got[key] == value, key
    assert got["type_short_name"] == "enterprise_router_v2"
    assert _is_iso(got["last_change"])
    device = Device.objects.get(pk=live_device.pk)
    assert device.name == "Router-Branch-Office-001-Updated"
    assert device.type_id == second_type.pk
    assert device.location_name == "New York Main Office"
    assert (device.latitude, device.longitude) == ("40.7589", "-73.9851")
    assert device.update_frequency == 180
    assert device.description == "Updated main office router with new configuration"
    assert device.password == "old_secret"  # PUT without a password keeps it


# --- PATCH /inventory_device/1001/ ---------------------------------------------------------


def test_patch_reboot_and_debug(admin_a, live_device):
    response = admin_a.client.patch(
        _url(live_device), {"reboot": True, "debug": True}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["debug"] is True
    assert "reboot" not in body
    assert body["pending_settings"] == "reboot_scheduled"
    assert Device.objects.get(pk=live_device.pk).debug is True
    ops = list(Operation.objects.filter(device=live_device))
    assert [(op.kind, op.state) for op in ops] == [("reboot", "initiated")]
    assert ops[0].params["steps"] == ["reboot"]
    assert ops[0].initiated_by == admin_a.user


def test_patch_firmware_update(admin_a, live_device, firmware_image):
    response = admin_a.client.patch(
        _url(live_device),
        {"firmware_image": firmware_image.pk, "firmware_image_is_pending": True},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["firmware_image"] == firmware_image.pk
    assert body["firmware_image_is_pending"] is True
    assert "firmware_update" in body["pending_settings"].split(",")
    device = Device.objects.get(pk=live_device.pk)
    assert device.firmware_image_id == firmware_image.pk
    assert device.firmware_image_is_pending is True
    op = Operation.objects.get(device=live_device)
    assert (op.kind, op.state) == ("firmware", "initiated")
    assert op.params["firmware_image"] == firmware_image.pk


def test_patch_sync_and_reconf(admin_a, live_device):
    response = admin_a.client.patch(
        _url(live_device), {"sync": True, "reconf": True}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["pending_settings"] == "sync_scheduled,reconf_scheduled"
    ops = list(Operation.objects.filter(device=live_device))
    assert len(ops) == 1
    assert ops[0].params["steps"] == ["sync", "reconf"]
    assert ops[0].state == "initiated"


# --- DELETE /inventory_device/1001/ -----------------------------------------------------------


def test_delete(admin_a, live_device):
    response = admin_a.client.delete(_url(live_device))

    assert response.status_code == 204
    assert response.content == b""
    assert not Device.objects.filter(pk=live_device.pk).exists()
    assert admin_a.client.get(_url(live_device)).status_code == 404


def test_delete_while_an_operation_is_active_is_409(admin_a, live_device):
    assert (
        admin_a.client.patch(_url(live_device), {"reboot": True}, format="json").status_code == 200
    )

    response = admin_a.client.delete(_url(live_device))

    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert Device.objects.filter(pk=live_device.pk).exists()
