"""Adding and deleting object instances from the device page (issue 14): only where the
device's GetParameterNames said the object is writable, operators only, through an
add.obj/del.obj operation that reads the tree again afterwards."""

from __future__ import annotations

import pytest

from linesman.core import crypto
from linesman.cwmp import parameters, soap
from linesman.cwmp.models import DeviceParameters
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe

pytestmark = pytest.mark.django_db

TABLE = "Device.WiFi.SSID."
INSTANCE = "Device.WiFi.SSID.2."
FIXED = "Device.DeviceInfo."


@pytest.fixture
def device(org_a, device_type):
    device = make_device(
        org_a, device_type, "OBJ0001", username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    parameters.merge_names(
        device.pk,
        [
            {"name": TABLE, "writable": True},
            {"name": "Device.WiFi.SSID.1.", "writable": False},
            {"name": INSTANCE, "writable": True},
            {"name": FIXED, "writable": False},
            {"name": "Device.WiFi.SSID.1.SSID", "writable": True},
            {"name": "Device.WiFi.SSID.2.SSID", "writable": True},
            {"name": "Device.DeviceInfo.ModelName", "writable": False},
        ],
    )
    return device


def url(device) -> str:
    return f"/ui/devices/{device.pk}/objects/"


def test_buttons_only_where_the_data_model_allows(login, operator_a, viewer_a, device):
    page = login(operator_a).get(f"/ui/devices/{device.pk}/").content.decode()
    assert f'data-object-action="add" data-object="{TABLE}"' in page
    assert f'data-object-action="delete" data-object="{INSTANCE}"' in page
    assert 'data-object="Device.WiFi.SSID.1."' not in page  # instance 1 is not deletable
    assert f'data-object="{FIXED}"' not in page
    assert (
        "data-object-action"
        not in login(viewer_a).get(f"/ui/devices/{device.pk}/").content.decode()
    )


def test_viewer_is_refused(login, viewer_a, device):
    response = login(viewer_a).post(url(device), {"action": "add", "object_name": TABLE})
    assert response.status_code == 403 and not Operation.objects.exists()


@pytest.mark.parametrize(
    ("action", "name"),
    [
        ("add", FIXED),  # not writable
        ("add", INSTANCE),  # an instance takes no AddObject
        ("delete", TABLE),  # a table is not an instance
        ("delete", "Device.WiFi.SSID.1."),  # not writable
        ("explode", TABLE),
        ("add", "Device.Nope."),
    ],
)
def test_refused_object_changes_start_nothing(login, operator_a, device, action, name):
    response = login(operator_a).post(
        url(device), {"action": action, "object_name": name}, follow=True
    )
    assert response.status_code == 200 and "Not changed" in response.content.decode()
    assert not Operation.objects.exists()


def test_delete_asks_first(login, operator_a, device):
    client = login(operator_a)
    asked = client.post(url(device), {"action": "delete", "object_name": INSTANCE})
    assert asked.status_code == 200 and f"Delete {INSTANCE}" in asked.content.decode()
    assert not Operation.objects.exists()


def answer(request):
    if isinstance(request, soap.AddObject):
        return soap.AddObjectResponse(3, 0)
    if isinstance(request, soap.DeleteObject):
        return soap.DeleteObjectResponse(0)
    if isinstance(request, soap.GetParameterNames):
        return soap.GetParameterNamesResponse(
            [soap.ParameterInfo("Device.WiFi.SSID.1.SSID", True), soap.ParameterInfo(TABLE, True)]
        )
    if isinstance(request, soap.GetParameterValues):
        return soap.GetParameterValuesResponse([soap.ParameterValue(n, "x") for n in request.names])
    if isinstance(request, soap.SetParameterValues):
        return soap.SetParameterValuesResponse(0)
    raise AssertionError(f"unexpected {request}")


def session(serial: str) -> list:
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(serial, events=("6 CONNECTION REQUEST",)).status_code == 200
    sent, response = [], cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        sent.append(request)
        response = cpe.post(answer(request))
    return sent


def test_delete_reaches_the_device_and_forgets_the_instance(login, operator_a, device):
    from django.utils import timezone

    device.last_connection = timezone.now()  # not a first contact: no bootstrap in the way
    device.is_active = True
    device.connection_request_username = "cr-obj"
    device.save(update_fields=["last_connection", "is_active", "connection_request_username"])
    client = login(operator_a)
    client.post(url(device), {"action": "delete", "object_name": INSTANCE, "confirmed": "on"})
    op = Operation.objects.get(device=device)
    assert op.kind == "del.obj" and op.params["steps"] == ["del.obj", "refresh"]
    sent = session(device.serial_number)
    assert any(isinstance(r, soap.DeleteObject) and r.object_name == INSTANCE for r in sent)
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED
    row = DeviceParameters.objects.get(device=device)
    assert not [k for k in row.values if k.startswith(INSTANCE)]
    assert INSTANCE not in row.object_writable


def test_add_reaches_the_device(login, operator_a, device):
    login(operator_a).post(url(device), {"action": "add", "object_name": TABLE})
    op = Operation.objects.get(device=device)
    assert op.kind == "add.obj" and op.params["variables"] == [{"variable_name": TABLE}]
