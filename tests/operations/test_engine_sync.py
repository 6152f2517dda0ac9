"""`sync` holds what the device reports against the desired configuration: confirmed
settings follow the device, pending ones wait (or are confirmed by an equal value, booleans
as a device means them), template differences are listed for a `reconf`."""

from __future__ import annotations

import pytest

from linesman.cwmp import soap
from linesman.inventory.models import Setting
from linesman.operations import services as operations
from linesman.operations.models import Operation, OperationState
from tests.operations.cpe import session

pytestmark = pytest.mark.django_db

WIFI = "Device.WiFi.SSID.1.SSID"
ENABLE = "Device.WiFi.SSID.1.Enable"
MODE = "Device.WiFi.Radio.1.Mode"
CHANNEL = "Device.WiFi.Radio.1.Channel"
INTERVAL = "Device.ManagementServer.PeriodicInformInterval"


def sync(device, reported: dict[str, tuple[str, str]]) -> Operation:
    """Run a sync in which the device reports `reported` ({name: (value, type)})."""
    op = operations.start_operation(device=device, kind="sync")

    def answer(request):
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse([soap.ParameterInfo(n, True) for n in reported])
        if isinstance(request, soap.GetParameterValues):
            return soap.GetParameterValuesResponse(
                [soap.ParameterValue(n, *reported[n]) for n in request.names]
            )
        return None

    session(answer=answer)
    op = Operation.objects.get(pk=op.pk)
    assert op.state == OperationState.COMPLETED
    return op


def setting(device, name: str, value: str, pending: bool, type: str = "xsd:string") -> Setting:
    return Setting.objects.create(
        device=device, variable_name=name, value=value, pending=pending, type=type
    )


def test_a_confirmed_setting_follows_what_the_device_reports(device):
    setting(device, WIFI, "office", pending=False)
    op = sync(device, {WIFI: ("lobby", "xsd:string")})
    row = Setting.objects.get(device=device, variable_name=WIFI)
    assert row.value == "lobby" and not row.pending and row.applied is not None
    assert op.output["differences"] == [
        {
            "variable_name": WIFI,
            "desired": "office",
            "device": "lobby",
            "source": "setting",
            "resolution": "adopted",
        }
    ]


def test_an_adopted_value_takes_the_type_the_device_reports(device):
    setting(device, CHANNEL, "6", pending=False, type="xsd:string")
    sync(device, {CHANNEL: ("11", "xsd:unsignedInt")})
    row = Setting.objects.get(device=device, variable_name=CHANNEL)
    assert (row.value, row.type) == ("11", "xsd:unsignedInt")


def test_a_pending_setting_is_never_overwritten_by_another_value(device):
    setting(device, WIFI, "office", pending=True)
    op = sync(device, {WIFI: ("lobby", "xsd:string")})
    row = Setting.objects.get(device=device, variable_name=WIFI)
    assert row.value == "office" and row.pending and row.applied is None
    assert op.output["differences"][0]["resolution"] == "pending"
    assert op.output["differences"][0]["device"] == "lobby"


def test_a_pending_setting_the_device_already_has_is_confirmed(device):
    setting(device, WIFI, "office", pending=True)
    op = sync(device, {WIFI: ("office", "xsd:string")})
    row = Setting.objects.get(device=device, variable_name=WIFI)
    assert not row.pending and row.applied is not None
    assert op.output["differences"] == []


@pytest.mark.parametrize(
    ("stored", "reported"), [("1", "true"), ("true", "1"), ("0", "false"), ("False", " 0 ")]
)
def test_booleans_are_equal_as_the_device_means_them(device, stored, reported):
    setting(device, ENABLE, stored, pending=True, type="xsd:boolean")
    op = sync(device, {ENABLE: (reported, "xsd:boolean")})
    row = Setting.objects.get(device=device, variable_name=ENABLE)
    assert not row.pending and row.value == stored  # confirmed, the stored spelling kept
    assert op.output["differences"] == []


@pytest.mark.parametrize(("stored", "reported"), [("1", "false"), ("true", "0"), ("on", "off")])
def test_different_booleans_and_words_are_differences(device, stored, reported):
    setting(device, ENABLE, stored, pending=True)
    op = sync(device, {ENABLE: (reported, "xsd:boolean")})
    assert Setting.objects.get(device=device, variable_name=ENABLE).pending
    assert [d["device"] for d in op.output["differences"]] == [reported]


def test_template_differences_are_listed_for_a_reconf_and_nothing_is_stored(device):
    device.type.settings_template = {
        MODE: "ac",  # differs on the device
        CHANNEL: 6,  # same (the template's number is the device's text)
        WIFI: "template-ssid",  # the device's own setting wins: listed as a setting
        "Device.Not.Reported": "x",  # not reported: nothing to compare
        INTERVAL: "60",  # managed by the ACS: never a difference
    }
    device.type.save()
    setting(device, WIFI, "mine", pending=False)
    op = sync(
        device,
        {
            MODE: ("n", "xsd:string"),
            CHANNEL: ("6", "xsd:unsignedInt"),
            WIFI: ("mine", "xsd:string"),
            INTERVAL: ("300", "xsd:unsignedInt"),
        },
    )
    assert op.output["differences"] == [
        {
            "variable_name": MODE,
            "desired": "ac",
            "device": "n",
            "source": "template",
            "resolution": "reconf",
        }
    ]
    assert not Setting.objects.filter(device=device, variable_name=MODE).exists()


def test_a_sync_stamps_the_device_configuration_time(device):
    assert device.last_configuration is None
    sync(device, {WIFI: ("x", "xsd:string")})
    device.refresh_from_db()
    assert device.last_configuration is not None and device.last_change is not None


def test_a_get_is_not_a_sync_and_leaves_settings_alone(device):
    setting(device, WIFI, "office", pending=False)
    op = operations.start_operation(
        device=device, kind="get", params={"variables": [{"variable_name": WIFI}]}
    )

    def answer(request):
        if isinstance(request, soap.GetParameterValues):
            return soap.GetParameterValuesResponse([soap.ParameterValue(WIFI, "lobby")])
        return None

    session(answer=answer)
    op = Operation.objects.get(pk=op.pk)
    assert op.output == {"values": {WIFI: "lobby"}}
    assert Setting.objects.get(device=device, variable_name=WIFI).value == "office"
    device.refresh_from_db()
    assert device.last_configuration is None
