"""Variables (live values), settings (desired values) and the parameter catalog."""

from __future__ import annotations

import pytest

from linesman.cwmp.parameters import merge_names, merge_values
from linesman.inventory.models import Parameter, Setting
from linesman.operations.models import Operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(device_a):
    merge_names(
        device_a.pk,
        [
            {"name": "Device.WiFi.SSID.1.SSID", "writable": True},
            {"name": "Device.DeviceInfo.SerialNumber", "writable": False},
            {"name": "Device.ManagementServer.PeriodicInformInterval", "writable": True},
            {"name": "Device.WiFi.Radio.1.Channel", "writable": True},
        ],
    )
    merge_values(
        device_a.pk,
        [
            {"name": "Device.WiFi.SSID.1.SSID", "value": "home", "type": "xsd:string"},
            {"name": "Device.DeviceInfo.SerialNumber", "value": "ZEQ1", "type": "xsd:string"},
            {
                "name": "Device.ManagementServer.PeriodicInformInterval",
                "value": "300",
                "type": "xsd:unsignedInt",
            },
            {"name": "Device.WiFi.Radio.1.Channel", "value": "6", "type": "xsd:unsignedInt"},
        ],
    )
    return device_a


def test_variables_list_filter_and_twins(viewer_a, reported):
    body = viewer_a.client.get(f"/api/v1/inventory_device_variables/{reported.pk}/").json()
    assert body["count"] == 4
    item = next(v for v in body["results"] if v["variable_name"] == "Device.WiFi.SSID.1.SSID")
    assert item == {**item, "value": "home", "type": "xsd:string", "writable": True}
    wifi = viewer_a.client.get(
        f"/api/v1/inventory_device_serial_variables/{reported.serial_number}/",
        {"prefix": "Device.WiFi.SSID."},
    ).json()
    assert [v["variable_name"] for v in wifi["results"]] == ["Device.WiFi.SSID.1.SSID"]
    by_name = viewer_a.client.get(f"/api/v1/inventory_device_name_variables/{reported.name}/")
    assert by_name.status_code == 200 and by_name.json()["count"] == 4


def test_variables_put_queues_spv_and_records_no_setting(operator_a, reported):
    response = operator_a.client.put(
        f"/api/v1/inventory_device_variables/{reported.pk}/",
        {"variable_name": "Device.WiFi.Radio.1.Channel", "value": "11"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    op = Operation.objects.get(operation_id=response.json()["operation_id"])
    assert op.kind == "set"
    task = op.tasks.get()
    assert task.method == "SetParameterValues"
    assert task.args["parameters"] == [
        {"name": "Device.WiFi.Radio.1.Channel", "value": "11", "type": "xsd:unsignedInt"}
    ]
    # One-shot: variables writes are not desired configuration (settings endpoints are).
    assert not Setting.objects.filter(device=reported).exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Device.WiFi.Radio.1.Channel", "-5"),
        ("Device.WiFi.Radio.1.Channel", "often"),
        ("Device.DeviceInfo.SerialNumber", "X"),
    ],
)
def test_variables_put_checks_type_and_writability(operator_a, reported, name, value):
    response = operator_a.client.put(
        f"/api/v1/inventory_device_variables/{reported.pk}/",
        [{"variable_name": name, "value": value}],
        format="json",
    )
    assert response.status_code == 422
    assert name in response.json()["variables"]
    assert not Operation.objects.exists() and not Setting.objects.exists()


def test_variables_viewer_cannot_write_and_other_org_is_404(viewer_a, admin_b, reported):
    url = f"/api/v1/inventory_device_variables/{reported.pk}/"
    body = {"variable_name": "Device.WiFi.SSID.1.SSID", "value": "x"}
    assert viewer_a.client.put(url, body, format="json").status_code == 403
    assert admin_b.client.get(url).status_code == 404


def test_refresh_queues_a_refresh_operation(operator_a, reported):
    response = operator_a.client.get(
        f"/api/v1/inventory_device_variables/{reported.pk}/", {"refresh": "true"}
    )
    assert response.status_code == 200
    op = Operation.objects.get(operation_id=response.json()["refresh_operation_id"])
    assert op.kind == "refresh"
    assert op.tasks.get().method == "GetParameterNames"


def test_settings_put_replaces_patch_merges_and_pending_filter(operator_a, device_a):
    url = f"/api/v1/inventory_device_setting/{device_a.pk}/"
    first = operator_a.client.put(
        url,
        [
            {"variable_name": "Device.WiFi.SSID.1.SSID", "value": "a"},
            {"variable_name": "Device.Time.NTPServer1", "value": "pool.ntp.org"},
        ],
        format="json",
    )
    assert first.status_code == 200 and len(first.json()) == 2
    patched = operator_a.client.patch(
        url, {"variable_name": "Device.WiFi.SSID.1.SSID", "value": "b"}, format="json"
    )
    assert {s["variable_name"]: s["value"] for s in patched.json()} == {
        "Device.WiFi.SSID.1.SSID": "b",
        "Device.Time.NTPServer1": "pool.ntp.org",
    }
    replaced = operator_a.client.put(
        url, [{"variable_name": "Device.Time.NTPServer1", "value": "x"}], format="json"
    )
    assert [s["variable_name"] for s in replaced.json()] == ["Device.Time.NTPServer1"]
    Setting.objects.update(pending=False)
    listed = operator_a.client.get(
        "/api/v1/inventory_device_setting/", {"parent_id": device_a.pk, "pending": "true"}
    )
    assert listed.json()["count"] == 0
    detail = operator_a.client.get(f"/api/v1/inventory_device/{device_a.pk}/").json()
    assert detail["pending_settings"] is None


def test_settings_bad_type_is_422(operator_a, device_a):
    response = operator_a.client.patch(
        f"/api/v1/inventory_device_setting/{device_a.pk}/",
        {"variable_name": "Device.X.Enable", "value": "maybe", "type": "xsd:boolean"},
        format="json",
    )
    assert response.status_code == 422


def test_settings_are_invisible_across_organizations(admin_b, device_a, operator_a):
    operator_a.client.patch(
        f"/api/v1/inventory_device_setting/{device_a.pk}/",
        {"variable_name": "Device.A", "value": "1"},
        format="json",
    )
    listed = admin_b.client.get(f"/api/v1/inventory_device_setting/?parent_id={device_a.pk}")
    assert listed.json()["count"] == 0
    assert (
        admin_b.client.patch(
            f"/api/v1/inventory_device_setting/{device_a.pk}/",
            {"variable_name": "Device.A", "value": "2"},
            format="json",
        ).status_code
        == 404
    )


def test_parameter_catalog_read_by_all_written_by_superusers(viewer_a, admin_a, superuser):
    body = {
        "name": "SSID",
        "variable_name": "Device.WiFi.SSID.1.SSID",
        "group": "wifi",
        "data_type": "xsd:string",
    }
    assert (
        admin_a.client.post("/api/v1/inventory_parameter/", body, format="json").status_code == 403
    )
    assert (
        superuser.client.post("/api/v1/inventory_parameter/", body, format="json").status_code
        == 201
    )
    Parameter.objects.create(
        name="Uptime",
        variable_name="Device.DeviceInfo.UpTime",
        group="system",
        metric=True,
        read_only=True,
    )
    wifi = viewer_a.client.get("/api/v1/inventory_parameter/", {"group": "wifi"}).json()
    assert [p["variable_name"] for p in wifi["results"]] == ["Device.WiFi.SSID.1.SSID"]
