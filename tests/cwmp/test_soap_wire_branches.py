"""Odd but legal CPE XML the codec must read the same way a careful reader would: repeated
elements (the first counts), empty optional booleans, xsi:type written unusually or left
empty, values and names split by a stray element, vendor elements inside CWMP structures,
an empty HoldRequests, a second Header or Body, an unqualified Inform, input handed over
as a bytearray, and a depth limit above libxml2's own.

Every body is written out by hand and every expected value read off it by eye.
"""

from __future__ import annotations

import tracemalloc

import pytest

from linesman.cwmp.soap import (
    NS_CWMP,
    AddObjectResponse,
    Envelope,
    Fault,
    GetParameterNamesResponse,
    GetParameterValuesResponse,
    InformResponse,
    ParameterInfo,
    ParameterValue,
    Reboot,
    SetParameterAttribute,
    SetParameterAttributes,
    SetParameterValueFault,
    SoapParseError,
    is_inform,
    parse,
)
from tests.cwmp.envelopes import CWMP_10, CWMP_12, SOAP_ENV, wrap


def gpv_response(structs: str) -> bytes:
    return wrap(
        "<cwmp:GetParameterValuesResponse><ParameterList>"
        f"{structs}</ParameterList></cwmp:GetParameterValuesResponse>"
    )


# --- repeated and empty elements ---------------------------------------------------------


def test_a_repeated_element_counts_once_and_the_first_wins() -> None:
    env = parse(
        wrap(
            "<cwmp:AddObjectResponse><InstanceNumber>3</InstanceNumber>"
            "<InstanceNumber>4</InstanceNumber><Status>1</Status><Status>0</Status>"
            "</cwmp:AddObjectResponse>"
        )
    )
    assert env == Envelope(AddObjectResponse(3, 1))


def test_empty_optional_booleans_mean_false() -> None:
    names = parse(
        wrap(
            "<cwmp:GetParameterNamesResponse><ParameterList>"
            "<ParameterInfoStruct><Name>Device.DeviceInfo.</Name><Writable/></ParameterInfoStruct>"
            "<ParameterInfoStruct><Name>Device.X</Name><Writable> </Writable>"
            "</ParameterInfoStruct></ParameterList></cwmp:GetParameterNamesResponse>"
        )
    )
    assert names == Envelope(
        GetParameterNamesResponse(
            [ParameterInfo("Device.DeviceInfo.", False), ParameterInfo("Device.X", False)]
        )
    )
    attributes = parse(
        wrap(
            "<cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct>"
            "<Name>Device.WiFi.SSID.1.SSID</Name><NotificationChange></NotificationChange>"
            "<Notification>2</Notification><AccessListChange/><AccessList/>"
            "</SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>"
        )
    )
    assert attributes == Envelope(
        SetParameterAttributes(
            [
                SetParameterAttribute(
                    name="Device.WiFi.SSID.1.SSID",
                    notification_change=False,
                    notification=2,
                    access_list_change=False,
                    access_list=[],
                )
            ]
        )
    )


# --- xsi:type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_xml", "expected"),
    [
        # An unrelated attribute first, then an unprefixed `type`.
        (
            '<Value id="v1" type="xsd:unsignedInt">7</Value>',
            ParameterValue("A", "7", "xsd:unsignedInt"),
        ),
        # Only unrelated attributes: no type given, so a string.
        ('<Value id="v1">7</Value>', ParameterValue("A", "7", "xsd:string")),
        # A type written empty or blank says nothing: a string.
        ('<Value xsi:type="">7</Value>', ParameterValue("A", "7", "xsd:string")),
        ('<Value xsi:type=" \t ">7</Value>', ParameterValue("A", "7", "xsd:string")),
    ],
)
def test_a_value_type_written_unusually_or_left_empty(value_xml: str, expected) -> None:
    env = parse(
        gpv_response(f"<ParameterValueStruct><Name>A</Name>{value_xml}</ParameterValueStruct>")
    )
    assert env == Envelope(GetParameterValuesResponse([expected]))


# --- mixed content and vendor elements ---------------------------------------------------


def test_a_name_and_value_split_by_a_stray_element_keep_all_their_text() -> None:
    env = parse(
        gpv_response(
            "<ParameterValueStruct><Name>Device.<b>DeviceInfo</b>.UpTime</Name>"
            '<Value xsi:type="xsd:string">up <i>for</i> ever</Value></ParameterValueStruct>'
        )
    )
    assert env == Envelope(
        GetParameterValuesResponse([ParameterValue("Device.DeviceInfo.UpTime", "up for ever")])
    )


def test_vendor_elements_inside_a_parameter_value_struct_are_ignored() -> None:
    env = parse(
        gpv_response(
            "<ParameterValueStruct><X_ACME_Source>cache</X_ACME_Source>"
            '<Name>Device.A</Name><X_ACME_Age>5</X_ACME_Age><Value xsi:type="xsd:int">1</Value>'
            "</ParameterValueStruct>"
        )
    )
    assert env == Envelope(GetParameterValuesResponse([ParameterValue("Device.A", "1", "xsd:int")]))


def test_vendor_elements_inside_a_cwmp_fault_are_ignored() -> None:
    data = (
        f'<S:Envelope xmlns:S="{SOAP_ENV}" xmlns:cwmp="{CWMP_10}"><S:Body><S:Fault>'
        "<faultcode>Client</faultcode><faultstring>CWMP fault</faultstring><detail>"
        "<cwmp:Fault><FaultCode>9003</FaultCode><X_ACME_Trace>spv.c:120</X_ACME_Trace>"
        "<FaultString>Invalid arguments</FaultString><SetParameterValuesFault>"
        "<ParameterName>Device.A</ParameterName><FaultCode>9007</FaultCode>"
        "<FaultString>Invalid parameter value</FaultString></SetParameterValuesFault>"
        "</cwmp:Fault></detail></S:Fault></S:Body></S:Envelope>"
    ).encode()
    assert parse(data) == Envelope(
        Fault(
            9003,
            "Invalid arguments",
            [SetParameterValueFault("Device.A", 9007, "Invalid parameter value")],
        )
    )


# --- header and envelope -----------------------------------------------------------------


def test_an_empty_hold_requests_holds_nothing_but_still_names_the_namespace() -> None:
    env = parse(
        wrap(
            "<InformResponse><MaxEnvelopes>1</MaxEnvelopes></InformResponse>",
            "<S:Header><cwmp:HoldRequests/></S:Header>",
            CWMP_12,
        )
    )
    assert env == Envelope(InformResponse(1), cwmp_ns=NS_CWMP["1.2"])
    assert env.hold_requests is None


def test_a_second_header_and_a_second_body_are_ignored() -> None:
    data = (
        f'<S:Envelope xmlns:S="{SOAP_ENV}" xmlns:cwmp="{CWMP_10}">'
        "<S:Header><cwmp:ID>first</cwmp:ID></S:Header>"
        "<S:Header><cwmp:ID>second</cwmp:ID></S:Header>"
        "<S:Body><cwmp:Reboot><CommandKey>one</CommandKey></cwmp:Reboot></S:Body>"
        "<S:Body><cwmp:Reboot><CommandKey>two</CommandKey></cwmp:Reboot></S:Body>"
        "</S:Envelope>"
    ).encode()
    assert parse(data) == Envelope(Reboot("one"), cwmp_id="first")


def test_an_inform_without_a_namespace_is_an_inform() -> None:
    data = wrap(
        "<Inform><DeviceId><Manufacturer>Acme</Manufacturer><OUI>00D09E</OUI>"
        "<ProductClass>IGD</ProductClass><SerialNumber>SN1</SerialNumber></DeviceId>"
        "<Event/><MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime>"
        "<RetryCount>0</RetryCount><ParameterList/></Inform>",
        "<S:Header><cwmp:ID>9</cwmp:ID></S:Header>",
        CWMP_12,
    )
    assert is_inform(data) is True
    env = parse(data)
    assert env is not None and env.cwmp_ns == CWMP_12 and env.body.METHOD == "Inform"
    assert env.body.device_id.serial_number == "SN1"


# --- input forms and limits --------------------------------------------------------------


REBOOT = wrap("<cwmp:Reboot><CommandKey>k</CommandKey></cwmp:Reboot>")


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_a_buffer_over_the_size_limit_is_refused_before_it_is_copied(kind) -> None:
    data = kind(REBOOT)
    limit = len(REBOOT) - 1
    with pytest.raises(SoapParseError, match=f"^message larger than {limit} bytes$"):
        parse(data, max_bytes=limit)  # type: ignore[arg-type]
    assert parse(kind(REBOOT), max_bytes=len(REBOOT)) == Envelope(Reboot("k"))  # type: ignore[arg-type]
    # A 16 MiB buffer against the default 4 MiB limit: refused without a copy of it.
    huge = kind(bytearray(16 * 1024 * 1024))
    tracemalloc.start()
    try:
        with pytest.raises(SoapParseError, match="^message larger than 4194304 bytes$"):
            parse(huge)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def nested(depth: int) -> bytes:
    """A Reboot whose CommandKey holds `depth - 4` nested elements (the Envelope is 1)."""
    inner = depth - 4
    return wrap(
        f"<cwmp:Reboot><CommandKey>{'<x>' * inner}k{'</x>' * inner}</CommandKey></cwmp:Reboot>"
    )


def test_a_depth_limit_above_libxml2s_own_leaves_the_depth_to_libxml2() -> None:
    # Deeper than the default limit of 64, well within a generous one.
    with pytest.raises(SoapParseError, match="^XML nested deeper than 64 levels$"):
        parse(nested(100))
    assert parse(nested(100), max_depth=100_000) == Envelope(Reboot("k"))
    assert parse(REBOOT, max_depth=10**9) == Envelope(Reboot("k"))
    # libxml2 still refuses what is deeper than its own limit (256 without huge_tree).
    with pytest.raises(SoapParseError, match="^not well-formed XML: "):
        parse(nested(300), max_depth=100_000)
