"""`linesman types|locations|firmware` on the local database: create, list, show, delete,
names or ids, the API's validation, and one-line errors with README's exit codes."""

from __future__ import annotations

import hashlib

from linesman.audit.models import AuditEntry
from linesman.inventory.models import DeviceType, FirmwareImage, Location
from tests.conftest import make_device


def test_types_create_list_show_delete(run, org_a):
    created = run("types", "create", "home_gateway", "--name", "Home gateway", "--json")
    assert created.exit_code == 0, created.output
    body = created.json()
    stored = DeviceType.objects.get(short_name="home_gateway")
    assert body["id"] == stored.pk and stored.name == "Home gateway"
    assert stored.organization_id is None  # shared unless --org
    assert AuditEntry.objects.filter(object_type="inventory.devicetype", action="create").exists()

    listed = run("types", "list")
    assert (
        listed.exit_code == 0
        and "home_gateway" in listed.stdout
        and "Home gateway" in listed.stdout
    )
    assert run("types", "show", "home_gateway", "--json").json()["id"] == stored.pk
    assert run("types", "show", str(stored.pk), "--json").json()["short_name"] == "home_gateway"

    owned = run("types", "create", "acme_cpe", "--name", "Acme CPE", "--org", "Org A", "--json")
    assert owned.json()["organization_id"] == org_a.pk
    assert [t["short_name"] for t in run("types", "list", "--org", "Org A", "--json").json()] == [
        "acme_cpe"
    ]

    deleted = run("types", "delete", "home_gateway")
    assert deleted.exit_code == 0 and not DeviceType.objects.filter(pk=stored.pk).exists()


def test_a_type_in_use_is_not_deleted(run, org_a, device_type):
    make_device(org_a, device_type, "CAT1")
    result = run("types", "delete", device_type.short_name)
    assert result.exit_code == 1
    assert "still in use" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert DeviceType.objects.filter(pk=device_type.pk).exists()


def test_errors_are_one_line_with_exit_1(run, org_a):
    bad = run("types", "create", "not a slug", "--name", "x")
    assert bad.exit_code == 1 and "short_name" in bad.stderr
    assert not DeviceType.objects.exists()
    missing = run("types", "show", "nope")
    assert missing.exit_code == 1 and "no device type 'nope'" in missing.stderr
    unicode_digit = run("types", "show", "²")
    assert unicode_digit.exit_code == 1 and "no device type '²'" in unicode_digit.stderr
    usage = run("types", "create", "x")  # --name is required
    assert usage.exit_code == 2


def test_locations_in_an_organization(run, org_a, org_b):
    created = run(
        "locations",
        "create",
        "Lisbon POP",
        "--org",
        "Org A",
        "--short-name",
        "lis",
        "--latitude",
        "38.7223",
        "--longitude",
        "-9.1393",
        "--json",
    )
    assert created.exit_code == 0, created.output
    location = Location.objects.get(short_name="lis")
    assert (location.organization_id, location.latitude, location.longitude) == (
        org_a.pk,
        "38.7223",
        "-9.1393",
    )
    run("locations", "create", "Porto POP", "--org", "Org B")
    assert [r["name"] for r in run("locations", "list", "--org", "Org A", "--json").json()] == [
        "Lisbon POP"
    ]
    assert run("locations", "show", "Porto POP", "--json").json()["organization_id"] == org_b.pk
    off_the_map = run("locations", "create", "Nowhere", "--org", "Org A", "--latitude", "91")
    assert off_the_map.exit_code == 1 and "latitude" in off_the_map.stderr
    assert run("locations", "create", "X", "--org", "Nope").exit_code == 1


def test_firmware_upload_records_size_and_checksum(run, device_type, tmp_path):
    payload = b"LINESMAN-FIRMWARE 3.0.1\n" + bytes(range(256)) * 40
    path = tmp_path / "image.bin"
    path.write_bytes(payload)
    created = run(
        "firmware",
        "create",
        str(path),
        "--type",
        device_type.short_name,
        "--version",
        "3.0.1",
        "--json",
    )
    assert created.exit_code == 0, created.output
    image = FirmwareImage.objects.get(version="3.0.1")
    assert image.device_type_id == device_type.pk
    assert image.size == len(payload)
    assert image.checksum == hashlib.sha256(payload).hexdigest()
    with image.file.open("rb") as stored:
        assert stored.read() == payload
    listed = run("firmware", "list", "--type", device_type.short_name, "--json").json()
    assert [(i["version"], i["size"]) for i in listed] == [("3.0.1", len(payload))]
    assert run("firmware", "delete", "3.0.1").exit_code == 0
    assert not FirmwareImage.objects.exists()


def test_firmware_needs_an_existing_file_and_type(run, device_type, tmp_path):
    assert (
        run(
            "firmware", "create", str(tmp_path / "none.bin"), "--type", "x", "--version", "1"
        ).exit_code
        == 2
    )
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    no_type = run("firmware", "create", str(path), "--type", "nope", "--version", "1")
    assert no_type.exit_code == 1 and "no device type 'nope'" in no_type.stderr
