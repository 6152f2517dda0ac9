"""Settings by name and serial (`inventory_device_name_setting/`,
`inventory_device_serial_setting/`), the required parent of each list, and the
`parameter_*` and `pending` filters all three share."""

from __future__ import annotations

import pytest

from linesman.audit.models import AuditEntry
from linesman.inventory.models import Parameter, Setting
from tests.conftest import make_device

pytestmark = pytest.mark.usefixtures("no_static_finders")

BY_ID = "/api/v1/inventory_device_setting/"
BY_NAME = "/api/v1/inventory_device_name_setting/"
BY_SERIAL = "/api/v1/inventory_device_serial_setting/"
SSID = "Device.WiFi.SSID.1.SSID"
ENABLE = "Device.WiFi.Radio.1.Enable"


@pytest.fixture
def catalog(db):
    ssid = Parameter.objects.create(name="Wi-Fi name", variable_name=SSID, short_name="ssid")
    enable = Parameter.objects.create(
        name="Radio enabled", variable_name=ENABLE, short_name="radio", data_type="xsd:boolean"
    )
    return ssid, enable


@pytest.fixture
def stored(device_a, catalog):
    Setting.objects.create(device=device_a, variable_name=SSID, value="home", pending=True)
    Setting.objects.create(
        device=device_a, variable_name=ENABLE, value="true", type="xsd:boolean", pending=False
    )
    return device_a


def _paths(response):
    assert response.status_code == 200, response.content
    return sorted(s["variable_name"] for s in response.json()["results"])


def test_each_list_requires_its_parent(viewer_a, stored):
    for url, key in (
        (BY_ID, "parent_id"),
        (BY_NAME, "parent__name"),
        (BY_SERIAL, "parent__serial_number"),
    ):  # noqa: E501
        response = viewer_a.client.get(url)
        assert response.status_code == 400, url
        assert key in response.json()


def test_lists_by_id_name_and_serial_agree(viewer_a, stored):
    expected = [ENABLE, SSID]
    assert _paths(viewer_a.client.get(BY_ID, {"parent_id": stored.pk})) == expected
    assert _paths(viewer_a.client.get(BY_NAME, {"parent__name": stored.name})) == expected
    by_serial = viewer_a.client.get(BY_SERIAL, {"parent__serial_number": stored.serial_number})
    assert _paths(by_serial) == expected
    assert by_serial.json()["results"][0]["parent_id"] == stored.pk
    assert _paths(viewer_a.client.get(BY_NAME, {"parent__name": "no-such"})) == []


@pytest.mark.parametrize("url", [BY_ID, BY_NAME, BY_SERIAL])
def test_parameter_and_pending_filters(viewer_a, stored, catalog, url):
    ssid, enable = catalog
    parent = {
        BY_ID: {"parent_id": stored.pk},
        BY_NAME: {"parent__name": stored.name},
        BY_SERIAL: {"parent__serial_number": stored.serial_number},
    }[url]

    def paths(**query):
        return _paths(viewer_a.client.get(url, {**parent, **query}))

    assert paths(parameter_id=ssid.pk) == [SSID]
    assert paths(parameter__variable_name=ENABLE) == [ENABLE]
    assert paths(parameter__name="Wi-Fi name") == [SSID]
    assert paths(parameter__short_name="radio") == [ENABLE]
    assert paths(pending="true") == [SSID]
    assert paths(pending="false") == [ENABLE]
    assert paths(parameter__short_name="nothing") == []
    bad = viewer_a.client.get(url, {**parent, "parameter_id": "x"})
    assert bad.status_code == 400 and "parameter_id" in bad.json()


def test_lists_hide_other_organizations(admin_b, stored):
    assert _paths(admin_b.client.get(BY_NAME, {"parent__name": stored.name})) == []
    serial = {"parent__serial_number": stored.serial_number}
    assert _paths(admin_b.client.get(BY_SERIAL, serial)) == []


@pytest.mark.parametrize("key", ["name", "serial"])
def test_put_and_patch_by_name_and_serial(operator_a, viewer_a, admin_b, device_a, key):
    url = (BY_NAME + device_a.name if key == "name" else BY_SERIAL + device_a.serial_number) + "/"
    patched = operator_a.client.patch(url, {"variable_name": SSID, "value": "x"}, format="json")
    assert patched.status_code == 200, patched.content
    assert [(s["variable_name"], s["value"], s["pending"]) for s in patched.json()] == [
        (SSID, "x", True)
    ]
    put = operator_a.client.put(url, [{"variable_name": ENABLE, "value": "1"}], format="json")
    assert put.status_code == 200
    assert list(Setting.objects.filter(device=device_a).values_list("variable_name", "value")) == [
        (ENABLE, "1")
    ]
    assert AuditEntry.objects.filter(device_id=device_a.pk, message="settings replaced").exists()
    assert viewer_a.client.get(url).status_code == 200
    assert [s["variable_name"] for s in viewer_a.client.get(url).json()] == [ENABLE]
    body = {"variable_name": SSID, "value": "y"}
    assert viewer_a.client.patch(url, body, format="json").status_code == 403
    assert admin_b.client.patch(url, body, format="json").status_code == 404
    bad = {"variable_name": ENABLE, "value": "maybe", "type": "xsd:boolean"}
    assert operator_a.client.patch(url, bad, format="json").status_code == 422


def test_a_name_shared_by_two_visible_devices_is_a_conflict(
    superuser, org_b, device_type, device_a
):
    """Names are unique within an organization; a superuser sees every organization's."""
    make_device(org_b, device_type, "TWIN0002", name=device_a.name)
    response = superuser.client.patch(
        f"{BY_NAME}{device_a.name}/", {"variable_name": SSID, "value": "x"}, format="json"
    )
    assert response.status_code == 409
    assert not Setting.objects.exists()


def test_unknown_name_or_serial_is_404(operator_a, db):
    body = {"variable_name": SSID, "value": "x"}
    assert operator_a.client.patch(f"{BY_NAME}nobody/", body, format="json").status_code == 404
    assert operator_a.client.put(f"{BY_SERIAL}NOPE/", [body], format="json").status_code == 404
