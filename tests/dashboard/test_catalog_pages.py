"""The Catalog page (/ui/catalog/): admins create and delete device types, locations and
firmware images through the API's validation; other roles and organizations are refused."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linesman.audit.models import AuditEntry
from linesman.inventory.models import DeviceType, FirmwareImage, Location

URL = "/ui/catalog/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _audit(model, pk) -> list[str]:
    return list(
        AuditEntry.objects.filter(
            object_type__icontains=model._meta.model_name, object_id=str(pk)
        ).values_list("action", flat=True)
    )


def test_page_lists_and_offers_forms_to_admins(login, admin_a, location_a, device_type):
    page = login(admin_a).get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "ny_branch" in body and "enterprise_router" in body
    assert 'id="location-form"' in body and 'enctype="multipart/form-data"' in body
    assert 'href="/ui/catalog/"' in body  # navigation link


@pytest.mark.parametrize("who", ["viewer_a", "operator_a"])
def test_viewer_and_operator_see_lists_without_forms(request, login, who, location_a):
    page = login(request.getfixturevalue(who)).get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "ny_branch" in body
    assert "<form" not in body.split('id="types"', 1)[1].split("</main>")[0]


def test_admin_creates_device_type(login, admin_a, org_a):
    answer = login(admin_a).post(
        URL + "types/",
        {
            "organization_id": org_a.pk,
            "short_name": "home_gw",
            "name": "Home gateway",
            "manufacturer": "Acme",
            "settings_template": '{"InternetGatewayDevice.Time.NTPServer1": "pool.ntp.org"}',
        },
    )
    assert answer.status_code == 302
    created = DeviceType.objects.get(short_name="home_gw")
    assert created.organization_id == org_a.pk and created.manufacturer == "Acme"
    assert created.settings_template == {"InternetGatewayDevice.Time.NTPServer1": "pool.ntp.org"}
    assert _audit(DeviceType, created.pk) == ["create"]


def test_admin_creates_location(login, admin_a, org_a):
    answer = login(admin_a).post(
        URL + "locations/",
        {"organization_id": org_a.pk, "short_name": "lab", "name": "Lab", "latitude": "52.5"},
    )
    assert answer.status_code == 302
    created = Location.objects.get(short_name="lab")
    assert (created.organization_id, created.name, created.latitude) == (org_a.pk, "Lab", "52.5")
    assert _audit(Location, created.pk) == ["create"]


def test_admin_uploads_firmware_with_size_and_sha256(login, admin_a, org_a, device_type):
    content = b"\x7fELF firmware bytes " * 100
    answer = login(admin_a).post(
        URL + "firmware/",
        {
            "organization_id": org_a.pk,
            "device_type": device_type.pk,
            "version": "3.1.0",
            "description": "spring release",
            "file": SimpleUploadedFile("fw.bin", content),
        },
    )
    assert answer.status_code == 302
    image = FirmwareImage.objects.get(version="3.1.0")
    assert image.size == len(content) == 2000
    assert image.checksum == hashlib.sha256(content).hexdigest()
    assert image.organization_id == org_a.pk
    with image.file.open("rb") as stored:
        assert stored.read() == content
    assert _audit(FirmwareImage, image.pk) == ["create"]


def test_admin_deletes_after_confirming(login, admin_a, location_a):
    client = login(admin_a)
    asked = client.post(f"{URL}locations/{location_a.pk}/delete/")
    assert asked.status_code == 200 and b'name="confirmed"' in asked.content
    assert Location.objects.filter(pk=location_a.pk).exists()
    done = client.post(f"{URL}locations/{location_a.pk}/delete/", {"confirmed": "on"})
    assert done.status_code == 302
    assert not Location.objects.filter(pk=location_a.pk).exists()
    assert _audit(Location, location_a.pk) == ["delete"]


def test_type_in_use_is_not_deleted(login, superuser, device_a, device_type):
    answer = login(superuser).post(f"{URL}types/{device_type.pk}/delete/", {"confirmed": "on"})
    assert answer.status_code == 409
    assert b"still in use" in answer.content
    assert DeviceType.objects.filter(pk=device_type.pk).exists()


@pytest.mark.parametrize("who", ["viewer_a", "operator_a"])
def test_viewer_and_operator_get_403_on_post(request, login, who, org_a, location_a):
    client = login(request.getfixturevalue(who))
    good = {"organization_id": org_a.pk, "short_name": "x1", "name": "X"}
    assert client.post(URL + "locations/", good).status_code == 403
    assert client.post(URL + "types/", good).status_code == 403
    assert client.post(URL + "locations/", {}).status_code == 403  # whatever is posted
    gone = client.post(f"{URL}locations/{location_a.pk}/delete/", {"confirmed": "on"})
    assert gone.status_code == 403
    assert not Location.objects.filter(short_name="x1").exists()
    assert not DeviceType.objects.filter(short_name="x1").exists()
    assert Location.objects.filter(pk=location_a.pk).exists()


def test_other_organizations_admin_cannot_create_or_delete(
    login, admin_b, org_a, location_a, device_type
):
    client = login(admin_b)
    answer = client.post(
        URL + "locations/", {"organization_id": org_a.pk, "short_name": "evil", "name": "E"}
    )
    assert answer.status_code == 403
    answer = client.post(
        URL + "firmware/",
        {
            "organization_id": org_a.pk,
            "device_type": device_type.pk,
            "version": "6.6.6",
            "file": SimpleUploadedFile("fw.bin", b"x"),
        },
    )
    assert answer.status_code == 403
    gone = client.post(f"{URL}locations/{location_a.pk}/delete/", {"confirmed": "on"})
    assert gone.status_code == 404  # org A's location is not even visible to org B
    assert not Location.objects.filter(short_name="evil").exists()
    assert not FirmwareImage.objects.exists()
    assert Location.objects.filter(pk=location_a.pk).exists()
    assert b"ny_branch" not in client.get(URL).content


def test_admin_cannot_create_or_delete_shared_objects(login, admin_a, device_type):
    client = login(admin_a)
    answer = client.post(URL + "types/", {"short_name": "shared_one", "name": "S"})
    assert answer.status_code == 403
    gone = client.post(f"{URL}types/{device_type.pk}/delete/", {"confirmed": "on"})
    assert gone.status_code == 403
    assert not DeviceType.objects.filter(short_name="shared_one").exists()
    assert DeviceType.objects.filter(pk=device_type.pk).exists()


def test_superuser_creates_shared_type(login, superuser):
    answer = login(superuser).post(URL + "types/", {"short_name": "shared_gw", "name": "G"})
    assert answer.status_code == 302
    assert DeviceType.objects.get(short_name="shared_gw").organization_id is None


def test_bad_input_shows_field_errors_and_creates_nothing(login, admin_a, org_a, location_a):
    client = login(admin_a)
    answer = client.post(
        URL + "locations/",
        {"organization_id": org_a.pk, "short_name": "lab", "name": "Lab", "latitude": "95"},
    )
    assert answer.status_code == 400
    body = answer.content.decode()
    assert 'data-field="latitude"' in body and "between -90 and 90" in body
    assert 'value="lab"' in body  # the input is kept
    duplicate = client.post(
        URL + "locations/", {"organization_id": org_a.pk, "short_name": "ny_branch", "name": "N"}
    )
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.content.decode()
    bad_json = client.post(
        URL + "types/",
        {"organization_id": org_a.pk, "short_name": "t", "name": "T", "settings_template": "{"},
    )
    assert bad_json.status_code == 400 and 'data-field="settings_template"' in bad_json.text
    no_file = client.post(URL + "firmware/", {"organization_id": org_a.pk, "version": "1"})
    assert no_file.status_code == 400
    assert 'data-field="file"' in no_file.text and 'data-field="device_type"' in no_file.text
    assert list(Location.objects.values_list("short_name", flat=True)) == ["ny_branch"]
    assert not DeviceType.objects.filter(short_name="t").exists()
    assert not FirmwareImage.objects.exists()


def test_unknown_kind_is_404(login, admin_a):
    assert login(admin_a).post(URL + "gadgets/", {}).status_code == 404
