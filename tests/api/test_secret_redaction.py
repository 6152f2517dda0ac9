"""Secrets a device reports, or an operator writes, are never read back, by any role.

The values get where they are read the way they do in production: a device answers a
refresh in a real CWMP session (`cwmp.session.handle` through the test client), operators
write settings through the API, the ACS applies them in a session. Every read path is then
asked by a viewer, an operator, an admin and a superuser.
"""

from __future__ import annotations

import json

import pytest

from linesman.audit.models import AuditEntry
from linesman.core import crypto
from linesman.cwmp import soap
from linesman.inventory.models import Setting
from linesman.operations import services as operations
from linesman.operations.models import Operation, OperationKind, OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe

MARKER = "********"
SERIAL = "SECRET0001"

#: What the (non-compliant) device reports in clear: TR-069 says it should report "".
SECRETS = {
    "Device.ManagementServer.Password": "acs-pass-77",
    "Device.ManagementServer.ConnectionRequestPassword": "cr-pass-88",
    "Device.WiFi.AccessPoint.1.Security.KeyPassphrase": "wifi-pass-99",
    "Device.WiFi.AccessPoint.1.Security.PreSharedKey": "0123abcdef",
    "Device.WiFi.AccessPoint.1.Security.WEPKey": "wep-key-11",
    "Device.WiFi.AccessPoint.1.Security.SAEPassphrase": "sae-pass-33",
    "Device.WiFi.AccessPoint.1.Security.RadiusSecret": "radius-22",
    "Device.Users.User.1.Password": "user-pass-44",
}
EMPTY_SECRET = "Device.ManagementServer.STUNPassword"
PLAIN = {
    "Device.WiFi.SSID.1.SSID": "HomeNet",
    "Device.ManagementServer.Username": "cpe",
    "Device.DeviceInfo.Description": "Password reset by admin",
}
REPORTED = {**SECRETS, EMPTY_SECRET: "", **PLAIN}
ROLES = ["viewer_a", "operator_a", "admin_a", "superuser"]


def answer_from(values: dict[str, str]):
    """A CPE that answers every RPC, reporting `values` (secrets in clear) and, like a real
    device, what it was set to since (the tree read after a bootstrap reads it back)."""
    values = dict(values)

    def answer(request):
        if isinstance(request, soap.SetParameterValues):
            values.update({p.name: p.value for p in request.parameters if p.name in values})
            return soap.SetParameterValuesResponse(0)
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse([soap.ParameterInfo(n, True) for n in values])
        if isinstance(request, soap.GetParameterValues):
            return soap.GetParameterValuesResponse(
                [soap.ParameterValue(n, values[n]) for n in request.names if n in values]
            )
        raise AssertionError(f"unexpected {request}")

    return answer


def run_session(serial: str, events=("6 CONNECTION REQUEST",), values=REPORTED) -> list:
    """One CWMP session of the device; returns the RPCs the ACS sent it."""
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(serial, events=events).status_code == 200
    answer = answer_from(values)
    received = []
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        received.append(request)
        response = cpe.post(answer(request))
    assert response.status_code == 204
    return received


def make_cpe(org, device_type, serial: str = SERIAL):
    return make_device(
        org,
        device_type,
        serial,
        name=f"cpe-{serial}",
        username="cpe",
        password_encrypted=crypto.encrypt("pw"),
    )


def refresh_through_a_session(device, user) -> Operation:
    """Bootstrap the device, then have it answer a refresh with its secrets in clear."""
    run_session(device.serial_number, events=("0 BOOTSTRAP",))
    op = operations.start_operation(device=device, kind=OperationKind.REFRESH, user=user)
    run_session(device.serial_number)
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED, (op.state, op.error)
    return op


@pytest.fixture
def reported(org_a, device_type, operator_a):
    device = make_cpe(org_a, device_type)
    refresh_through_a_session(device, operator_a.user)
    return device


def assert_no_secret_in(text: str) -> None:
    for value in SECRETS.values():
        assert value not in text


@pytest.fixture
def actor(request):
    return request.getfixturevalue(request.param)


# --- the variables endpoint and its twins ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ROLES, indirect=True)
@pytest.mark.parametrize("twin", ["id", "name", "serial"])
def test_variables_show_secrets_as_the_marker(actor, reported, twin):
    key = {"id": reported.pk, "name": reported.name, "serial": reported.serial_number}[twin]
    path = {"id": "", "name": "_name", "serial": "_serial"}[twin]
    response = actor.client.get(f"/api/v1/inventory_device{path}_variables/{key}/?limit=1000")
    assert response.status_code == 200
    values = {v["variable_name"]: v["value"] for v in response.json()["results"]}
    assert {n: values[n] for n in SECRETS} == dict.fromkeys(SECRETS, MARKER)
    assert values[EMPTY_SECRET] == ""
    assert {n: values[n] for n in PLAIN} == PLAIN
    assert_no_secret_in(response.content.decode())


@pytest.mark.django_db
def test_the_stored_values_stay_intact(reported):
    from linesman.cwmp.parameters import get_values

    stored = get_values(reported.pk)
    assert {n: stored[n][0] for n in SECRETS} == SECRETS


# --- operation output ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ROLES, indirect=True)
def test_operation_history_output_redacts_secrets(actor, reported):
    response = actor.client.get(f"/api/v1/inventory_device/{reported.pk}/operations/")
    assert response.status_code == 200
    refresh = next(o for o in response.json()["results"] if o["operation"] == "refresh")
    values = refresh["output"]["values"]
    assert {n: values[n] for n in SECRETS} == dict.fromkeys(SECRETS, MARKER)
    assert values[EMPTY_SECRET] == ""
    assert {n: values[n] for n in PLAIN} == PLAIN
    assert_no_secret_in(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ROLES, indirect=True)
def test_whip_status_shows_no_secret(actor, reported):
    response = actor.client.get(f"/api/v1/inventory_device_whip/{reported.pk}/")
    assert response.status_code == 200
    assert response.json()["last_operation"]["operation_type"] == "refresh"
    assert_no_secret_in(response.content.decode())


@pytest.mark.django_db
def test_local_cli_shows_operation_output_redacted(reported, capsys):
    from linesman.cli.devices import Local

    op = Operation.objects.get(device=reported, kind=OperationKind.REFRESH)
    shown = Local().get_operation(reported.pk, op.operation_id)
    assert shown["output"]["values"]["Device.ManagementServer.Password"] == MARKER
    assert_no_secret_in(json.dumps(shown))


# --- desired settings: write-only ----------------------------------------------------------


WIFI_KEY = "Device.WiFi.AccessPoint.1.Security.KeyPassphrase"
SETTINGS = [
    {"variable_name": WIFI_KEY, "value": "new-wifi-pass-55"},
    {"variable_name": "Device.WiFi.SSID.1.SSID", "value": "Office"},
]


@pytest.fixture
def with_settings(org_a, device_type, operator_a):
    device = make_cpe(org_a, device_type, "SECRET0002")
    response = operator_a.client.put(
        f"/api/v1/inventory_device_setting/{device.pk}/", SETTINGS, format="json"
    )
    assert response.status_code == 200
    # The write's answer does not echo the secret either.
    assert "new-wifi-pass-55" not in response.content.decode()
    assert {s["variable_name"]: s["value"] for s in response.json()} == {
        WIFI_KEY: MARKER,
        "Device.WiFi.SSID.1.SSID": "Office",
    }
    return device


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ROLES, indirect=True)
def test_settings_are_write_only_in_every_read(actor, with_settings):
    device = with_settings
    for url in (
        f"/api/v1/inventory_device_setting/?parent_id={device.pk}",
        f"/api/v1/inventory_device_setting/{device.pk}/",
    ):
        response = actor.client.get(url)
        assert response.status_code == 200, url
        body = response.json()
        rows = body["results"] if isinstance(body, dict) else body
        assert {s["variable_name"]: s["value"] for s in rows} == {
            WIFI_KEY: MARKER,
            "Device.WiFi.SSID.1.SSID": "Office",
        }
        assert "new-wifi-pass-55" not in response.content.decode()


@pytest.mark.django_db
def test_the_acs_still_applies_the_stored_secret(with_settings, operator_a):
    device = with_settings
    assert Setting.objects.get(device=device, variable_name=WIFI_KEY).value == "new-wifi-pass-55"
    rpcs = run_session(device.serial_number, events=("0 BOOTSTRAP",))
    sent = {p.name: p.value for r in rpcs for p in getattr(r, "parameters", [])}
    assert sent[WIFI_KEY] == "new-wifi-pass-55"
    # Applied values are stored as the device's; they read back redacted too.
    response = operator_a.client.get(f"/api/v1/inventory_device_variables/{device.pk}/")
    values = {v["variable_name"]: v["value"] for v in response.json()["results"]}
    assert values[WIFI_KEY] == MARKER
    assert values["Device.WiFi.SSID.1.SSID"] == "Office"


@pytest.mark.django_db
def test_writing_back_what_was_read_keeps_the_secret(with_settings, operator_a):
    device = with_settings
    url = f"/api/v1/inventory_device_setting/{device.pk}/"
    read = operator_a.client.get(url).json()
    body = [{"variable_name": s["variable_name"], "value": s["value"]} for s in read]
    assert operator_a.client.put(url, body, format="json").status_code == 200
    assert Setting.objects.get(device=device, variable_name=WIFI_KEY).value == "new-wifi-pass-55"
    # A marker for a secret that was never stored is no value.
    response = operator_a.client.patch(
        url, [{"variable_name": "Device.Users.User.1.Password", "value": MARKER}], format="json"
    )
    assert response.status_code == 422
    assert "Device.Users.User.1.Password" in response.json()["settings"]
    assert not Setting.objects.filter(variable_name="Device.Users.User.1.Password").exists()


@pytest.mark.django_db
def test_a_secret_variable_is_written_never_echoed(reported, operator_a):
    url = f"/api/v1/inventory_device_variables/{reported.pk}/"
    response = operator_a.client.put(
        url, {"variable_name": WIFI_KEY, "value": "set-pass-66"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["variables"][0]["value"] == MARKER
    assert "set-pass-66" not in response.content.decode()
    op = Operation.objects.get(operation_id=response.json()["operation_id"])
    rpcs = run_session(reported.serial_number)
    assert {p.name: p.value for p in rpcs[0].parameters} == {WIFI_KEY: "set-pass-66"}
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED


@pytest.mark.django_db
def test_the_marker_is_no_value_for_a_device(reported, operator_a):
    url = f"/api/v1/inventory_device_variables/{reported.pk}/"
    response = operator_a.client.put(
        url, {"variable_name": WIFI_KEY, "value": MARKER}, format="json"
    )
    assert response.status_code == 422
    assert WIFI_KEY in response.json()["variables"]


@pytest.mark.django_db
def test_the_audit_trail_does_not_keep_written_secrets(with_settings, admin_a):
    response = admin_a.client.get(f"/api/v1/audit_log/?device={with_settings.pk}")
    assert response.status_code == 200
    assert "new-wifi-pass-55" not in response.content.decode()
    entry = AuditEntry.objects.filter(device_id=with_settings.pk, message__startswith="settings")
    assert entry.get().changes[WIFI_KEY] == [None, MARKER]


# --- bulk jobs: scheduled `get` transactions and `set` jobs -----------------------------------

HEADLESS = [
    "/api/v1/inventory_device_serial_headless_operation/",
    "/api/v1/inventory_device_headless_operation/",
    "/api/v1/inventory_device_name_headless_operation/",
]


@pytest.mark.django_db(transaction=True)
def test_bulk_get_results_and_set_config_redact_secrets(
    org_a, device_type, viewer_a, operator_a, admin_a, superuser
):
    device = make_cpe(org_a, device_type)
    run_session(SERIAL, events=("0 BOOTSTRAP",))
    names = [*SECRETS, EMPTY_SECRET, *PLAIN]
    response = operator_a.client.post(
        HEADLESS[0],
        {
            "serial_number": SERIAL,
            "operation": "get",
            "variables": [{"variable_name": n} for n in names],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    get_job = response.json()["id"]
    op = Operation.objects.get(device=device, kind=OperationKind.GET)
    run_session(SERIAL)
    op.refresh_from_db()
    assert op.state == OperationState.COMPLETED, (op.state, op.error)

    response = operator_a.client.post(
        HEADLESS[0],
        {
            "serial_number": SERIAL,
            "operation": "set",
            "variables": [
                {"variable_name": WIFI_KEY, "value": "bulk-pass-77", "type": "string"},
                {"variable_name": "Device.WiFi.SSID.1.SSID", "value": "Bulk", "type": "string"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "bulk-pass-77" not in response.content.decode()
    set_job = response.json()["id"]
    assert {
        v["variable_name"]: v["value"] for v in response.json()["operation_config"]["variables"]
    } == {
        WIFI_KEY: MARKER,
        "Device.WiFi.SSID.1.SSID": "Bulk",
    }
    # The device still gets the real value.
    rpcs = run_session(SERIAL)
    assert {p.name: p.value for p in rpcs[0].parameters}[WIFI_KEY] == "bulk-pass-77"

    for actor in (viewer_a, operator_a, admin_a, superuser):
        for base in HEADLESS:
            reads = [
                f"{base}?id={get_job}",
                f"{base}",
                f"{base}{get_job}/",
                f"{base}{set_job}/",
                f"{base}{get_job}/devices/",
                f"{base}{get_job}/devices/?format=csv",
                f"{base}{get_job}/report.csv",
                f"{base}{set_job}/devices/",
            ]
            for url in reads:
                response = actor.client.get(url)
                assert response.status_code == 200, (actor.user.username, url)
                text = (
                    b"".join(response.streaming_content)
                    if response.streaming
                    else (response.content)
                )
                assert_no_secret_in(text.decode())
                assert "bulk-pass-77" not in text.decode(), url
        rows = actor.client.get(f"{HEADLESS[0]}{get_job}/devices/").json()["results"]
        values = rows[0]["result"]["values"]
        assert {n: values[n] for n in SECRETS} == dict.fromkeys(SECRETS, MARKER)
        assert values[EMPTY_SECRET] == ""
        assert {n: values[n] for n in PLAIN} == PLAIN


# --- a device type's settings template: desired settings too ---------------------------------

TYPE_URL = "/api/v1/inventory_type/"
TEMPLATE = {WIFI_KEY: "type-pass-12", "Device.WiFi.SSID.1.SSID": "Corp"}


@pytest.fixture
def templated_type(org_a, admin_a):
    response = admin_a.client.post(
        TYPE_URL,
        {
            "short_name": "sec_type",
            "name": "Sec",
            "organization_id": org_a.pk,
            "settings_template": TEMPLATE,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "type-pass-12" not in response.content.decode()
    return response.json()["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ROLES, indirect=True)
def test_a_types_template_reads_secrets_as_the_marker(actor, templated_type):
    for url in (TYPE_URL, f"{TYPE_URL}{templated_type}/"):
        response = actor.client.get(url)
        assert response.status_code == 200
        assert "type-pass-12" not in response.content.decode()
    shown = actor.client.get(f"{TYPE_URL}{templated_type}/").json()["settings_template"]
    assert shown == {WIFI_KEY: MARKER, "Device.WiFi.SSID.1.SSID": "Corp"}


@pytest.mark.django_db
def test_a_template_written_back_keeps_its_secret_and_the_device_gets_it(
    templated_type, admin_a, org_a
):
    from linesman.inventory.models import DeviceType

    url = f"{TYPE_URL}{templated_type}/"
    read = admin_a.client.get(url).json()["settings_template"]
    changed = {**read, "Device.WiFi.SSID.1.SSID": "Corp2"}
    response = admin_a.client.patch(url, {"settings_template": changed}, format="json")
    assert response.status_code == 200
    stored = DeviceType.objects.get(pk=templated_type).settings_template
    assert stored == {WIFI_KEY: "type-pass-12", "Device.WiFi.SSID.1.SSID": "Corp2"}
    new_secret = {**read, "Device.Users.User.1.Password": MARKER}
    assert (
        admin_a.client.patch(url, {"settings_template": new_secret}, format="json").status_code
        == 400
    )
    # The ACS applies the real value, and the audit trail never kept it.
    device = make_cpe(org_a, DeviceType.objects.get(pk=templated_type), "SECTYPE1")
    rpcs = run_session(device.serial_number, events=("0 BOOTSTRAP",))
    sent = {p.name: p.value for r in rpcs for p in getattr(r, "parameters", [])}
    assert sent[WIFI_KEY] == "type-pass-12"
    audit = admin_a.client.get("/api/v1/audit_log/?limit=1000")
    assert audit.status_code == 200
    assert "type-pass-12" not in audit.content.decode()


# --- the Django admin (superusers) --------------------------------------------------------------


@pytest.fixture
def admin_site(superuser):
    from django.test import Client

    client = Client()
    client.force_login(superuser.user)
    return client


@pytest.mark.django_db
def test_the_admin_shows_secrets_as_the_marker_and_keeps_them_on_save(
    admin_site, with_settings, reported, templated_type
):
    setting = Setting.objects.get(device=with_settings, variable_name=WIFI_KEY)
    refresh = Operation.objects.get(device=reported, kind=OperationKind.REFRESH)
    pages = [
        "/admin/inventory/setting/",
        f"/admin/inventory/setting/{setting.pk}/change/",
        f"/admin/inventory/devicetype/{templated_type}/change/",
        f"/admin/operations/operation/{refresh.pk}/change/",
        "/admin/audit/auditentry/",
    ]
    for url in pages:
        response = admin_site.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert_no_secret_in(text)
        assert "new-wifi-pass-55" not in text and "type-pass-12" not in text, url
    response = admin_site.post(
        f"/admin/inventory/setting/{setting.pk}/change/",
        {
            "device": with_settings.pk,
            "variable_name": WIFI_KEY,
            "value": MARKER,
            "type": "xsd:string",
            "pending": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    setting.refresh_from_db()
    assert setting.value == "new-wifi-pass-55"


# --- logs ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_secret_reaches_the_logs(caplog, org_a, device_type, operator_a, viewer_a):
    import logging

    caplog.set_level(logging.DEBUG)
    device = make_cpe(org_a, device_type, "SECLOG1")
    device.debug = True
    device.save()
    refresh_through_a_session(device, operator_a.user)
    url = f"/api/v1/inventory_device_setting/{device.pk}/"
    assert operator_a.client.put(url, SETTINGS, format="json").status_code == 200
    # A device that faults on the secret, and one that sends nonsense back.
    operations.start_operation(device=device, kind=OperationKind.RECONF, user=operator_a.user)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform("SECLOG1", events=("6 CONNECTION REQUEST",)).status_code == 200
    response = cpe.post(None)
    while response.status_code == 200:
        response = cpe.post(raw=b"<not-xml " + b"wifi-pass-99 new-wifi-pass-55")
    viewer_a.client.get(f"/api/v1/inventory_device_variables/{device.pk}/")
    text = "\n".join(
        r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records
    )
    assert caplog.records  # the ACS did log (challenges, the broken answer)
    assert_no_secret_in(text)
    assert "new-wifi-pass-55" not in text


# --- the rule itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Device.ManagementServer.Password",
        "InternetGatewayDevice.ManagementServer.ConnectionRequestPassword",
        "Device.ManagementServer.STUNPassword",
        "Device.WiFi.AccessPoint.1.Security.KeyPassphrase",
        "Device.WiFi.AccessPoint.1.Security.SAEPassphrase",
        "Device.WiFi.AccessPoint.1.Security.PreSharedKey",
        "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.PreSharedKey.1.PreSharedKey",
        "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.WEPKey.2.WEPKey",
        "Device.WiFi.AccessPoint.1.Security.RadiusSecret",
        "Device.PPP.Interface.1.Password",
        "Device.X_ACME_COM_AdminPassword",
        "Device.X_ACME_COM_WPAPSK",
        "Device.X_ACME_COM_TLS.PrivateKey",
        "device.users.user.1.password",
    ],
)
def test_secret_names(name):
    from linesman.core.redaction import is_secret, redact

    assert is_secret(name)
    assert redact(name, "x") == MARKER and redact(name, "") == ""


@pytest.mark.parametrize(
    "name",
    [
        "Device.ManagementServer.Username",
        "Device.ManagementServer.ConnectionRequestUsername",
        "Device.WiFi.SSID.1.SSID",
        "Device.WiFi.AccessPoint.1.Security.ModeEnabled",
        "Device.ManagementServer.ParameterKey",
        "Device.WiFi.AccessPoint.1.Security.PreSharedKey.1",
        "Device.DeviceInfo.Description",
        "",
    ],
)
def test_names_that_are_no_secret(name):
    from linesman.core.redaction import is_secret, redact

    assert not is_secret(name)
    assert redact(name, "value") == "value"
