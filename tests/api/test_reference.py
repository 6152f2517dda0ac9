"""Reference resources: organizations, device types, locations and firmware images."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linesman.inventory.models import Device, DeviceType, FirmwareImage, Location
from linesman.tenancy.models import Organization
from tests.conftest import make_device

pytestmark = pytest.mark.usefixtures("no_static_finders")

ORG = "/api/v1/organization/"
TYPE = "/api/v1/inventory_type/"
LOC = "/api/v1/inventory_location/"
FW = "/api/v1/inventory_firmware_image/"


# --- organizations -------------------------------------------------------------------------


def test_superuser_creates_reads_and_deletes_an_organization(superuser):
    created = superuser.client.post(ORG, {"name": "Acme ISP", "description": "d"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == {"id", "name", "description", "created"}
    assert isinstance(body["id"], int) and body["name"] == "Acme ISP"
    assert Organization.objects.get(pk=body["id"]).description == "d"

    assert superuser.client.get(f"{ORG}{body['id']}/").json() == body

    assert superuser.client.delete(f"{ORG}{body['id']}/").status_code == 204
    assert not Organization.objects.filter(pk=body["id"]).exists()


def test_duplicate_organization_name_is_400(superuser, org_a):
    response = superuser.client.post(ORG, {"name": org_a.name}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_organization_name_is_required(superuser):
    response = superuser.client.post(ORG, {}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_admin_renames_own_organization(admin_a, org_a):
    response = admin_a.client.patch(f"{ORG}{org_a.pk}/", {"name": "Org A renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Org A renamed"
    assert Organization.objects.get(pk=org_a.pk).name == "Org A renamed"


def test_admin_cannot_create_or_delete_organizations(admin_a, org_a):
    assert admin_a.client.post(ORG, {"name": "Mine"}, format="json").status_code == 403
    assert admin_a.client.delete(f"{ORG}{org_a.pk}/").status_code == 403
    assert Organization.objects.count() == 1


def test_organization_with_devices_cannot_be_deleted(superuser, org_a, device_a):
    response = superuser.client.delete(f"{ORG}{org_a.pk}/")
    assert response.status_code == 409
    assert isinstance(response.json()["detail"], str)
    assert Organization.objects.filter(pk=org_a.pk).exists()
    assert Device.objects.filter(pk=device_a.pk).exists()


# --- device types --------------------------------------------------------------------------


def test_shared_types_are_visible_to_every_organization(admin_a, admin_b, device_type, org_a):
    own = DeviceType.objects.create(organization=org_a, short_name="own_a", name="Own A")
    assert [t["id"] for t in admin_a.client.get(TYPE).json()["results"]] == [
        device_type.pk,
        own.pk,
    ]
    assert [t["id"] for t in admin_b.client.get(TYPE).json()["results"]] == [device_type.pk]
    shared = admin_b.client.get(f"{TYPE}{device_type.pk}/").json()
    assert shared["organization_id"] is None
    assert shared["short_name"] == "enterprise_router"


def test_shared_types_are_written_by_superusers_only(admin_a, superuser, device_type):
    url = f"{TYPE}{device_type.pk}/"
    assert admin_a.client.patch(url, {"name": "Hacked"}, format="json").status_code == 403
    assert admin_a.client.delete(url).status_code == 403
    assert (
        admin_a.client.post(TYPE, {"short_name": "s", "name": "S"}, format="json").status_code
        == 403
    )
    assert DeviceType.objects.get(pk=device_type.pk).name == "Enterprise router"

    assert superuser.client.patch(url, {"name": "Renamed"}, format="json").status_code == 200
    created = superuser.client.post(TYPE, {"short_name": "s", "name": "S"}, format="json")
    assert created.status_code == 201
    assert created.json()["organization_id"] is None


def test_admin_creates_type_in_own_org_with_template(admin_a, org_a):
    response = admin_a.client.post(
        TYPE,
        {
            "short_name": "cpe_x",
            "name": "CPE X",
            "organization_id": org_a.pk,
            "settings_template": {
                "Device.WiFi.Radio.1.Channel": 6,
                "Device.WiFi.Radio.1.Enable": True,
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["organization_id"] == org_a.pk
    assert body["settings_template"] == {
        "Device.WiFi.Radio.1.Channel": "6",
        "Device.WiFi.Radio.1.Enable": "true",
    }
    assert DeviceType.objects.get(pk=body["id"]).organization_id == org_a.pk


@pytest.mark.parametrize("template", [["a"], {"a": {"nested": 1}}, "text"])
def test_bad_settings_template_is_400(admin_a, org_a, template):
    response = admin_a.client.post(
        TYPE,
        {
            "short_name": "t",
            "name": "T",
            "organization_id": org_a.pk,
            "settings_template": template,
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["settings_template"]


def test_type_short_name_is_unique(admin_a, org_a, device_type):
    response = admin_a.client.post(
        TYPE,
        {"short_name": device_type.short_name, "name": "X", "organization_id": org_a.pk},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["short_name"]


def test_type_in_unknown_organization_is_400(superuser):
    response = superuser.client.post(
        TYPE, {"short_name": "t", "name": "T", "organization_id": 999999}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["organization_id"]


def test_deleting_a_type_still_used_by_devices_is_409(superuser, device_type, device_a):
    response = superuser.client.delete(f"{TYPE}{device_type.pk}/")
    assert response.status_code == 409
    assert isinstance(response.json()["detail"], str)
    assert DeviceType.objects.filter(pk=device_type.pk).exists()
    assert Device.objects.filter(pk=device_a.pk).exists()


def test_deleting_an_unused_type(superuser, device_type):
    assert superuser.client.delete(f"{TYPE}{device_type.pk}/").status_code == 204
    assert not DeviceType.objects.filter(pk=device_type.pk).exists()


def test_admin_cannot_move_own_type_to_another_org(admin_a, org_a, org_b):
    own = DeviceType.objects.create(organization=org_a, short_name="own_a", name="Own A")
    response = admin_a.client.patch(
        f"{TYPE}{own.pk}/", {"organization_id": org_b.pk}, format="json"
    )
    assert response.status_code == 403
    assert DeviceType.objects.get(pk=own.pk).organization_id == org_a.pk


# --- locations -----------------------------------------------------------------------------


def test_location_crud(admin_a, org_a, location_a):
    created = admin_a.client.post(
        LOC,
        {
            "name": "Manhattan rack 3",
            "short_name": "ny_rack3",
            "organization_id": org_a.pk,
            "parent": location_a.pk,
            "latitude": "40.75",
            "longitude": "-73.99",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["parent"] == location_a.pk
    assert (body["latitude"], body["longitude"]) == ("40.75", "-73.99")
    url = f"{LOC}{body['id']}/"

    updated = admin_a.client.patch(url, {"name": "Rack 3"}, format="json")
    assert updated.status_code == 200 and updated.json()["name"] == "Rack 3"
    assert Location.objects.get(pk=body["id"]).name == "Rack 3"

    assert admin_a.client.delete(url).status_code == 204
    assert not Location.objects.filter(pk=body["id"]).exists()


def test_location_parent_must_be_in_the_same_org(superuser, org_a, org_b, location_a):
    response = superuser.client.post(
        LOC,
        {"name": "B", "short_name": "b", "organization_id": org_b.pk, "parent": location_a.pk},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["parent"]


def test_location_parent_of_another_org_is_unknown_to_its_admin(admin_b, org_b, location_a):
    response = admin_b.client.post(
        LOC,
        {"name": "B", "short_name": "b", "organization_id": org_b.pk, "parent": location_a.pk},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["parent"]


def test_location_cannot_be_inside_itself(admin_a, org_a, location_a):
    child = Location.objects.create(
        organization=org_a, name="Child", short_name="child", parent=location_a
    )
    for parent in (location_a.pk, child.pk):
        response = admin_a.client.patch(f"{LOC}{location_a.pk}/", {"parent": parent}, format="json")
        assert response.status_code == 400, parent
        assert list(response.json()) == ["parent"]
    assert Location.objects.get(pk=location_a.pk).parent_id is None


def test_moving_a_location_to_another_org_needs_a_parent_there(superuser, org_b, location_a):
    from linesman.inventory.models import Location as Loc

    child = Loc.objects.create(
        organization=location_a.organization, name="C", short_name="c", parent=location_a
    )
    response = superuser.client.patch(
        f"{LOC}{child.pk}/", {"organization_id": org_b.pk}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["parent"]
    moved = superuser.client.patch(
        f"{LOC}{child.pk}/", {"organization_id": org_b.pk, "parent": None}, format="json"
    )
    assert moved.status_code == 200
    assert Loc.objects.get(pk=child.pk).organization_id == org_b.pk


def test_location_short_name_unique_per_org(admin_a, admin_b, org_a, org_b, location_a):
    body = {"name": "Again", "short_name": location_a.short_name}
    clash = admin_a.client.post(LOC, {**body, "organization_id": org_a.pk}, format="json")
    assert clash.status_code == 400
    assert list(clash.json()) == ["short_name"]
    fine = admin_b.client.post(LOC, {**body, "organization_id": org_b.pk}, format="json")
    assert fine.status_code == 201


def test_deleting_a_location_keeps_its_devices(admin_a, org_a, device_type, location_a):
    device = make_device(org_a, device_type, "L1", location=location_a)
    assert admin_a.client.delete(f"{LOC}{location_a.pk}/").status_code == 204
    device.refresh_from_db()
    assert device.location_id is None


# --- firmware images -----------------------------------------------------------------------


def _upload(content: bytes = b"\x7fELF firmware payload \x00\x01\x02" * 100):
    return SimpleUploadedFile("router-2.5.0.bin", content, "application/octet-stream")


def test_firmware_upload_computes_size_and_checksum(admin_a, org_a, device_type):
    content = b"\x7fELF firmware payload \x00\x01\x02" * 100
    response = admin_a.client.post(
        FW,
        {
            "device_type": device_type.pk,
            "version": "2.5.0",
            "organization_id": org_a.pk,
            "description": "GA",
            "file": _upload(content),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "device_type",
        "version",
        "organization_id",
        "size",
        "checksum",
        "description",
        "created",
    }
    assert "file" not in body
    assert body["size"] == len(content)
    assert body["checksum"] == hashlib.sha256(content).hexdigest()
    image = FirmwareImage.objects.get(pk=body["id"])
    assert (image.size, image.checksum) == (len(content), hashlib.sha256(content).hexdigest())
    assert image.organization_id == org_a.pk
    with image.file.open("rb") as handle:
        assert handle.read() == content
    assert admin_a.client.get(f"{FW}{image.pk}/").json() == body


def test_firmware_of_an_org_type_inherits_the_org(admin_a, org_a):
    own = DeviceType.objects.create(organization=org_a, short_name="own_a", name="Own A")
    response = admin_a.client.post(
        FW, {"device_type": own.pk, "version": "1", "file": _upload()}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["organization_id"] == org_a.pk


def test_firmware_requires_a_file(admin_a, org_a, device_type):
    response = admin_a.client.post(
        FW,
        {"device_type": device_type.pk, "version": "1", "organization_id": org_a.pk},
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["file"]


def test_firmware_version_unique_per_type(admin_a, org_a, device_type, firmware_image):
    response = admin_a.client.post(
        FW,
        {
            "device_type": device_type.pk,
            "version": firmware_image.version,
            "organization_id": org_a.pk,
            "file": _upload(),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert FirmwareImage.objects.filter(device_type=device_type).count() == 1


def test_firmware_replacement_recomputes_checksum(superuser, firmware_image, device_type):
    new = b"new image"
    response = superuser.client.put(
        f"{FW}{firmware_image.pk}/",
        {"device_type": device_type.pk, "version": "2.5.1", "file": _upload(new)},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["size"] == len(new)
    assert response.json()["checksum"] == hashlib.sha256(new).hexdigest()


def test_firmware_list_filters_by_device_type(superuser, firmware_image, second_type):
    other = FirmwareImage.objects.create(device_type=second_type, version="1", file="f/x.bin")
    body = superuser.client.get(f"{FW}?device_type={second_type.pk}").json()
    assert [i["id"] for i in body["results"]] == [other.pk]
