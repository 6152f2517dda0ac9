"""Parameter attributes as operations (set.attr, get.attr) through the API, by id, name
and serial; stored as desired and re-applied at bootstrap; and an active notification's
4 VALUE CHANGE reaching a webhook. Driven by a scripted CPE through the full Django stack."""

from __future__ import annotations

import pytest

from linesman.core import crypto
from linesman.cwmp import soap
from linesman.operations.models import DesiredAttribute, Operation
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.usefixtures("no_static_finders")

SERIAL = "ATTR0001"
SSID = "Device.WiFi.SSID.1.SSID"


@pytest.fixture
def device(org_a, device_type, django_capture_on_commit_callbacks):
    device = make_device(
        org_a,
        device_type,
        SERIAL,
        name="attr-1",
        username="cpe",
        password_encrypted=crypto.encrypt("pw"),
    )
    session(("0 BOOTSTRAP", "1 BOOT"))  # first contact: bootstrap provisioning
    return device


def answer(request):
    if isinstance(request, soap.SetParameterValues):
        return soap.SetParameterValuesResponse(0)
    if isinstance(request, soap.SetParameterAttributes):
        return soap.SetParameterAttributesResponse()
    if isinstance(request, soap.GetParameterAttributes):
        return soap.GetParameterAttributesResponse(
            [soap.ParameterAttribute(n, 2, ["Subscriber"]) for n in request.names]
        )
    if isinstance(request, soap.GetParameterValues):
        return soap.GetParameterValuesResponse([soap.ParameterValue(n, "v") for n in request.names])
    if isinstance(request, soap.GetParameterNames):  # the tree read after first contact
        return soap.GetParameterNamesResponse(
            [soap.ParameterInfo("Device.DeviceInfo.SoftwareVersion", False)]
        )
    raise AssertionError(f"unexpected {request}")


def session(events=("6 CONNECTION REQUEST",), params=None) -> list[soap.Message]:
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=events, params=params).status_code == 200
    received = []
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        received.append(request)
        response = cpe.post(answer(request))
    assert response.status_code == 204
    return received


@pytest.mark.parametrize(
    "path", ["inventory_device_attributes/{pk}/", "inventory_device_serial_attributes/{serial}/"]
)
def test_setting_active_notification_sends_it_and_stores_it_as_desired(
    operator_a, device, path, django_capture_on_commit_callbacks
):
    url = "/api/v1/" + path.format(pk=device.pk, serial=SERIAL)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_a.client.put(
            url, [{"variable_name": SSID, "notification": "active"}], format="json"
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["attributes"] == [{"variable_name": SSID, "notification": "active"}]

    sent = [m for m in session() if isinstance(m, soap.SetParameterAttributes)]

    assert [(p.name, p.notification_change, p.notification, p.access_list_change)
            for m in sent for p in m.parameters] == [(SSID, True, 2, False)]  # fmt: skip
    op = Operation.objects.get(operation_id=body["operation_id"])
    assert (op.kind, op.state) == ("set.attr", "completed")
    shown = operator_a.client.get(f"/api/v1/inventory_device_name_attributes/{device.name}/")
    assert [(a["variable_name"], a["notification"]) for a in shown.json()["attributes"]] == [
        (SSID, "active")
    ]


def test_reading_attributes_puts_them_in_the_operation_output(operator_a, device):
    response = operator_a.client.get(
        f"/api/v1/inventory_device_attributes/{device.pk}/?refresh=true&names={SSID}"
    )
    assert response.status_code == 200, response.content
    received = session()
    assert [m.names for m in received if isinstance(m, soap.GetParameterAttributes)] == [[SSID]]
    op = Operation.objects.get(operation_id=response.json()["refresh_operation_id"])
    assert (op.kind, op.state) == ("get.attr", "completed")
    assert op.output["attributes"] == {SSID: {"notification": 2, "access_list": ["Subscriber"]}}


def test_desired_attributes_are_reapplied_after_a_factory_reset(device):
    DesiredAttribute.objects.create(device=device, variable_name=SSID, notification=1)
    received = session(("0 BOOTSTRAP", "1 BOOT"))
    spa = [m for m in received if isinstance(m, soap.SetParameterAttributes)]
    assert [(p.name, p.notification) for m in spa for p in m.parameters] == [(SSID, 1)]


@pytest.mark.parametrize(
    "body",
    [
        [{"variable_name": SSID, "notification": "loud"}],
        [{"variable_name": SSID, "notification": 3}],
        [{"variable_name": "Device.WiFi.", "notification": "active"}],
        [],
        "text",
    ],
)
def test_bad_attributes_are_400(operator_a, device, body):
    url = f"/api/v1/inventory_device_attributes/{device.pk}/"
    response = operator_a.client.put(url, body, format="json")
    assert response.status_code == 400, response.content
    assert not DesiredAttribute.objects.exists()


def test_viewers_cannot_set_and_other_organizations_see_nothing(viewer_a, admin_b, device):
    url = f"/api/v1/inventory_device_attributes/{device.pk}/"
    body = [{"variable_name": SSID, "notification": "active"}]
    assert viewer_a.client.put(url, body, format="json").status_code == 403
    assert admin_b.client.put(url, body, format="json").status_code == 404
    assert admin_b.client.get(url).status_code == 404
    assert not DesiredAttribute.objects.exists()


def test_a_value_change_reaches_a_webhook_with_the_values(
    admin_a, org_a, device, django_capture_on_commit_callbacks
):
    receiver = Receiver()
    try:
        created = admin_a.client.post(
            "/api/v1/webhook_endpoint/",
            {
                "organization_id": org_a.pk,
                "name": "values",
                "url": receiver.url,
                "event_types": ["parameter.changed"],
                "secret": "value-change-secret-0001",
            },
            format="json",
        )
        assert created.status_code == 201
        with django_capture_on_commit_callbacks(execute=True):
            session(("4 VALUE CHANGE",), params={SSID: "guest-net"})
    finally:
        receiver.close()
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.signed_by("value-change-secret-0001")
    assert got.json["type"] == "parameter.changed"
    assert got.json["data"]["values"][SSID] == "guest-net"
    assert got.json["device"]["serial_number"] == SERIAL
    # ... and the ACS stored the changed value (the live variables show it).
    variables = admin_a.client.get(
        f"/api/v1/inventory_device_variables/{device.pk}/", {"prefix": SSID}
    ).json()["results"]
    assert [(v["variable_name"], v["value"]) for v in variables] == [(SSID, "guest-net")]


def test_a_value_change_without_a_session_is_stored_too(operator_a, device):
    """A plain VALUE CHANGE Inform with nothing queued takes the ACS's session-less path."""
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("4 VALUE CHANGE",), params={SSID: "quiet"}).status_code == 200
    assert cpe.post(None).status_code == 204
    variables = operator_a.client.get(
        f"/api/v1/inventory_device_variables/{device.pk}/", {"prefix": SSID}
    ).json()["results"]
    assert [v["value"] for v in variables] == ["quiet"]
