"""The smallest end of the inventory API: a token lists and creates devices."""

from __future__ import annotations


def test_admin_creates_and_lists_devices(admin_a, org_a, device_type):
    created = admin_a.client.post(
        "/api/v1/inventory_device/",
        {
            "name": "r1",
            "serial_number": "S1",
            "type": device_type.pk,
            "organization_id": org_a.pk,
            "password": "secret",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert "password" not in created.json()
    listed = admin_a.client.get("/api/v1/inventory_device/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["serial_number"] == "S1"


def test_anonymous_gets_401(anonymous):
    response = anonymous.client.get("/api/v1/inventory_device/")
    assert response.status_code == 401
    assert "detail" in response.json()
