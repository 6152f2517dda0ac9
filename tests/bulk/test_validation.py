"""What POST refuses: 400 malformed, 422 invalid parameters (each named), 403 foreign orgs."""

from __future__ import annotations

import pytest

from linesman.operations.bulk.models import BulkJob
from linesman.tenancy import services as tenancy
from linesman.tenancy.models import Role
from tests.bulk.conftest import URL
from tests.conftest import make_actor

pytestmark = pytest.mark.django_db


def post(actor, body):
    return actor.client.post(URL, body, format="json")


def test_malformed_json_is_400(noc, seed_fleet):
    response = noc.client.post(URL, '{"operation_type": "reboot",', content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not BulkJob.objects.exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"reboot"', "42"])
def test_a_body_that_is_not_an_object_is_400(noc, body):
    response = noc.client.post(URL, body, content_type="application/json")
    assert response.status_code == 400


def test_malformed_data_string_is_400(noc):
    response = post(noc, {"data": "{nope"})
    assert response.status_code == 400
    assert "data" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"operation_type": "explode"},
        {"operation": 5},
        {"operation": "get", "operation_type": "set"},
    ],
)
def test_missing_or_unknown_operation_type_is_400(noc, seed_fleet, body):
    response = post(noc, body)
    assert response.status_code == 400
    assert "operation_type" in response.json()


def test_every_invalid_parameter_is_named_422(noc, seed_fleet):
    response = post(
        noc,
        {
            "operation_type": "reboot",
            "target_organizations": [101],
            "device_filters": {"status": ["sleepy"], "colour": "red"},
            "schedule": {"execute_at": "tomorrow", "priority": "urgent"},
            "options": {
                "timeout_minutes": -5,
                "max_concurrency": 0,
                "retries": 3,
                "validate_connectivity": "yes",
            },
            "variables": [{"variable_name": "Device.X"}],
            "surprise": 1,
        },
    )
    assert response.status_code == 422
    errors = response.json()
    for key in (
        "device_filters.status",
        "device_filters.colour",
        "schedule.execute_at",
        "schedule.priority",
        "options.timeout_minutes",
        "options.max_concurrency",
        "options.retries",
        "options.validate_connectivity",
        "variables",
        "surprise",
    ):
        assert key in errors, (key, errors)
    assert not BulkJob.objects.exists()


def test_unknown_types_locations_and_serials_are_422(noc, seed_fleet):
    response = post(
        noc,
        {
            "operation_type": "reboot",
            "device_filters": {
                "types": ["router", "toaster", 99999],
                "locations": ["nowhere"],
                "serial_numbers": ["RT101A", "NOPE-1"],
            },
        },
    )
    assert response.status_code == 422
    errors = response.json()
    assert any("toaster" in m for m in errors["device_filters.types"])
    assert any("99999" in m for m in errors["device_filters.types"])
    assert "device_filters.locations" in errors
    assert errors["serial_numbers"] == ["Unknown serial numbers: NOPE-1"]


def test_filters_matching_nothing_are_422(noc, seed_fleet):
    response = post(
        noc,
        {
            "operation_type": "reboot",
            "target_organizations": [103],
            "device_filters": {"types": ["access_point"]},
        },
    )
    assert response.status_code == 422
    assert "device_filters" in response.json()


def test_foreign_organization_is_403(noc, seed_fleet, org_b):
    response = post(noc, {"operation_type": "reboot", "target_organizations": [101, org_b.pk]})
    assert response.status_code == 403
    assert str(org_b.pk) in str(response.json())
    assert not BulkJob.objects.exists()


def test_viewer_may_not_reboot_but_may_audit(seed_orgs, seed_fleet):
    viewer = make_actor("viewer101", seed_orgs[0], Role.VIEWER)
    assert (
        post(viewer, {"operation_type": "reboot", "target_organizations": [101]}).status_code == 403
    )
    assert post(viewer, {"operation_type": "reboot"}).status_code == 403
    audit = post(viewer, {"operation_type": "inventory_audit", "target_organizations": [101]})
    assert audit.status_code == 201
    assert audit.json()["target_device_count"] == 4


def test_device_of_a_viewer_org_named_by_serial_is_403(seed_orgs, seed_fleet):
    actor = make_actor("mixed", seed_orgs[0], Role.OPERATOR)
    tenancy.set_membership(actor.user, seed_orgs[1], Role.VIEWER)
    assert post(actor, {"operation": "reboot", "serial_number": "RT101A"}).status_code == 201
    assert post(actor, {"operation": "reboot", "serial_number": "RT102A"}).status_code == 403


def test_invisible_device_is_unknown_not_revealed(org_b, seed_fleet, device_b, admin_a):
    response = post(admin_a, {"operation": "reboot", "serial_number": device_b.serial_number})
    assert response.status_code == 422
    assert "serial_numbers" in response.json()


def test_superuser_naming_a_missing_organization_is_422(superuser, seed_fleet):
    response = post(superuser, {"operation_type": "reboot", "target_organizations": [101, 999]})
    assert response.status_code == 422
    assert "999" in str(response.json()["target_organizations"])


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ([{"value": "1"}], "variables[0].variable_name"),
        ([{"variable_name": "Device.A", "type": "integer", "value": "ten"}], "variables[0].value"),
        ([{"variable_name": "Device.A", "type": "float", "value": "1"}], "variables[0].type"),
        ([{"variable_name": "Device.A"}], "variables[0].value"),
        ([{"variable_name": "Device.A", "value": "x", "type": "boolean"}], "variables[0].value"),
        (
            [{"variable_name": "Device.A", "value": "-1", "type": "unsignedInt"}],
            "variables[0].value",
        ),
        ([], "variables"),
        ("Device.A", "variables"),
    ],
)
def test_bad_variables_of_a_set_are_422(noc, seed_fleet, variables, field):
    response = post(noc, {"serial_number": "RT101A", "operation": "set", "variables": variables})
    assert response.status_code == 422
    assert field in response.json(), response.json()


def test_objects_need_a_path_ending_with_a_dot(noc, seed_fleet):
    response = post(
        noc,
        {
            "serial_number": "RT101A",
            "operation": "add.obj",
            "variables": [{"variable_name": "Device.NAT.PortMapping"}],
        },
    )
    assert response.status_code == 422
    assert "variables[0].variable_name" in response.json()


def test_firmware_upgrade_needs_a_matching_image(noc, seed_fleet, types):
    from linesman.inventory.models import FirmwareImage

    image = FirmwareImage.objects.create(device_type=types["router"], version="9.9", file="x.bin")
    missing = post(noc, {"operation_type": "firmware_upgrade", "serial_numbers": ["RT101A"]})
    assert missing.status_code == 422 and "firmware_image" in missing.json()
    mixed = post(
        noc,
        {
            "operation_type": "firmware_upgrade",
            "firmware_image": image.pk,
            "serial_numbers": ["RT101A", "SW101A"],
        },
    )
    assert mixed.status_code == 422
    assert "1 of the targeted devices" in mixed.json()["firmware_image"][0]
    ok = post(
        noc,
        {
            "operation_type": "firmware_upgrade",
            "firmware_image": image.pk,
            "target_organizations": [101],
            "device_filters": {"types": ["router"]},
        },
    )
    assert ok.status_code == 201, ok.json()
    assert ok.json()["target_device_count"] == 3
    assert ok.json()["operation_config"]["firmware_image"] == image.pk
    wrong = post(
        noc, {"operation_type": "reboot", "firmware_image": image.pk, "serial_numbers": ["RT101A"]}
    )
    assert wrong.status_code == 422


def test_name_in_several_organizations_must_be_disambiguated(noc, seed_orgs, seed_fleet, types):
    from tests.conftest import make_device

    make_device(seed_orgs[0], types["router"], "DUP1", name="edge")
    make_device(seed_orgs[1], types["router"], "DUP2", name="edge")
    response = post(noc, {"operation": "reboot", "name": "edge"})
    assert response.status_code == 422
    assert "names" in response.json()
    one = post(noc, {"operation": "reboot", "name": "edge", "target_organizations": [102]})
    assert one.status_code == 201
    assert one.json()["target_device_count"] == 1
