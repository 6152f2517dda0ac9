"""Desired configuration that is not lost (issue 11), through the API and the ACS endpoint
with a scripted CPE whose parameters are a dict: what the device received is asserted.

- A sync never overwrites, nor marks as applied, a pending setting; its output lists
  where the device differs from the desired configuration.
- Variables writes are one-shot; settings writes are desired state, replayed by reconf.
- The inform interval has one source of truth, `update_frequency`.
"""

from __future__ import annotations

import pytest

from linesman.cwmp import soap
from linesman.inventory.models import Setting
from linesman.operations.models import Operation
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_acs_session import finish_session

pytestmark = pytest.mark.django_db

SERIAL = "DCF0001"
SSID = "Device.WiFi.SSID.1.SSID"
CHANNEL = "Device.WiFi.Radio.1.Channel"
NTP = "Device.Time.NTPServer1"
PING = "Device.IP.Diagnostics.IPPing.DiagnosticsState"
INTERVAL = "Device.ManagementServer.PeriodicInformInterval"


class Cpe:
    """The device's parameters, and every SetParameterValues it received."""

    def __init__(self):
        self.values = {SSID: "home", CHANNEL: "6", NTP: "pool.ntp.org", PING: "None"}
        self.received: list[dict[str, str]] = []

    def answer(self, request):
        if isinstance(request, soap.SetParameterValues):
            sent = {p.name: p.value for p in request.parameters}
            self.received.append(sent)
            self.values.update(sent)
            return soap.SetParameterValuesResponse(0)
        if isinstance(request, soap.FactoryReset):
            return soap.FactoryResetResponse()
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse(
                [soap.ParameterInfo(name, True) for name in sorted(self.values)]
            )
        if isinstance(request, soap.GetParameterValues):
            return soap.GetParameterValuesResponse(
                [soap.ParameterValue(n, self.values[n]) for n in request.names]
            )
        raise AssertionError(f"unexpected {request}")

    def session(self, events=("6 CONNECTION REQUEST",)) -> list[dict[str, str]]:
        """One session; returns the SetParameterValues it received in it."""
        before = len(self.received)
        client = ScriptedCpe("cpe", "pw")
        assert client.inform(SERIAL, events=events).status_code == 200
        finish_session(client, self.answer)
        return self.received[before:]


def names(received: list[dict[str, str]]) -> list[str]:
    return [name for batch in received for name in batch]


@pytest.fixture
def cpe():
    return Cpe()


@pytest.fixture
def device(org_a, device_type, cpe):
    from linesman.core import crypto

    device = make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    cpe.session(events=("0 BOOTSTRAP",))
    device.refresh_from_db()
    return device


def settings_url(device) -> str:
    return f"/api/v1/inventory_device_setting/{device.pk}/"


def run(operator, device, cpe, operation: str) -> Operation:
    response = operator.client.put(
        f"/api/v1/inventory_device_operation/{device.pk}/", {"operation": operation}, format="json"
    )
    assert response.status_code == 200, response.json()
    cpe.session()
    op = Operation.objects.get(operation_id=response.json()["operation_id"])
    assert op.state == "completed", op.error
    return op


def test_a_pending_setting_survives_a_sync_and_the_difference_is_reported(
    operator_a, device, cpe, device_type
):
    device_type.settings_template = {NTP: "ntp.example.net"}
    device_type.save()
    assert (
        operator_a.client.patch(
            settings_url(device),
            [{"variable_name": SSID, "value": "wanted"}, {"variable_name": CHANNEL, "value": "6"}],
            format="json",
        ).status_code
        == 200
    )

    op = run(operator_a, device, cpe, "sync")

    ssid = Setting.objects.get(device=device, variable_name=SSID)
    assert (ssid.value, ssid.pending, ssid.applied) == ("wanted", True, None)
    # The device already has the channel asked for: that confirms it.
    channel = Setting.objects.get(device=device, variable_name=CHANNEL)
    assert channel.pending is False and channel.applied is not None
    differences = sorted(op.output["differences"], key=lambda d: d["variable_name"])
    assert differences == [
        {
            "variable_name": NTP,
            "desired": "ntp.example.net",
            "device": "pool.ntp.org",
            "source": "template",
            "resolution": "reconf",
        },
        {
            "variable_name": SSID,
            "desired": "wanted",
            "device": "home",
            "source": "setting",
            "resolution": "pending",
        },
    ]
    listed = operator_a.client.get(
        "/api/v1/inventory_device_setting/", {"parent_id": device.pk, "pending": "true"}
    ).json()
    assert [s["variable_name"] for s in listed["results"]] == [SSID]

    # reconf applies it; the device's confirmation is what clears `pending`.
    run(operator_a, device, cpe, "reconf")
    assert cpe.values[SSID] == "wanted"
    ssid.refresh_from_db()
    assert ssid.pending is False and ssid.applied is not None


def test_a_confirmed_setting_adopts_the_device_value_and_says_so(operator_a, device, cpe):
    Setting.objects.create(device=device, variable_name=SSID, value="old", pending=False)
    op = run(operator_a, device, cpe, "sync")
    setting = Setting.objects.get(device=device, variable_name=SSID)
    assert (setting.value, setting.pending) == ("home", False)
    assert op.output["differences"] == [
        {
            "variable_name": SSID,
            "desired": "old",
            "device": "home",
            "source": "setting",
            "resolution": "adopted",
        }
    ]


def test_an_acknowledgement_of_a_stale_value_leaves_the_new_one_pending(operator_a, device, cpe):
    url = settings_url(device)
    operator_a.client.patch(url, {"variable_name": SSID, "value": "first"}, format="json")
    response = operator_a.client.put(
        f"/api/v1/inventory_device_operation/{device.pk}/", {"operation": "reconf"}, format="json"
    )
    assert response.status_code == 200
    # Changed after the reconf was queued: the device will confirm "first", not "second".
    operator_a.client.patch(url, {"variable_name": SSID, "value": "second"}, format="json")
    cpe.session()
    assert cpe.values[SSID] == "first"
    setting = Setting.objects.get(device=device, variable_name=SSID)
    assert (setting.value, setting.pending) == ("second", True)


def test_variables_write_is_one_shot_and_not_replayed_by_reconf(operator_a, device, cpe):
    response = operator_a.client.put(
        f"/api/v1/inventory_device_variables/{device.pk}/",
        [{"variable_name": PING, "value": "Requested"}, {"variable_name": CHANNEL, "value": "11"}],
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert names(cpe.session()) == [PING, CHANNEL]
    assert Operation.objects.get(operation_id=response.json()["operation_id"]).state == (
        "completed"
    )
    assert not Setting.objects.filter(device=device).exists()

    cpe.values[PING] = "Complete"
    run(operator_a, device, cpe, "reconf")
    # device_factory: the device resets, bootstraps, and its desired configuration is
    # re-applied; the one-shot writes are not part of it.
    response = operator_a.client.put(
        f"/api/v1/inventory_device_operation/{device.pk}/",
        {"operation": "device_factory"},
        format="json",
    )
    assert response.status_code == 200
    cpe.session()
    cpe.session(events=("0 BOOTSTRAP",))
    op = Operation.objects.get(operation_id=response.json()["operation_id"])
    assert op.state == "completed", op.error
    assert names(cpe.received).count(PING) == 1
    assert names(cpe.received).count(CHANNEL) == 1
    assert cpe.values[PING] == "Complete"


def test_settings_are_desired_state_replayed_by_reconf_and_after_bootstrap(operator_a, device, cpe):
    operator_a.client.patch(
        settings_url(device), {"variable_name": SSID, "value": "office"}, format="json"
    )
    run(operator_a, device, cpe, "reconf")
    cpe.values[SSID] = "changed-locally"
    run(operator_a, device, cpe, "reconf")
    assert cpe.values[SSID] == "office"
    cpe.values[SSID] = "factory-default"
    received = cpe.session(events=("0 BOOTSTRAP",))
    assert SSID in names(received) and cpe.values[SSID] == "office"


@pytest.mark.parametrize("endpoint", ["setting", "variables"])
def test_inform_interval_writes_are_refused_pointing_to_update_frequency(
    operator_a, device, endpoint
):
    response = (
        operator_a.client.patch(
            f"/api/v1/inventory_device_{endpoint}/{device.pk}/",
            {"variable_name": INTERVAL, "value": "60"},
            format="json",
        )
        if endpoint == "setting"
        else operator_a.client.put(
            f"/api/v1/inventory_device_variables/{device.pk}/",
            {"variable_name": INTERVAL, "value": "60"},
            format="json",
        )
    )
    assert response.status_code == 400
    body = response.json()
    message = body["settings" if endpoint == "setting" else "variables"][INTERVAL]
    assert "update_frequency" in message
    assert not Setting.objects.exists() and not Operation.objects.exists()


def test_inform_interval_in_a_type_template_is_refused(superuser, device_type):
    response = superuser.client.patch(
        f"/api/v1/inventory_type/{device_type.pk}/",
        {"settings_template": {INTERVAL: "60", NTP: "ntp.example.net"}},
        format="json",
    )
    assert response.status_code == 400
    assert "update_frequency" in str(response.json()["settings_template"])


def test_one_session_sends_one_inform_interval_the_update_frequency(
    admin_a, device, cpe, device_type
):
    # Stored before the rule existed: neither may contradict update_frequency.
    device_type.settings_template = {INTERVAL: "777"}
    device_type.save()
    Setting.objects.create(device=device, variable_name=INTERVAL, value="999")
    response = admin_a.client.patch(
        f"/api/v1/inventory_device/{device.pk}/",
        {"update_frequency": 120, "reconf": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    received = cpe.session()
    sent = [batch[INTERVAL] for batch in received if INTERVAL in batch]
    assert sent == ["120"]
    assert cpe.values[INTERVAL] == "120"


def test_sync_compares_values_as_the_device_means_them(operator_a, device, cpe, device_type):
    enable = "Device.WiFi.Radio.1.Enable"
    cpe.values[enable] = "1"
    device_type.settings_template = {enable: "true"}
    device_type.save()
    # Case matters in a string: "Home" is not what the device has.
    operator_a.client.patch(
        settings_url(device), {"variable_name": SSID, "value": "Home"}, format="json"
    )
    op = run(operator_a, device, cpe, "sync")
    assert [d["variable_name"] for d in op.output["differences"]] == [SSID]
    assert Setting.objects.get(device=device, variable_name=SSID).pending is True
