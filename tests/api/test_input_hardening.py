"""Values and input (issue 12): what XML 1.0 cannot carry and lone surrogates are refused
with a 400 naming the field at every API entry point, and a 500 leaves nothing behind."""

from __future__ import annotations

import json
import os

import pytest

from linesman.audit.models import AuditEntry
from linesman.inventory.models import Device, DeviceType, Setting
from linesman.operations.bulk.models import BulkJob
from linesman.operations.models import Operation

pytestmark = pytest.mark.django_db

BAD = "ab\u0001cd"
SSID = "Device.WiFi.SSID.1.SSID"
BULK = "/api/v1/inventory_device_serial_headless_operation/"


def _names_field(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert "U+0001" in json.dumps(body) or "surrogate" in json.dumps(body), body


def test_variables_put_refuses_a_control_character(operator_a, device_a):
    response = operator_a.client.put(
        f"/api/v1/inventory_device_variables/{device_a.pk}/",
        {"variable_name": SSID, "value": BAD},
        format="json",
    )
    _names_field(response, "value")
    assert not Operation.objects.exists()
    assert not Setting.objects.exists()


def test_variables_put_list_names_the_item(operator_a, device_a):
    response = operator_a.client.put(
        f"/api/v1/inventory_device_serial_variables/{device_a.serial_number}/",
        [{"variable_name": SSID, "value": "fine"}, {"variable_name": SSID, "value": BAD}],
        format="json",
    )
    _names_field(response, "[1].value")
    assert not Operation.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_settings_refuse_a_control_character(operator_a, device_a, method):
    response = getattr(operator_a.client, method)(
        f"/api/v1/inventory_device_setting/{device_a.pk}/",
        {"settings": [{"variable_name": SSID, "value": BAD}]},
        format="json",
    )
    _names_field(response, "settings[0].value")
    assert not Setting.objects.exists()


def test_type_settings_template_refuses_a_control_character(superuser, device_type):
    response = superuser.client.post(
        "/api/v1/inventory_type/",
        {"short_name": "t", "name": "T", "settings_template": {SSID: BAD}},
        format="json",
    )
    _names_field(response, f"settings_template.{SSID}")
    assert not DeviceType.objects.filter(short_name="t").exists()
    response = superuser.client.patch(
        f"/api/v1/inventory_type/{device_type.pk}/",
        {"settings_template": {SSID: BAD}},
        format="json",
    )
    _names_field(response, f"settings_template.{SSID}")
    device_type.refresh_from_db()
    assert device_type.settings_template == {}


def test_bulk_set_job_refuses_a_control_character(operator_a, device_a):
    body = {
        "serial_number": device_a.serial_number,
        "operation": "set",
        "variables": [{"variable_name": SSID, "value": BAD}],
    }
    _names_field(operator_a.client.post(BULK, body, format="json"), "variables[0].value")
    # The seed's `data` form carries the body as a JSON string, parsed past the parser.
    as_text = {"data": json.dumps({**body, "variables": [{"variable_name": SSID, "value": "x"}]})}
    as_text["data"] = as_text["data"].replace('"x"', '"x\\u0001"')
    _names_field(operator_a.client.post(BULK, as_text, format="json"), "variables[0].value")
    surrogate = {"data": as_text["data"].replace("\\u0001", "\\ud800")}
    _names_field(operator_a.client.post(BULK, surrogate, format="json"), "variables[0].value")
    assert not BulkJob.objects.exists()


@pytest.mark.parametrize("field", ["name", "serial_number", "customer_id", "description"])
def test_device_fields_refuse_control_characters(admin_a, org_a, device_type, device_a, field):
    body = {"name": "r-new", "serial_number": "SN-NEW", "type": device_type.pk}
    response = admin_a.client.post(
        "/api/v1/inventory_device/",
        {**body, "organization_id": org_a.pk, field: BAD},
        format="json",
    )
    _names_field(response, field)
    assert Device.objects.count() == 1
    response = admin_a.client.patch(
        f"/api/v1/inventory_device/{device_a.pk}/", {field: BAD}, format="json"
    )
    _names_field(response, field)
    device_a.refresh_from_db()
    assert BAD not in (getattr(device_a, field, "") or "")


def test_form_bodies_are_checked_too(superuser):
    response = superuser.client.post("/api/v1/organization/", {"name": BAD}, format="multipart")
    _names_field(response, "name")
    response = superuser.client.post(
        "/api/v1/organization/",
        "name=ab%01cd",
        content_type="application/x-www-form-urlencoded",
    )
    _names_field(response, "name")


def _raw_post(actor, url: str, text: str):
    return actor.client.generic("POST", url, text.encode(), content_type="application/json")


def test_lone_surrogate_in_a_settings_template_is_400_and_nothing_changes(superuser, org_a):
    before = (DeviceType.objects.count(), AuditEntry.objects.count())
    body = '{"short_name": "t", "name": "T", "settings_template": {"Device.X": "x\\ud800y"}}'
    response = _raw_post(superuser, "/api/v1/inventory_type/", body)
    _names_field(response, "settings_template.Device.X")
    assert (DeviceType.objects.count(), AuditEntry.objects.count()) == before
    # The reads that used to fail on the saved row keep working.
    assert (
        superuser.client.get(f"/api/v1/inventory_type/?organization={org_a.pk}").status_code == 200
    )
    assert superuser.client.get("/api/v1/audit_log/").status_code == 200


def test_lone_surrogate_in_a_key_is_400(superuser):
    body = '{"short_name": "t", "name": "T", "settings_template": {"Device.\\udfff": "1"}}'
    response = _raw_post(superuser, "/api/v1/inventory_type/", body)
    _names_field(response, "settings_template")
    assert not DeviceType.objects.filter(short_name="t").exists()


def test_a_valid_surrogate_pair_is_text_like_any_other(superuser):
    body = '{"short_name": "t", "name": "T \\ud83d\\ude00", "settings_template": {}}'
    response = _raw_post(superuser, "/api/v1/inventory_type/", body)
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "T \U0001f600"


@pytest.mark.parametrize("query", ["serial_number=%00", "serial_number=a%01b", "x%00=1"])
def test_query_strings_with_control_characters_are_400(viewer_a, query):
    response = viewer_a.client.get(f"/api/v1/inventory_device/?{query}")
    assert response.status_code == 400
    assert response.json()


def test_a_500_during_a_write_leaves_no_row(superuser, monkeypatch):
    """The reported path, with DRF's stock parser and renderer put back on the view (the
    set-up before this change): the type is saved, then rendering the answer fails (500).
    The write's transaction is rolled back whole: no type, no audit entry."""
    from rest_framework.parsers import JSONParser
    from rest_framework.renderers import JSONRenderer

    from linesman.inventory.api.views import DeviceTypeViewSet

    monkeypatch.setattr(DeviceTypeViewSet, "parser_classes", [JSONParser])
    monkeypatch.setattr(DeviceTypeViewSet, "renderer_classes", [JSONRenderer])
    superuser.client.raise_request_exception = False
    before = AuditEntry.objects.count()
    body = '{"short_name": "t", "name": "T", "settings_template": {"Device.X": "x\\ud800y"}}'
    response = _raw_post(superuser, "/api/v1/inventory_type/", body)
    assert response.status_code == 500
    assert not DeviceType.objects.filter(short_name="t").exists()
    assert AuditEntry.objects.count() == before


def test_the_cli_refuses_control_characters_in_device_fields(org_a, device_type):
    """The local CLI feeds the API's device serializer without the API's parsers."""
    from click.testing import CliRunner

    from linesman.cli.main import main

    result = CliRunner().invoke(
        main,
        ["devices", "create", "--serial", "NEW1", "--name", BAD, "--type", "enterprise_router"]
        + ["--org", "Org A"],
        env={"LINESMAN_URL": "", "LINESMAN_TOKEN": ""},
    )
    assert result.exit_code == 1, result.output
    assert "name" in result.stderr and "U+0001" in result.stderr
    assert not Device.objects.filter(serial_number="NEW1").exists()


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL cannot store a lone surrogate, so such rows exist only on SQLite",
)
def test_rows_stored_before_the_check_still_render(superuser, org_a):
    """A lone surrogate already in a JSON column (escaped there) reads back as U+FFFD."""
    DeviceType.objects.create(
        organization=org_a, short_name="old", name="Old", settings_template={"Device.X": "x\ud800y"}
    )
    AuditEntry.objects.create(
        action="update", object_type="devicetype", changes={"Device.X": [None, "x\udfffy"]}
    )
    response = superuser.client.get(f"/api/v1/inventory_type/?organization={org_a.pk}")
    assert response.status_code == 200
    assert response.json()["results"][0]["settings_template"] == {"Device.X": "x\ufffdy"}
    response = superuser.client.get("/api/v1/audit_log/")
    assert response.status_code == 200
    assert response.json()["results"][0]["changes"] == {"Device.X": [None, "x\ufffdy"]}


def test_the_admin_refuses_control_characters(db):
    """The Django admin edits the same rows (a type's template, settings) without the API."""
    from django.test import Client

    from linesman.tenancy import services as tenancy

    client = Client()
    client.force_login(tenancy.create_user("staff", superuser=True))
    response = client.post(
        "/admin/inventory/devicetype/add/",
        {"short_name": "t", "name": "T", "settings_template": '{"Device.X": "ab\\u0001cd"}'},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "U+0001" in response.content.decode()
    assert not DeviceType.objects.filter(short_name="t").exists()
    response = client.post(
        "/admin/inventory/devicetype/add/",
        {"short_name": "t", "name": "T", "settings_template": '{"Device.X": "fine"}'},
    )
    assert response.status_code == 302
    assert DeviceType.objects.get(short_name="t").settings_template == {"Device.X": "fine"}
