"""The debug SOAP log masks secrets by XML structure, and leaves everything else alone."""

from __future__ import annotations

import pytest
from lxml import etree

from linesman.audit.models import AuditEntry
from linesman.cwmp import soap
from linesman.cwmp.debuglog import mask
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_acs_session import finish_session

MARKER = "********"
ENV = (
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Body>{}</soap-env:Body>'
    "</soap-env:Envelope>"
)


def _gpv_response(structs: str, prefix: str = "") -> bytes:
    body = (
        f"<cwmp:GetParameterValuesResponse><{prefix}ParameterList>{structs}"
        f"</{prefix}ParameterList></cwmp:GetParameterValuesResponse>"
    )
    return ENV.format(body).encode()


def _values(text: str) -> dict[str, str | None]:
    """{Name: Value text} of every ParameterValueStruct in a masked body."""
    root = etree.fromstring(text.encode())
    out = {}
    for struct in root.iter("{*}ParameterValueStruct"):
        name = struct.find("{*}Name").text
        value = struct.find("{*}Value")
        out[name] = value.text
    return out


def _struct(name: str, value_xml: str, prefix: str = "") -> str:
    return (
        f"<{prefix}ParameterValueStruct><{prefix}Name>{name}</{prefix}Name>{value_xml}"
        f"</{prefix}ParameterValueStruct>"
    )


def test_secret_values_are_masked_inside_the_element_and_others_kept():
    body = _gpv_response(
        _struct(
            "Device.ManagementServer.Password",
            '<Value xsi:type="xsd:string">hunter2</Value>',
        )
        + _struct(
            "Device.WiFi.AccessPoint.1.Security.KeyPassphrase",
            '<Value xsi:type="xsd:string">wifi-pass-1</Value>',
        )
        + _struct("Device.WiFi.SSID.1.SSID", '<Value xsi:type="xsd:string">HomeNet</Value>')
        + _struct("Device.ManagementServer.Username", '<Value xsi:type="xsd:string">cpe</Value>')
    )
    text = mask(body)
    assert "hunter2" not in text and "wifi-pass-1" not in text
    assert _values(text) == {
        "Device.ManagementServer.Password": MARKER,
        "Device.WiFi.AccessPoint.1.Security.KeyPassphrase": MARKER,
        "Device.WiFi.SSID.1.SSID": "HomeNet",
        "Device.ManagementServer.Username": "cpe",
    }


@pytest.mark.parametrize(
    "value_xml",
    ['<Value xsi:type="xsd:string"></Value>', '<Value xsi:type="xsd:string"/>', "<Value/>"],
    ids=["empty", "self-closing", "self-closing-bare"],
)
def test_an_empty_secret_stays_empty_and_nothing_follows_the_element(value_xml):
    body = _gpv_response(
        _struct("Device.ManagementServer.ConnectionRequestPassword", value_xml)
        + _struct("Device.WiFi.SSID.1.SSID", '<Value xsi:type="xsd:string">HomeNet</Value>')
    )
    text = mask(body)
    # The old regex wrote "<Value .../>********": the marker after the element, in the text
    # that follows it, which breaks the XML for anyone reading the log.
    assert "/>" + MARKER not in text
    assert _values(text) == {
        "Device.ManagementServer.ConnectionRequestPassword": None,
        "Device.WiFi.SSID.1.SSID": "HomeNet",
    }


def test_prefixed_namespaces_are_masked_the_same_way():
    structs = _struct(
        "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.PreSharedKey.1.PreSharedKey",
        '<cwmp:Value xsi:type="xsd:string">psk-secret-1</cwmp:Value>',
        prefix="cwmp:",
    ) + _struct(
        "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID",
        '<cwmp:Value xsi:type="xsd:string">Guest</cwmp:Value>',
        prefix="cwmp:",
    )
    body = ENV.replace("cwmp-1-0", "cwmp-1-2").format(
        "<cwmp:GetParameterValuesResponse><cwmp:ParameterList>"
        f"{structs}</cwmp:ParameterList></cwmp:GetParameterValuesResponse>"
    )
    text = mask(body.encode())
    assert "psk-secret-1" not in text
    assert _values(text) == {
        "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.PreSharedKey.1.PreSharedKey": (
            MARKER
        ),
        "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID": "Guest",
    }


def test_a_secret_name_in_a_value_or_elsewhere_masks_nothing_else():
    # Only a ParameterValueStruct's Name decides; a value that merely mentions a password
    # is no secret, and a Name inside GetParameterNames' answer has no value to mask.
    body = _gpv_response(
        _struct("Device.DeviceInfo.Description", "<Value>Password reset by admin</Value>")
    )
    assert _values(mask(body)) == {"Device.DeviceInfo.Description": "Password reset by admin"}


def test_download_passwords_are_masked_by_the_codec_serialized_rpc():
    envelope = soap.Envelope(
        soap.Download(
            command_key="op_1",
            file_type="1 Firmware Upgrade Image",
            url="http://127.0.0.1/fw",
            username="fw-user",
            password="fw-pass-123",
            file_size=4,
        ),
        cwmp_id="1",
        cwmp_ns=soap.NS_CWMP["1.0"],
    )
    text = mask(soap.serialize(envelope))
    assert "fw-pass-123" not in text
    root = etree.fromstring(text.encode())
    assert root.find(".//{*}Password").text == MARKER
    assert root.find(".//{*}Username").text == "fw-user"


def test_markup_inside_a_secret_value_goes_too():
    body = _gpv_response(_struct("Device.Users.User.1.Password", "<Value>abc<b>def</b>ghi</Value>"))
    text = mask(body)
    assert "abc" not in text and "def" not in text and "ghi" not in text
    assert _values(text) == {"Device.Users.User.1.Password": MARKER}


def test_a_body_that_is_not_xml_is_kept_only_without_secret_names():
    broken = b"<ParameterValueStruct><Name>Device.ManagementServer.Password</Name><Value>x1y2"
    text = mask(broken)
    assert "x1y2" not in text and "not kept" in text
    harmless = b"<Inform><Unclosed>hello"
    assert mask(harmless) == "<Inform><Unclosed>hello"
    assert mask(b"") == ""


@pytest.mark.django_db
def test_a_real_session_in_debug_mode_logs_masked_secrets(org_a, device_type):
    from linesman.core import crypto

    device = make_device(
        org_a,
        device_type,
        "CPE0009",
        username="cpe",
        password_encrypted=crypto.encrypt("pw"),
        debug=True,
    )
    cpe = ScriptedCpe("cpe", "pw")
    # A device that reports its secrets (against TR-069's advice) and one empty one.
    cpe.inform(
        "CPE0009",
        events=("0 BOOTSTRAP",),
        params={
            "Device.ManagementServer.Password": "acs-pass-77",
            "Device.ManagementServer.STUNPassword": "",
            "Device.WiFi.SSID.1.SSID": "HomeNet",
        },
    )
    finish_session(cpe)
    device.refresh_from_db()
    entries = list(AuditEntry.objects.filter(device_id=device.pk, action="soap"))
    text = "\n".join(e.message for e in entries)
    assert "acs-pass-77" not in text
    assert device.connection_request_password not in text
    assert "/>" + MARKER not in text and ">" + MARKER + "<" in text
    inform = next(e.message for e in entries if "cwmp:Inform>" in e.message)
    values = _values(inform.split("\n", 1)[1])
    assert values["Device.ManagementServer.Password"] == MARKER
    assert values["Device.ManagementServer.STUNPassword"] in (None, "")
    assert values["Device.WiFi.SSID.1.SSID"] == "HomeNet"
