"""The parameter catalogue (`inventory_parameter/`) fills itself from what devices report:
paths and writability from GetParameterNames, types from the values read, per device type."""

from __future__ import annotations

import pytest

from linesman.core import crypto
from linesman.cwmp import soap
from linesman.inventory.models import DeviceType, Parameter
from linesman.operations import services as operations
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_acs_session import default_answer, finish_session

pytestmark = pytest.mark.usefixtures("no_static_finders")

URL = "/api/v1/inventory_parameter/"
NAMES = [
    ("Device.DeviceInfo.SoftwareVersion", False),
    ("Device.WiFi.SSID.1.SSID", True),
    ("Device.WiFi.Radio.1.Enable", True),
    ("Device.WiFi.", False),  # an object: not a parameter
]
TYPES = {"Device.WiFi.Radio.1.Enable": "xsd:boolean"}


def _answer(request):
    if isinstance(request, soap.GetParameterNames):
        return soap.GetParameterNamesResponse([soap.ParameterInfo(n, w) for n, w in NAMES])
    if isinstance(request, soap.GetParameterValues):
        return soap.GetParameterValuesResponse(
            [soap.ParameterValue(n, "1", TYPES.get(n, "xsd:string")) for n in request.names]
        )
    return default_answer(request)


def _sync(device, admin, serial):
    operations.start_operation(device=device, kind="sync", user=admin.user)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(serial, events=("6 CONNECTION REQUEST",)).status_code == 200
    finish_session(cpe, _answer)


@pytest.fixture
def reporting(org_a, device_type):
    return make_device(
        org_a, device_type, "CAT0001", username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def test_a_sync_fills_the_catalogue_for_the_device_type(reporting, device_type, admin_a, viewer_a):
    _sync(reporting, admin_a, "CAT0001")

    body = viewer_a.client.get(URL, {"type": device_type.pk}).json()
    got = {p["variable_name"]: p for p in body["results"]}
    assert set(got) == {n for n, _ in NAMES if not n.endswith(".")}
    assert got["Device.DeviceInfo.SoftwareVersion"]["read_only"] is True
    assert got["Device.WiFi.SSID.1.SSID"]["read_only"] is False
    assert got["Device.WiFi.SSID.1.SSID"]["short_name"] == "SSID"
    assert got["Device.WiFi.Radio.1.Enable"]["data_type"] == "xsd:boolean"
    read_only = viewer_a.client.get(URL, {"type": device_type.pk, "read_only": "true"}).json()
    assert [p["variable_name"] for p in read_only["results"]] == [
        "Device.DeviceInfo.SoftwareVersion"
    ]
    other = DeviceType.objects.create(short_name="other", name="Other")
    assert viewer_a.client.get(URL, {"type": other.pk}).json()["count"] == 0


def test_a_second_report_adds_the_type_without_duplicates_or_losing_edits(
    reporting, org_a, admin_a, device_type
):
    _sync(reporting, admin_a, "CAT0001")
    Parameter.objects.filter(variable_name="Device.WiFi.SSID.1.SSID").update(
        name="Wi-Fi network name", group="wifi", metric=False
    )
    second_type = DeviceType.objects.create(short_name="gw2", name="Gateway 2")
    other = make_device(
        org_a, second_type, "CAT0002", username="cpe2", password_encrypted=crypto.encrypt("pw")
    )
    operations.start_operation(device=other, kind="sync", user=admin_a.user)
    cpe = ScriptedCpe("cpe2", "pw")
    assert cpe.inform("CAT0002", events=("6 CONNECTION REQUEST",)).status_code == 200
    finish_session(cpe, _answer)

    assert Parameter.objects.count() == 3
    ssid = Parameter.objects.get(variable_name="Device.WiFi.SSID.1.SSID")
    assert (ssid.name, ssid.group) == ("Wi-Fi network name", "wifi")
    assert set(ssid.device_types.values_list("pk", flat=True)) == {device_type.pk, second_type.pk}


def test_type_filter_only_names_visible_types(reporting, org_b, admin_a, admin_b, viewer_a):
    private_b = DeviceType.objects.create(organization=org_b, short_name="b_only", name="B")
    Parameter.objects.create(name="x", variable_name="Device.X").device_types.add(private_b)
    assert admin_b.client.get(URL, {"type": private_b.pk}).json()["count"] == 1
    assert viewer_a.client.get(URL, {"type": private_b.pk}).json()["count"] == 0
    bad = viewer_a.client.get(URL, {"type": "x"})
    assert bad.status_code == 400 and "type" in bad.json()
