"""Editing a writable parameter in place on the device page (issue 14): the settings API's
rules (desired state, pending until confirmed, types, managed parameters, secrets), the
operator role checked on the server, and a `set` operation that sends it."""

from __future__ import annotations

import pytest

from linesman.cwmp import parameters
from linesman.inventory.models import Setting
from linesman.operations.models import Operation, OperationState

pytestmark = pytest.mark.django_db

SSID = "Device.WiFi.SSID.1.SSID"
MODEL = "Device.DeviceInfo.ModelName"
INTERVAL = "Device.ManagementServer.PeriodicInformInterval"
KEY = "Device.WiFi.AccessPoint.1.Security.KeyPassphrase"


@pytest.fixture
def tree(device_a):
    parameters.merge_names(
        device_a.pk,
        [
            {"name": SSID, "writable": True},
            {"name": MODEL, "writable": False},
            {"name": INTERVAL, "writable": True},
            {"name": KEY, "writable": True},
            {"name": "Device.WiFi.Radio.1.Channel", "writable": True},
        ],
    )
    parameters.merge_values(
        device_a.pk,
        [
            {"name": SSID, "value": "Office", "type": "xsd:string"},
            {"name": MODEL, "value": "HGW", "type": "xsd:string"},
            {"name": INTERVAL, "value": "300", "type": "xsd:unsignedInt"},
            {"name": KEY, "value": "old-secret", "type": "xsd:string"},
            {"name": "Device.WiFi.Radio.1.Channel", "value": "6", "type": "xsd:unsignedInt"},
        ],
    )
    return device_a


def set_url(device) -> str:
    return f"/ui/devices/{device.pk}/parameters/set/"


def test_operator_sees_edit_buttons_on_writable_parameters_only(login, operator_a, tree):
    page = login(operator_a).get(f"/ui/devices/{tree.pk}/").content.decode()
    assert f'data-edit="{SSID}" data-value="Office"' in page
    assert f'data-edit="{MODEL}"' not in page
    assert 'id="param-edit-template"' in page
    # A secret's value is never put in the page, not even in the edit button.
    assert "old-secret" not in page


def test_viewer_gets_no_edit_buttons_and_a_403(login, viewer_a, tree):
    client = login(viewer_a)
    page = client.get(f"/ui/devices/{tree.pk}/").content.decode()
    assert "data-edit=" not in page and "param-edit-template" not in page
    response = client.post(set_url(tree), {"variable_name": SSID, "value": "Guest"})
    assert response.status_code == 403
    assert not Setting.objects.exists() and not Operation.objects.exists()


def test_edit_records_a_pending_setting_and_sends_it(login, operator_a, tree):
    client = login(operator_a)
    response = client.post(set_url(tree), {"variable_name": SSID, "value": "Guest"})
    assert response.status_code == 302
    setting = Setting.objects.get(device=tree, variable_name=SSID)
    assert (setting.value, setting.pending, setting.type) == ("Guest", True, "xsd:string")
    op = Operation.objects.get(device=tree)
    assert op.kind == "set" and op.state == OperationState.INITIATED
    assert op.params["variables"] == [
        {"variable_name": SSID, "value": "Guest", "type": "xsd:string"}
    ]
    assert op.initiated_by_name == operator_a.user.username
    page = client.get(f"/ui/devices/{tree.pk}/").content.decode()
    assert "→ Guest pending" in page  # next to the reported value, until confirmed
    assert "pending until the device confirms it" in page


def test_device_busy_keeps_the_setting_pending(login, operator_a, tree):
    Operation.objects.create(device=tree, kind="reboot", state=OperationState.IN_PROGRESS)
    client = login(operator_a)
    client.post(set_url(tree), {"variable_name": SSID, "value": "Guest"})
    assert Setting.objects.get(device=tree, variable_name=SSID).pending
    assert Operation.objects.filter(device=tree).count() == 1
    page = client.get(f"/ui/devices/{tree.pk}/").content.decode()
    assert "is pending" in page and "next reconfiguration" in page


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        (MODEL, "X", "not a writable parameter"),
        ("Device.Nope", "X", "not a writable parameter"),
        ("Device.WiFi.Radio.1.Channel", "eleven", "Not changed"),  # not an unsignedInt
        (INTERVAL, "60", "Not changed"),  # managed by the ACS: update_frequency
    ],
)
def test_refused_edits_change_nothing(login, operator_a, tree, name, value, problem):
    client = login(operator_a)
    response = client.post(set_url(tree), {"variable_name": name, "value": value}, follow=True)
    assert response.status_code == 200 and problem in response.content.decode()
    assert not Setting.objects.exists() and not Operation.objects.exists()


def test_secret_marker_written_back_keeps_the_secret(login, operator_a, tree):
    Setting.objects.create(device=tree, variable_name=KEY, value="stored-secret", pending=False)
    client = login(operator_a)
    client.post(set_url(tree), {"variable_name": KEY, "value": "********"})
    assert Setting.objects.get(variable_name=KEY).value == "stored-secret"
    assert not Operation.objects.exists()


def test_other_organization_is_not_found(login, admin_b, tree):
    response = login(admin_b).post(set_url(tree), {"variable_name": SSID, "value": "x"})
    assert response.status_code == 404


def test_the_device_confirms_the_edit_in_its_next_session(login, operator_a, org_a, device_type):
    """Through the ACS with a scripted device: the set operation sends the value, the
    device accepts it, and the setting stops being pending."""
    from linesman.core import crypto
    from linesman.cwmp import soap
    from tests.conftest import make_device
    from tests.cwmp.acs_client import ScriptedCpe

    device = make_device(
        org_a, device_type, "CPE0014", username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    parameters.merge_names(device.pk, [{"name": SSID, "writable": True}])
    parameters.merge_values(device.pk, [{"name": SSID, "value": "Office", "type": "xsd:string"}])
    login(operator_a).post(set_url(device), {"variable_name": SSID, "value": "Guest"})
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform("CPE0014", events=("6 CONNECTION REQUEST",)).status_code == 200
    sent = []
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        if isinstance(request, soap.SetParameterValues):
            sent += [(p.name, p.value) for p in request.parameters]
            reply = soap.SetParameterValuesResponse(0)
        elif isinstance(request, soap.GetParameterNames):
            reply = soap.GetParameterNamesResponse([soap.ParameterInfo(SSID, True)])
        else:
            reply = soap.GetParameterValuesResponse(
                [soap.ParameterValue(n, "Guest") for n in request.names]
            )
        response = cpe.post(reply)
    assert (SSID, "Guest") in sent
    setting = Setting.objects.get(device=device, variable_name=SSID)
    assert setting.pending is False and setting.applied is not None
    assert Operation.objects.get(device=device, kind="set").state == OperationState.COMPLETED
