"""The audit trail: API and admin changes are recorded, secrets masked, and shown only to
the organization's admins."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.contrib.admin.sites import site as admin_site
from django.test import Client, RequestFactory
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.audit.services import MASK
from linesman.inventory.models import Device, DeviceType, Location

pytestmark = pytest.mark.usefixtures("no_static_finders")

DEV = "/api/v1/inventory_device/"
AUDIT = "/api/v1/audit_log/"


def _entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def test_device_create_update_delete_are_audited(admin_a, org_a, device_type):
    before = timezone.now().replace(microsecond=0)
    created = admin_a.client.post(
        DEV,
        {
            "name": "r1",
            "serial_number": "S1",
            "type": device_type.pk,
            "organization_id": org_a.pk,
            "password": "pa55-in-clear",
            "description": "first",
        },
        format="json",
    )
    assert created.status_code == 201
    device_id = created.json()["id"]
    assert (
        admin_a.client.patch(
            f"{DEV}{device_id}/", {"description": "second"}, format="json"
        ).status_code
        == 200
    )
    assert admin_a.client.delete(f"{DEV}{device_id}/").status_code == 204

    entries = _entries(object_type="inventory.device")
    assert [e.action for e in entries] == ["create", "update", "delete"]
    for entry in entries:
        assert entry.user == admin_a.user
        assert entry.actor == "admin_a"
        assert entry.object_id == str(device_id)
        assert entry.device_id == device_id
        assert entry.organization_id == org_a.pk
        assert entry.object_repr == "r1 (S1)"
    create, update, delete = entries
    assert create.changes["serial_number"] == [None, "S1"]
    assert create.changes["password_encrypted"] == [None, MASK]
    assert set(update.changes) == {"description", "last_change"}
    assert update.changes["description"] == ["first", "second"]
    # A new device has no change recorded; the update stamps one, at the update's time.
    old, new = update.changes["last_change"]
    assert old is None
    stamp = datetime.fromisoformat(new.replace("Z", "+00:00"))
    assert before <= stamp <= timezone.now()
    assert delete.changes["name"] == ["r1", None]
    assert delete.changes["password_encrypted"] == [MASK, None]
    everything = json.dumps([e.changes for e in entries]) + "".join(e.message for e in entries)
    assert "pa55-in-clear" not in everything


def test_password_change_is_audited_masked(admin_a, device_a):
    url = f"{DEV}{device_a.pk}/"
    assert admin_a.client.patch(url, {"password": "one-secret"}, format="json").status_code == 200
    assert admin_a.client.patch(url, {"password": "two-secret"}, format="json").status_code == 200

    first, second = _entries(object_type="inventory.device", action="update")
    assert first.changes["password_encrypted"] == ["", MASK]
    assert second.changes["password_encrypted"] == [MASK, MASK]
    dumped = json.dumps([first.changes, second.changes])
    assert "one-secret" not in dumped and "two-secret" not in dumped
    assert Device.objects.get(pk=device_a.pk).password == "two-secret"


def test_an_update_that_changes_nothing_is_not_audited(admin_a, device_a):
    response = admin_a.client.patch(
        f"{DEV}{device_a.pk}/", {"description": device_a.description}, format="json"
    )
    assert response.status_code == 200
    assert _entries(object_type="inventory.device") == []


def test_operations_are_audited(operator_a, device_a):
    assert (
        operator_a.client.patch(f"{DEV}{device_a.pk}/", {"reboot": True}, format="json").status_code
        == 200
    )
    (entry,) = _entries(action="operation")
    assert entry.device_id == device_a.pk
    assert entry.user == operator_a.user
    assert "reboot" in entry.message


def test_reference_objects_are_audited(admin_a, org_a):
    created = admin_a.client.post(
        "/api/v1/inventory_location/",
        {"name": "L", "short_name": "l", "organization_id": org_a.pk},
        format="json",
    )
    location_id = created.json()["id"]
    admin_a.client.patch(
        f"/api/v1/inventory_location/{location_id}/", {"name": "L2"}, format="json"
    )
    admin_a.client.delete(f"/api/v1/inventory_location/{location_id}/")

    entries = _entries(object_type="inventory.location")
    assert [(e.action, e.user, e.organization_id) for e in entries] == [
        ("create", admin_a.user, org_a.pk),
        ("update", admin_a.user, org_a.pk),
        ("delete", admin_a.user, org_a.pk),
    ]
    assert entries[1].changes == {"name": ["L", "L2"]}


def test_organization_changes_are_shown_to_its_admins(admin_a, admin_b, org_a):
    assert (
        admin_a.client.patch(
            f"/api/v1/organization/{org_a.pk}/", {"name": "Org A2"}, format="json"
        ).status_code
        == 200
    )
    (entry,) = _entries(object_type="tenancy.organization")
    assert entry.organization_id == org_a.pk
    assert entry.changes == {"name": ["Org A", "Org A2"]}
    seen = admin_a.client.get(f"{AUDIT}?object_type=tenancy.organization").json()
    assert [e["id"] for e in seen["results"]] == [entry.pk]
    assert admin_b.client.get(f"{AUDIT}?object_type=tenancy.organization").json()["count"] == 0


def test_audit_log_by_device_for_its_admin_only(admin_a, viewer_a, operator_a, admin_b, device_a):
    url = f"{DEV}{device_a.pk}/"
    admin_a.client.patch(url, {"description": "changed"}, format="json")
    admin_a.client.patch(url, {"password": "hidden-value"}, format="json")

    response = admin_a.client.get(f"{AUDIT}?device={device_a.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [e["action"] for e in body["results"]] == ["update", "update"]  # newest first
    assert body["results"][0]["changes"]["password_encrypted"] == ["", MASK]
    assert body["results"][1]["changes"]["description"] == ["", "changed"]
    for item in body["results"]:
        assert item["device_id"] == device_a.pk
        assert item["actor"] == "admin_a"
        assert isinstance(item["id"], int)
        assert item["time"].endswith("Z")
    assert "hidden-value" not in response.content.decode()

    for outsider in (viewer_a, operator_a, admin_b):
        seen = outsider.client.get(f"{AUDIT}?device={device_a.pk}")
        assert seen.status_code == 200
        assert seen.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_audit_log_filters(superuser, admin_a, device_a, device_b):
    superuser.client.patch(f"{DEV}{device_a.pk}/", {"description": "x"}, format="json")
    superuser.client.patch(f"{DEV}{device_b.pk}/", {"description": "y"}, format="json")
    by_device = superuser.client.get(f"{AUDIT}?device={device_b.pk}").json()
    assert [e["device_id"] for e in by_device["results"]] == [device_b.pk]
    assert superuser.client.get(f"{AUDIT}?action=update").json()["count"] == 2
    assert superuser.client.get(f"{AUDIT}?action=bogus").status_code == 400
    assert superuser.client.get(f"{AUDIT}?device=abc").status_code == 400


# --- the admin site ------------------------------------------------------------------------


@pytest.fixture
def admin_client_su(superuser):
    client = Client()
    client.force_login(superuser.user)
    return client


def test_admin_change_form_save_is_audited(admin_client_su, superuser, org_a):
    device_type = DeviceType.objects.create(
        organization=org_a, short_name="adm", name="Before", settings_template={}
    )
    response = admin_client_su.post(
        f"/admin/inventory/devicetype/{device_type.pk}/change/",
        {
            "organization": org_a.pk,
            "short_name": "adm",
            "name": "After",
            "manufacturer": "",
            "product_class": "",
            "settings_template": "{}",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert DeviceType.objects.get(pk=device_type.pk).name == "After"
    (entry,) = _entries(object_type="inventory.devicetype")
    assert entry.action == "update"
    assert entry.user == superuser.user
    assert entry.changes == {"name": ["Before", "After"]}
    assert entry.organization_id == org_a.pk


def test_admin_add_and_delete_are_audited(admin_client_su, org_a):
    added = admin_client_su.post(
        "/admin/inventory/location/add/",
        {
            "organization": org_a.pk,
            "name": "Admin loc",
            "short_name": "admin_loc",
            "latitude": "",
            "longitude": "",
            "_save": "Save",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    location = Location.objects.get(short_name="admin_loc")
    deleted = admin_client_su.post(
        f"/admin/inventory/location/{location.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert [e.action for e in _entries(object_type="inventory.location")] == ["create", "delete"]


def test_admin_inline_membership_changes_are_audited(admin_client_su, superuser, org_a):
    from linesman.tenancy.models import Membership
    from tests.conftest import make_actor

    alice = make_actor("alice").user
    bob = make_actor("bob", org_a, "viewer").user
    bob_membership = Membership.objects.get(user=bob)
    response = admin_client_su.post(
        f"/admin/tenancy/organization/{org_a.pk}/change/",
        {
            "name": org_a.name,
            "description": "",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": str(bob_membership.pk),
            "memberships-0-organization": str(org_a.pk),
            "memberships-0-user": str(bob.pk),
            "memberships-0-role": "admin",
            "memberships-1-organization": str(org_a.pk),
            "memberships-1-user": str(alice.pk),
            "memberships-1-role": "operator",
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.get(user=bob).role == "admin"
    assert Membership.objects.get(user=alice).role == "operator"
    entries = _entries(object_type="tenancy.membership")
    assert sorted((e.action, e.object_id) for e in entries) == sorted(
        [
            ("update", str(bob_membership.pk)),
            ("create", str(Membership.objects.get(user=alice).pk)),
        ]
    )
    for entry in entries:
        assert entry.user == superuser.user
        assert entry.organization_id == org_a.pk
    update = next(e for e in entries if e.action == "update")
    assert update.changes == {"role": ["viewer", "admin"]}

    removed = admin_client_su.post(
        f"/admin/tenancy/organization/{org_a.pk}/change/",
        {
            "name": org_a.name,
            "description": "",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": str(bob_membership.pk),
            "memberships-0-organization": str(org_a.pk),
            "memberships-0-user": str(bob.pk),
            "memberships-0-role": "admin",
            "memberships-0-DELETE": "on",
            "_save": "Save",
        },
    )
    assert removed.status_code == 302
    assert not Membership.objects.filter(user=bob).exists()
    (deleted,) = _entries(object_type="tenancy.membership", action="delete")
    assert deleted.object_id == str(bob_membership.pk)
    assert deleted.changes["role"] == ["admin", None]


def test_admin_device_save_model_is_audited_with_device_id(superuser, device_a):
    model_admin = admin_site._registry[Device]
    request = RequestFactory().post("/admin/")
    request.user = superuser.user
    device_a.description = "from the admin"

    model_admin.save_model(request, device_a, form=None, change=True)

    (entry,) = _entries(object_type="inventory.device")
    assert (entry.action, entry.device_id, entry.user) == ("update", device_a.pk, superuser.user)
    assert entry.changes == {"description": ["", "from the admin"]}


def test_admin_site_is_for_superusers_only(admin_a, org_a):
    client = Client()
    client.force_login(admin_a.user)
    response = client.get("/admin/inventory/device/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
