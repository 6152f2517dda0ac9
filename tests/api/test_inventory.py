"""Inventory behaviour: list filters and their errors, pagination, validation on create and
update, device passwords, the name/serial twins, firmware, and `pending_settings`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from linesman.core import crypto
from linesman.inventory.models import Device, DeviceStatus, DeviceType, FirmwareImage, Setting
from linesman.operations.models import Operation
from tests.conftest import make_device

pytestmark = pytest.mark.usefixtures("no_static_finders")

DEV = "/api/v1/inventory_device/"
ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return [item["id"] for item in body["results"]]


def _up(device, seconds_ago: int = 0, **fields):
    stamp = timezone.now() - timedelta(seconds=seconds_ago)
    Device.objects.filter(pk=device.pk).update(
        status=DeviceStatus.UP, is_active=True, last_connection=stamp, **fields
    )
    device.refresh_from_db()
    return device


# --- filters -------------------------------------------------------------------------------


@pytest.fixture
def fleet(org_a, org_b, device_type, second_type):
    """Devices of two types, Up and Down, changed at known times, in two organizations."""
    long_ago = timezone.now() - timedelta(days=30)
    up1 = _up(make_device(org_a, device_type, "UP1"), status_change=long_ago)
    up2 = _up(make_device(org_a, second_type, "UP2"))
    down1 = make_device(org_a, device_type, "DOWN1")
    Device.objects.filter(pk=down1.pk).update(status_change=long_ago)
    down2 = make_device(org_a, second_type, "DOWN2")
    other = _up(make_device(org_b, device_type, "OTHER1"))
    return {"up1": up1, "up2": up2, "down1": down1, "down2": down2, "other": other}


@pytest.mark.parametrize("value", ["1", "true", "True"])
def test_status_up_spellings(superuser, fleet, value):
    expected = [fleet["up1"].pk, fleet["up2"].pk, fleet["other"].pk]
    assert _ids(superuser.client.get(f"{DEV}?status={value}")) == expected


@pytest.mark.parametrize("value", ["0", "false", "False"])
def test_status_down_spellings(superuser, fleet, value):
    expected = [fleet["down1"].pk, fleet["down2"].pk]
    assert _ids(superuser.client.get(f"{DEV}?status={value}")) == expected


def test_type_filter(superuser, fleet, second_type):
    assert _ids(superuser.client.get(f"{DEV}?type={second_type.pk}")) == [
        fleet["up2"].pk,
        fleet["down2"].pk,
    ]


def test_organization_filter(superuser, fleet, org_b):
    assert _ids(superuser.client.get(f"{DEV}?organization={org_b.pk}")) == [fleet["other"].pk]


def test_last_status_change_from_filter(superuser, fleet):
    since = (timezone.now() - timedelta(days=1)).isoformat()
    got = _ids(superuser.client.get(DEV, {"last_status_change_from": since}))
    assert got == [fleet["up2"].pk, fleet["down2"].pk, fleet["other"].pk]
    got = _ids(superuser.client.get(DEV, {"last_status_change_from": "2000-01-01T00:01:00+00:00"}))
    assert len(got) == 5


def test_last_status_change_from_as_the_seed_writes_it_unencoded(superuser, fleet):
    """`+00:00` pasted into a URL arrives as ` 00:00`; it still means UTC."""
    got = _ids(superuser.client.get(f"{DEV}?last_status_change_from=2000-01-01T00:01:00+00:00"))
    assert len(got) == 5
    future = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert _ids(superuser.client.get(f"{DEV}?last_status_change_from={future}+00:00")) == []


def test_type_of_another_org_is_unknown(admin_b, org_a, device_b):
    foreign = DeviceType.objects.create(organization=org_a, short_name="a_only", name="A")
    response = admin_b.client.get(f"{DEV}?type={foreign.pk}")
    assert response.status_code == 400
    assert list(response.json()) == ["type"]


def test_filters_combine(superuser, fleet, org_a, device_type):
    got = _ids(
        superuser.client.get(f"{DEV}?status=0&type={device_type.pk}&organization={org_a.pk}")
    )
    assert got == [fleet["down1"].pk]


def test_pending_filter_parameter_details_the_list(admin_a, device_a):
    assert admin_a.client.patch(f"{DEV}{device_a.pk}/", {"reboot": True}, format="json").json()
    plain = admin_a.client.get(f"{DEV}?pending=false").json()["results"][0]
    detailed = admin_a.client.get(f"{DEV}?pending=true").json()["results"][0]
    assert plain["pending_settings"] == "reboot_scheduled"
    assert re.fullmatch(f"reboot_scheduled:{ISO}", detailed["pending_settings"])


def test_update_status_refreshes_stale_devices(admin_a, org_a, device_type):
    fresh = _up(make_device(org_a, device_type, "FRESH"))
    # Silent for longer than its inform interval plus the grace period: really Down.
    stale = _up(
        make_device(org_a, device_type, "STALE"),
        seconds_ago=300 + settings.LINESMAN_STATUS_GRACE + 60,
    )
    without = {d["id"]: d["status"] for d in admin_a.client.get(DEV).json()["results"]}
    assert without == {fresh.pk: "Up", stale.pk: "Up"}

    refreshed = admin_a.client.get(f"{DEV}?update_status=true").json()["results"]

    assert {d["id"]: d["status"] for d in refreshed} == {fresh.pk: "Up", stale.pk: "Down"}
    stale.refresh_from_db()
    assert stale.status == DeviceStatus.DOWN
    assert (timezone.now() - stale.status_change).total_seconds() < 60


def test_update_status_on_detail(admin_a, org_a, device_type):
    stale = _up(make_device(org_a, device_type, "STALE"), seconds_ago=10_000)
    body = admin_a.client.get(f"{DEV}{stale.pk}/?update_status=true").json()
    assert body["status"] == "Down"
    assert Device.objects.get(pk=stale.pk).status == DeviceStatus.DOWN


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=maybe", "status"),
        ("status=2", "status"),
        ("type=abc", "type"),
        ("type=999999", "type"),
        ("organization=abc", "organization"),
        ("last_status_change_from=notadate", "last_status_change_from"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("pending=maybe", "pending"),
        ("update_status=maybe", "update_status"),
    ],
)
def test_bad_query_values_are_400_naming_the_field(admin_a, device_a, query, field):
    response = admin_a.client.get(f"{DEV}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field], body
    assert isinstance(body[field], list) and all(isinstance(m, str) for m in body[field])


@pytest.mark.parametrize("query", ["pending=maybe", "update_status=maybe"])
def test_bad_boolean_on_detail_is_400(admin_a, device_a, query):
    response = admin_a.client.get(f"{DEV}{device_a.pk}/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


def _many(org, device_type, count: int) -> None:
    Device.objects.bulk_create(
        Device(
            organization=org,
            type=device_type,
            name=f"bulk-{n}",
            serial_number=f"BULK{n:05d}",
            status_change=timezone.now(),
        )
        for n in range(count)
    )


def test_default_page_size_comes_from_settings(admin_a, org_a, device_type):
    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    assert page_size == 50  # LINESMAN_PAGE_SIZE's default
    _many(org_a, device_type, page_size + 1)
    body = admin_a.client.get(DEV).json()
    assert body["count"] == page_size + 1
    assert len(body["results"]) == page_size
    assert f"limit={page_size}" in body["next"] and f"offset={page_size}" in body["next"]


def test_limit_is_capped_at_1000(admin_a, org_a, device_type):
    assert settings.LINESMAN_MAX_PAGE_SIZE == 1000
    _many(org_a, device_type, 1001)
    body = admin_a.client.get(f"{DEV}?limit=5000").json()
    assert body["count"] == 1001
    assert len(body["results"]) == 1000
    assert "limit=1000" in body["next"] and "offset=1000" in body["next"]


def test_limit_and_offset_page_through(admin_a, org_a, device_type):
    _many(org_a, device_type, 5)
    all_ids = _ids(admin_a.client.get(DEV))
    body = admin_a.client.get(f"{DEV}?limit=2&offset=2").json()
    assert [d["id"] for d in body["results"]] == all_ids[2:4]
    assert body["count"] == 5
    assert "offset=4" in body["next"]
    assert "limit=2" in body["previous"]
    beyond = admin_a.client.get(f"{DEV}?offset=50").json()
    assert beyond["results"] == [] and beyond["count"] == 5


# --- create --------------------------------------------------------------------------------


def _body(device_type, org, **fields) -> dict:
    return {
        "name": "r-new",
        "serial_number": "SN-NEW",
        "type": device_type.pk,
        "organization_id": org.pk,
        **fields,
    }


def test_create_requires_name_serial_type_and_organization(admin_a):
    response = admin_a.client.post(DEV, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "serial_number", "type", "organization_id"}
    assert Device.objects.count() == 0


def test_create_minimal_gets_defaults(admin_a, org_a, device_type):
    response = admin_a.client.post(DEV, _body(device_type, org_a), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["update_frequency"] == 300
    assert body["is_active"] is False and body["status"] == "Down"
    assert body["location"] is None and body["location_short_name"] is None
    assert body["firmware_image"] is None and body["debug"] is False
    assert Device.objects.get(pk=body["id"]).password_encrypted == ""


def test_duplicate_serial_number_is_400(admin_a, org_a, device_type, device_a):
    response = admin_a.client.post(
        DEV, _body(device_type, org_a, serial_number=device_a.serial_number), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["serial_number"]
    assert Device.objects.count() == 1


def test_duplicate_serial_number_in_another_org_is_400_too(admin_b, org_b, device_type, device_a):
    response = admin_b.client.post(
        DEV, _body(device_type, org_b, serial_number=device_a.serial_number), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["serial_number"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", 999999),
        ("organization_id", 999999),
        ("location", 999999),
        ("firmware_image", 999999),
        ("type", "abc"),
        ("update_frequency", 1),
        ("update_frequency", "often"),
        ("latitude", "91"),
        ("latitude", "-90.5"),
        ("latitude", "north"),
        ("longitude", "180.0001"),
        ("longitude", True),
    ],
)
def test_create_rejects_bad_value_naming_the_field(admin_a, org_a, device_type, field, value):
    response = admin_a.client.post(DEV, _body(device_type, org_a, **{field: value}), format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert Device.objects.count() == 0


def test_create_with_a_type_of_another_org_is_400(admin_a, org_a, org_b):
    foreign = DeviceType.objects.create(organization=org_b, short_name="b_only", name="B")
    response = admin_a.client.post(DEV, _body(foreign, org_a), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["type"]


def test_create_with_a_location_of_another_org_is_400(superuser, org_a, org_b, device_type):
    from linesman.inventory.models import Location

    foreign = Location.objects.create(organization=org_b, name="B", short_name="b")
    response = superuser.client.post(
        DEV, _body(device_type, org_a, location=foreign.pk), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["location"]


def test_create_with_location_takes_its_name(admin_a, org_a, device_type, location_a):
    response = admin_a.client.post(
        DEV, _body(device_type, org_a, location=location_a.pk), format="json"
    )
    assert response.status_code == 201
    assert response.json()["location_name"] == "New York Branch Office"
    assert response.json()["location_short_name"] == "ny_branch"


@pytest.mark.parametrize(("lat", "lon"), [("90", "-180"), ("-90", "180"), ("0", "0"), (42.36, -71)])
def test_coordinates_at_the_limits_are_accepted(admin_a, org_a, device_type, lat, lon):
    response = admin_a.client.post(
        DEV, _body(device_type, org_a, latitude=lat, longitude=lon), format="json"
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["latitude"], response.json()["longitude"]) == (str(lat), str(lon))


def test_duplicate_name_in_the_same_org_is_400(admin_a, org_a, device_type, device_a):
    response = admin_a.client.post(
        DEV, _body(device_type, org_a, name=device_a.name), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_same_name_in_another_org_is_fine(admin_b, org_b, device_type, device_a):
    response = admin_b.client.post(
        DEV, _body(device_type, org_b, name=device_a.name), format="json"
    )
    assert response.status_code == 201, response.json()
    assert Device.objects.filter(name=device_a.name).count() == 2


def test_renaming_onto_a_taken_name_is_400(admin_a, org_a, device_type, device_a):
    other = make_device(org_a, device_type, "SN-2", name="taken")
    response = admin_a.client.patch(f"{DEV}{device_a.pk}/", {"name": "taken"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert Device.objects.get(pk=device_a.pk).name != other.name
    # Re-sending the device's own name is no clash.
    same = admin_a.client.patch(f"{DEV}{device_a.pk}/", {"name": device_a.name}, format="json")
    assert same.status_code == 200


def test_read_only_fields_are_ignored(admin_a, device_a):
    response = admin_a.client.patch(
        f"{DEV}{device_a.pk}/",
        {"status": "Up", "software_version": "9", "id": 5, "description": "d"},
        format="json",
    )
    assert response.status_code == 200
    device_a.refresh_from_db()
    assert (device_a.status, device_a.software_version, device_a.description) == (
        "Down",
        None,
        "d",
    )


# --- passwords -----------------------------------------------------------------------------


def test_put_without_password_keeps_the_stored_one(admin_a, org_a, device_type, device_a):
    Device.objects.filter(pk=device_a.pk).update(password_encrypted=crypto.encrypt("keep-me"))
    response = admin_a.client.put(
        f"{DEV}{device_a.pk}/", _body(device_type, org_a, name="renamed"), format="json"
    )
    assert response.status_code == 200, response.json()
    device = Device.objects.get(pk=device_a.pk)
    assert device.name == "renamed"
    assert device.password == "keep-me"


def test_changing_the_password_stores_the_new_one(admin_a, device_a):
    Device.objects.filter(pk=device_a.pk).update(password_encrypted=crypto.encrypt("first"))
    response = admin_a.client.patch(f"{DEV}{device_a.pk}/", {"password": "second"}, format="json")
    assert response.status_code == 200
    assert "password" not in response.json()
    device = Device.objects.get(pk=device_a.pk)
    assert device.password == "second"
    assert "second" not in device.password_encrypted


def test_empty_password_clears_it(admin_a, device_a):
    Device.objects.filter(pk=device_a.pk).update(password_encrypted=crypto.encrypt("first"))
    response = admin_a.client.patch(f"{DEV}{device_a.pk}/", {"password": ""}, format="json")
    assert response.status_code == 200
    assert Device.objects.get(pk=device_a.pk).password_encrypted == ""


# --- twins: by name and by serial number ---------------------------------------------------


@pytest.fixture(params=["name", "serial"])
def twin(request, device_a):
    if request.param == "name":
        return f"/api/v1/inventory_device_name/{device_a.name}/"
    return f"/api/v1/inventory_device_serial/{device_a.serial_number}/"


def test_twin_get_matches_by_id(admin_a, device_a, twin):
    by_twin = admin_a.client.get(twin)
    by_id = admin_a.client.get(f"{DEV}{device_a.pk}/")
    assert by_twin.status_code == 200
    assert by_twin.json() == by_id.json()


def test_twin_put(admin_a, org_a, device_type, device_a, twin):
    body = {
        "name": device_a.name,
        "serial_number": device_a.serial_number,
        "type": device_type.pk,
        "organization_id": org_a.pk,
        "description": "via twin",
    }
    response = admin_a.client.put(twin, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == device_a.pk
    assert Device.objects.get(pk=device_a.pk).description == "via twin"


def test_twin_patch_and_operation(admin_a, device_a, twin):
    response = admin_a.client.patch(twin, {"description": "x", "reboot": True}, format="json")
    assert response.status_code == 200
    assert response.json()["pending_settings"] == "reboot_scheduled"
    assert Device.objects.get(pk=device_a.pk).description == "x"
    assert Operation.objects.filter(device=device_a, kind="reboot").count() == 1


def test_twin_delete(admin_a, device_a, twin):
    assert admin_a.client.delete(twin).status_code == 204
    assert not Device.objects.filter(pk=device_a.pk).exists()
    assert admin_a.client.get(twin).status_code == 404


def test_twin_unknown_is_404(admin_a, device_a):
    assert admin_a.client.get("/api/v1/inventory_device_name/nope/").status_code == 404
    assert admin_a.client.get("/api/v1/inventory_device_serial/nope/").status_code == 404


def test_name_matching_several_visible_devices_is_409(
    superuser, admin_a, device_type, device_a, org_b
):
    twin_b = make_device(org_b, device_type, "ZEQ-OTHER", name=device_a.name)
    url = f"/api/v1/inventory_device_name/{device_a.name}/"

    for method in ("get", "patch", "delete"):
        response = getattr(superuser.client, method)(url, {"description": "x"}, format="json")
        assert response.status_code == 409, method
        body = response.json()
        assert sorted(body["ids"]) == sorted([device_a.pk, twin_b.pk])
        assert isinstance(body["detail"], str)
    assert Device.objects.filter(name=device_a.name).count() == 2
    # admin_a sees only its own device of that name: no ambiguity.
    assert admin_a.client.get(url).json()["id"] == device_a.pk


@pytest.mark.parametrize("serial", ["ABC-12.34.56", "A.B", "00:11:22-x_y", "SN%20space"])
def test_serial_with_punctuation(admin_a, org_a, device_type, serial):
    clear = serial.replace("%20", " ")
    device = make_device(org_a, device_type, clear)
    response = admin_a.client.get(f"/api/v1/inventory_device_serial/{serial}/")
    assert response.status_code == 200
    assert response.json()["id"] == device.pk
    assert response.json()["serial_number"] == clear
    patched = admin_a.client.patch(
        f"/api/v1/inventory_device_serial/{serial}/", {"description": "d"}, format="json"
    )
    assert patched.status_code == 200


# --- firmware ------------------------------------------------------------------------------


def test_firmware_of_another_device_type_is_422(admin_a, device_a, second_type):
    foreign = FirmwareImage.objects.create(
        device_type=second_type, version="1", file="firmware/x/y.bin"
    )
    response = admin_a.client.patch(
        f"{DEV}{device_a.pk}/",
        {"firmware_image": foreign.pk, "firmware_image_is_pending": True},
        format="json",
    )
    assert response.status_code == 422
    assert list(response.json()) == ["firmware_image"]
    device_a.refresh_from_db()
    assert device_a.firmware_image_id is None and device_a.firmware_image_is_pending is False
    assert not Operation.objects.filter(device=device_a).exists()


def test_operator_may_start_a_firmware_upgrade(operator_a, device_a, firmware_image):
    response = operator_a.client.patch(
        f"{DEV}{device_a.pk}/",
        {"firmware_image": firmware_image.pk, "firmware_image_is_pending": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert Operation.objects.get(device=device_a).kind == "firmware"


def test_firmware_without_pending_flag_only_records_the_image(admin_a, device_a, firmware_image):
    response = admin_a.client.patch(
        f"{DEV}{device_a.pk}/", {"firmware_image": firmware_image.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["firmware_image"] == firmware_image.pk
    assert response.json()["pending_settings"] is None
    assert not Operation.objects.filter(device=device_a).exists()


def test_operation_while_another_is_active_is_409(admin_a, device_a, firmware_image):
    url = f"{DEV}{device_a.pk}/"
    assert admin_a.client.patch(url, {"reboot": True}, format="json").status_code == 200
    for body in (
        {"sync": True},
        {"firmware_image": firmware_image.pk, "firmware_image_is_pending": True},
    ):
        response = admin_a.client.patch(url, body, format="json")
        assert response.status_code == 409, body
        assert isinstance(response.json()["detail"], str)
    assert Operation.objects.filter(device=device_a).count() == 1
    assert Device.objects.get(pk=device_a.pk).firmware_image_id is None


def test_factory_and_device_factory_together_is_400(admin_a, device_a):
    response = admin_a.client.patch(
        f"{DEV}{device_a.pk}/", {"factory": True, "device_factory": True}, format="json"
    )
    assert response.status_code == 400
    assert not Operation.objects.filter(device=device_a).exists()


def test_refused_operation_leaves_the_device_unchanged(admin_a, device_a, firmware_image):
    url = f"{DEV}{device_a.pk}/"
    refused = [
        ({"description": "x", "factory": True, "device_factory": True}, 400),
        (
            {
                "description": "x",
                "reboot": True,
                "firmware_image": firmware_image.pk,
                "firmware_image_is_pending": True,
            },
            400,
        ),
    ]
    for body, status in refused:
        response = admin_a.client.patch(url, body, format="json")
        assert response.status_code == status, (body, response.content)
        assert isinstance(response.json(), dict)
    device_a.refresh_from_db()
    assert device_a.description == "" and device_a.firmware_image_id is None
    assert not Operation.objects.filter(device=device_a).exists()


def test_operation_on_a_deactivated_device_is_422_and_changes_nothing(admin_a, device_a):
    Device.objects.filter(pk=device_a.pk).update(
        is_active=False, last_connection=timezone.now() - timedelta(days=1)
    )
    response = admin_a.client.patch(
        f"{DEV}{device_a.pk}/", {"description": "x", "reboot": True}, format="json"
    )
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    device_a.refresh_from_db()
    assert device_a.description == ""
    assert not Operation.objects.filter(device=device_a).exists()


def test_create_with_operation_flags(admin_a, org_a, device_type):
    response = admin_a.client.post(
        DEV, _body(device_type, org_a, sync=True, reconf=True), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["pending_settings"] == "sync_scheduled,reconf_scheduled"
    op = Operation.objects.get(device_id=response.json()["id"])
    assert op.params["steps"] == ["sync", "reconf"]


def test_create_with_pending_firmware_starts_the_upgrade(
    admin_a, org_a, device_type, firmware_image
):
    response = admin_a.client.post(
        DEV,
        _body(device_type, org_a, firmware_image=firmware_image.pk, firmware_image_is_pending=True),
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["pending_settings"] == "firmware_update"
    op = Operation.objects.get(device_id=response.json()["id"])
    assert (op.kind, op.params["firmware_image"]) == ("firmware", firmware_image.pk)


def test_create_with_impossible_flags_creates_nothing(admin_a, org_a, device_type):
    response = admin_a.client.post(
        DEV, _body(device_type, org_a, factory=True, device_factory=True), format="json"
    )
    assert response.status_code == 400
    assert Device.objects.count() == 0


def test_false_flags_do_nothing(admin_a, device_a):
    response = admin_a.client.patch(
        f"{DEV}{device_a.pk}/", {"reboot": False, "sync": False}, format="json"
    )
    assert response.status_code == 200
    assert not Operation.objects.filter(device=device_a).exists()


def test_non_boolean_flag_is_400(admin_a, device_a):
    response = admin_a.client.patch(f"{DEV}{device_a.pk}/", {"reboot": "soon"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["reboot"]


# --- pending_settings ----------------------------------------------------------------------


def test_pending_settings_is_null_when_nothing_is_pending(admin_a, device_a):
    assert admin_a.client.get(f"{DEV}{device_a.pk}/").json()["pending_settings"] is None
    assert (
        admin_a.client.get(f"{DEV}{device_a.pk}/?pending=true").json()["pending_settings"] is None
    )


def test_pending_settings_after_reboot(admin_a, device_a):
    url = f"{DEV}{device_a.pk}/"
    assert admin_a.client.patch(url, {"reboot": True}, format="json").status_code == 200
    assert admin_a.client.get(url).json()["pending_settings"] == "reboot_scheduled"
    detailed = admin_a.client.get(f"{url}?pending=true").json()["pending_settings"]
    assert re.fullmatch(f"reboot_scheduled:{ISO}", detailed), detailed


def test_pending_setting_row_appears_by_variable_name(admin_a, device_a):
    name = "InternetGatewayDevice.ManagementServer.PeriodicInformInterval"
    Setting.objects.create(device=device_a, variable_name=name, value="300", pending=True)
    Setting.objects.create(
        device=device_a, variable_name="Device.Confirmed", value="1", pending=False
    )
    url = f"{DEV}{device_a.pk}/"
    assert admin_a.client.get(url).json()["pending_settings"] == name
    assert admin_a.client.get(f"{url}?pending=true").json()["pending_settings"] == f"{name}:pending"
    listed = admin_a.client.get(DEV).json()["results"][0]
    assert listed["pending_settings"] == name


def test_pending_settings_completed_operation_is_not_pending(admin_a, device_a):
    url = f"{DEV}{device_a.pk}/"
    assert admin_a.client.patch(url, {"reboot": True}, format="json").status_code == 200
    Operation.objects.filter(device=device_a).update(state="completed")
    assert admin_a.client.get(url).json()["pending_settings"] is None


# --- delete --------------------------------------------------------------------------------


def test_delete_removes_the_device_history(admin_a, device_a):
    url = f"{DEV}{device_a.pk}/"
    assert admin_a.client.patch(url, {"reboot": True}, format="json").status_code == 200
    Operation.objects.filter(device=device_a).update(state="completed")
    Setting.objects.create(device=device_a, variable_name="Device.X", value="1")

    assert admin_a.client.delete(url).status_code == 204

    assert not Device.objects.filter(pk=device_a.pk).exists()
    assert not Operation.objects.filter(device_id=device_a.pk).exists()
    assert not Setting.objects.filter(device_id=device_a.pk).exists()


def test_delete_unknown_device_is_404(admin_a):
    response = admin_a.client.delete(f"{DEV}999999/")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)
