"""Tests for the CWMP SOAP codec: round trips, real-world device messages, output shape."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from lxml import etree

from linesman.cwmp import soap
from linesman.cwmp.soap import (
    MESSAGE_TYPES,
    NS_CWMP,
    AddObject,
    AddObjectResponse,
    AutonomousTransferComplete,
    AutonomousTransferCompleteResponse,
    DeleteObject,
    DeleteObjectResponse,
    DeviceId,
    Download,
    DownloadResponse,
    Envelope,
    EventStruct,
    FactoryReset,
    FactoryResetResponse,
    Fault,
    GetParameterAttributes,
    GetParameterAttributesResponse,
    GetParameterNames,
    GetParameterNamesResponse,
    GetParameterValues,
    GetParameterValuesResponse,
    GetRPCMethods,
    GetRPCMethodsResponse,
    Inform,
    InformResponse,
    ParameterAttribute,
    ParameterInfo,
    ParameterValue,
    Reboot,
    RebootResponse,
    ScheduleInform,
    ScheduleInformResponse,
    SetParameterAttribute,
    SetParameterAttributes,
    SetParameterAttributesResponse,
    SetParameterValueFault,
    SetParameterValues,
    SetParameterValuesResponse,
    SoapParseError,
    TransferComplete,
    TransferCompleteResponse,
    UnknownMethodError,
    parse,
    serialize,
)
from tests.cwmp.envelopes import wrap

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# Characters that must be escaped, quotes, a CDATA terminator, non-ASCII and astral plane.
NASTY = "a & b < c > d \"q\" 'apos' ]]> é ü ß 日本語 🚀 &amp; &#x41;"
NASTY_MULTILINE = "line one\nline two\r\nline\tthree"


def _pv(name: str, value: str, type_: str = "xsd:string") -> ParameterValue:
    return ParameterValue(name, value, type_)


SAMPLE_MESSAGES: list[soap.Message] = [
    Inform(
        device_id=DeviceId("Acme & Sons <GmbH>", "00D09E", 'Router"X"', "SN-ü-01"),
        events=[EventStruct("0 BOOTSTRAP"), EventStruct("M Download", NASTY)],
        max_envelopes=1,
        current_time="2024-05-06T07:08:09+02:00",
        retry_count=3,
        parameters=[
            _pv("InternetGatewayDevice.DeviceInfo.SoftwareVersion", NASTY),
            _pv("InternetGatewayDevice.ManagementServer.PeriodicInformInterval", "300", "xsd:int"),
            _pv("InternetGatewayDevice.DeviceInfo.UpTime", "12", "xsd:unsignedInt"),
            _pv("InternetGatewayDevice.ManagementServer.PeriodicInformEnable", "1", "xsd:boolean"),
            _pv("InternetGatewayDevice.X_Vendor.Multiline", NASTY_MULTILINE),
            _pv("InternetGatewayDevice.X_Vendor.Empty", ""),
        ],
    ),
    Inform(device_id=DeviceId("", "", "", ""), events=[]),
    InformResponse(),
    InformResponse(max_envelopes=3),
    TransferComplete("ck-1"),
    TransferComplete(
        command_key=NASTY,
        fault_code=9010,
        fault_string="Download failed: <404>",
        start_time="2024-01-01T00:00:00Z",
        complete_time="0001-01-01T00:00:00Z",
    ),
    TransferCompleteResponse(),
    AutonomousTransferComplete(
        announce_url="http://announce.example/a?x=1&y=2",
        transfer_url="https://files.example/fw.bin",
        is_download=True,
        file_type="1 Firmware Upgrade Image",
        file_size=123456789,
        target_file_name="fw.bin",
        fault_code=0,
        fault_string="",
        start_time="2024-01-01T00:00:00Z",
        complete_time="2024-01-01T00:05:00Z",
    ),
    AutonomousTransferComplete("", "", False, "3 Vendor Configuration File", 0, ""),
    AutonomousTransferCompleteResponse(),
    GetRPCMethods(),
    GetRPCMethodsResponse(["GetRPCMethods", "GetParameterValues", "Reboot"]),
    GetRPCMethodsResponse([]),
    GetParameterNames("InternetGatewayDevice.", True),
    GetParameterNames("", False),
    GetParameterNamesResponse(
        [
            ParameterInfo("InternetGatewayDevice.DeviceInfo.", False),
            ParameterInfo("InternetGatewayDevice.LANDevice.1.X_Ü&<>.", True),
        ]
    ),
    GetParameterNamesResponse([]),
    GetParameterValues(["InternetGatewayDevice.DeviceInfo.", NASTY]),
    GetParameterValues([]),
    GetParameterValuesResponse(
        [_pv("A.B", "1", "xsd:unsignedInt"), _pv("A.C", NASTY), _pv("A.D", "AQID", "xsd:base64")]
    ),
    GetParameterValuesResponse([]),
    SetParameterValues([_pv("A.B", "x&y"), _pv("A.C", "-5", "xsd:int")], parameter_key=NASTY),
    SetParameterValues([]),
    SetParameterValuesResponse(),
    SetParameterValuesResponse(status=1),
    GetParameterAttributes(["A.", "B.C"]),
    GetParameterAttributes([]),
    GetParameterAttributesResponse(
        [ParameterAttribute("A.B", 2, ["Subscriber"]), ParameterAttribute("A.C", 0, [])]
    ),
    GetParameterAttributesResponse([]),
    SetParameterAttributes(
        [
            SetParameterAttribute("A.B", True, 2, False, []),
            SetParameterAttribute("A.C", False, 0, True, ["Subscriber", "X_Vendor<&>"]),
        ]
    ),
    SetParameterAttributes([]),
    SetParameterAttributesResponse(),
    AddObject("InternetGatewayDevice.LANDevice.1.WLANConfiguration.", "pk"),
    AddObject("A."),
    AddObjectResponse(instance_number=7),
    AddObjectResponse(instance_number=4294967295, status=1),
    DeleteObject("A.3.", NASTY),
    DeleteObjectResponse(),
    DeleteObjectResponse(status=1),
    Reboot(),
    Reboot(NASTY),
    RebootResponse(),
    FactoryReset(),
    FactoryResetResponse(),
    Download("ck", "1 Firmware Upgrade Image", "http://files.example/fw.bin"),
    Download(
        command_key="ck-2",
        file_type="3 Vendor Configuration File",
        url="https://files.example/cfg?a=1&b=<2>",
        username="user",
        password="p&ss<word>\"'",
        file_size=2048,
        target_file_name="config.xml",
        delay_seconds=30,
        success_url="http://ok.example/",
        failure_url="http://fail.example/",
    ),
    DownloadResponse(),
    DownloadResponse(1, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ScheduleInform(delay_seconds=60, command_key="later"),
    ScheduleInform(delay_seconds=0),
    ScheduleInformResponse(),
    Fault(9003, "Invalid arguments"),
    Fault(
        9003,
        "Invalid arguments",
        [
            SetParameterValueFault("A.B", 9007, "Invalid parameter value"),
            SetParameterValueFault("A.C", 9008, NASTY),
        ],
    ),
    Fault(8005, "Retry request", []),
    Fault(9800, "Vendor fault <&>"),
]


def test_samples_cover_every_message_type() -> None:
    assert {type(m) for m in SAMPLE_MESSAGES} == set(MESSAGE_TYPES.values())


def test_message_types_are_keyed_by_method_name() -> None:
    assert len(MESSAGE_TYPES) == 31
    for name, cls in MESSAGE_TYPES.items():
        assert name == cls.METHOD


@pytest.mark.parametrize("ns", list(NS_CWMP.values()), ids=list(NS_CWMP))
@pytest.mark.parametrize("message", SAMPLE_MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip_every_message_in_every_namespace(ns: str, message: soap.Message) -> None:
    env = Envelope(message, cwmp_id="id-42", cwmp_ns=ns)
    parsed = parse(serialize(env))
    assert parsed == env
    assert parsed is not None and parsed.body is not message  # a real parse, not a cache


@pytest.mark.parametrize(
    "env",
    [
        Envelope(Reboot("x")),
        Envelope(Reboot("x"), cwmp_id=""),
        Envelope(Reboot("x"), cwmp_id="  spaced id\t"),
        Envelope(Reboot("x"), cwmp_id=NASTY),
        Envelope(InformResponse(), cwmp_id="1", hold_requests=True),
        Envelope(InformResponse(), cwmp_id="1", hold_requests=False),
        Envelope(
            InformResponse(),
            cwmp_id="1",
            cwmp_ns=NS_CWMP["1.2"],
            supported_cwmp_versions="1.0,1.1,1.2,1.3,1.4",
            use_cwmp_version="1.2",
        ),
    ],
)
def test_round_trip_headers(env: Envelope) -> None:
    assert parse(serialize(env)) == env


def test_round_trip_keeps_carriage_returns_inside_values() -> None:
    env = Envelope(GetParameterValuesResponse([_pv("A", "x\r\ny\rz")]), cwmp_id="1")
    parsed = parse(serialize(env))
    assert parsed is not None
    assert parsed.body.parameters[0].value == "x\r\ny\rz"  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# Realistic device messages
# --------------------------------------------------------------------------------------------

TR098_INFORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:cwmp="urn:dslforum-org:cwmp-1-0">
  <SOAP-ENV:Header>
    <cwmp:ID SOAP-ENV:mustUnderstand="1">1734</cwmp:ID>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
    <cwmp:Inform>
      <DeviceId>
        <Manufacturer>Example Networks</Manufacturer>
        <OUI>00259E</OUI>
        <ProductClass>HG8245</ProductClass>
        <SerialNumber>48575443A1B2C3D4</SerialNumber>
      </DeviceId>
      <Event SOAP-ENC:arrayType="cwmp:EventStruct[2]">
        <EventStruct>
          <EventCode>0 BOOTSTRAP</EventCode>
          <CommandKey></CommandKey>
        </EventStruct>
        <EventStruct>
          <EventCode>1 BOOT</EventCode>
          <CommandKey/>
        </EventStruct>
      </Event>
      <MaxEnvelopes>1</MaxEnvelopes>
      <CurrentTime>2024-03-01T12:34:56+01:00</CurrentTime>
      <RetryCount>0</RetryCount>
      <ParameterList SOAP-ENC:arrayType="cwmp:ParameterValueStruct[6]">
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.DeviceSummary</Name>
          <Value xsi:type="xsd:string">InternetGatewayDevice:1.1[](Baseline:1, LAN:1)</Value>
        </ParameterValueStruct>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.DeviceInfo.HardwareVersion</Name>
          <Value xsi:type="xsd:string">V1.2</Value>
        </ParameterValueStruct>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.DeviceInfo.SoftwareVersion</Name>
          <Value xsi:type="xsd:string">V3R017C10S115</Value>
        </ParameterValueStruct>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.DeviceInfo.ProvisioningCode</Name>
          <Value xsi:type="xsd:string"></Value>
        </ParameterValueStruct>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.ManagementServer.ConnectionRequestURL</Name>
          <Value xsi:type="xsd:string">http://100.64.12.7:7547/cr?a=1&amp;b=2</Value>
        </ParameterValueStruct>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.ManagementServer.ParameterKey</Name>
          <Value xsi:type="xsd:string">
              pk-7
          </Value>
        </ParameterValueStruct>
      </ParameterList>
    </cwmp:Inform>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
"""


def test_parse_tr098_inform() -> None:
    env = parse(TR098_INFORM)
    assert env is not None
    assert env.cwmp_id == "1734"
    assert env.cwmp_ns == NS_CWMP["1.0"]
    assert env.hold_requests is None
    inform = env.body
    assert isinstance(inform, Inform)
    assert inform.device_id == DeviceId("Example Networks", "00259E", "HG8245", "48575443A1B2C3D4")
    assert inform.events == [EventStruct("0 BOOTSTRAP", ""), EventStruct("1 BOOT", "")]
    assert inform.max_envelopes == 1
    assert inform.current_time == "2024-03-01T12:34:56+01:00"
    assert inform.retry_count == 0
    values = {p.name: p.value for p in inform.parameters}
    assert len(inform.parameters) == 6
    assert values["InternetGatewayDevice.DeviceInfo.SoftwareVersion"] == "V3R017C10S115"
    assert values["InternetGatewayDevice.DeviceInfo.ProvisioningCode"] == ""
    assert (
        values["InternetGatewayDevice.ManagementServer.ConnectionRequestURL"]
        == "http://100.64.12.7:7547/cr?a=1&b=2"
    )
    # Newlines and indentation around a value are trimmed.
    assert values["InternetGatewayDevice.ManagementServer.ParameterKey"] == "pk-7"
    assert all(p.type == "xsd:string" for p in inform.parameters)


# Odd prefixes, no XML declaration, CRLF line ends, no Header, a wrong arrayType count,
# cwmp-1-1, mixed-case event codes and xsi:type with a non-"xsd" prefix.
ODD_INFORM = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"\r\n'
    b'   xmlns:e="http://schemas.xmlsoap.org/soap/encoding/"\r\n'
    b'   xmlns:d="http://www.w3.org/2001/XMLSchema"\r\n'
    b'   xmlns:x="http://www.w3.org/2001/XMLSchema-instance"\r\n'
    b'   xmlns:c="urn:dslforum-org:cwmp-1-1">\r\n'
    b"\t<s:Body>\r\n"
    b"\t\t<c:Inform>\r\n"
    b"\t\t\t<MaxEnvelopes> 1 </MaxEnvelopes>\r\n"
    b"\t\t\t<DeviceId><Manufacturer>Tiny\r\n CPE Inc</Manufacturer><OUI>A0B1C2</OUI>\r\n"
    b"\t\t\t<ProductClass>IGD</ProductClass><SerialNumber>\r\n  0001  \r\n</SerialNumber>"
    b"</DeviceId>\r\n"
    b'\t\t\t<Event e:arrayType="c:EventStruct[7]">\r\n'
    b"\t\t\t\t<EventStruct><EventCode>1 Boot</EventCode><CommandKey></CommandKey>"
    b"</EventStruct>\r\n"
    b"\t\t\t\t<EventStruct><CommandKey>reboot-cmd-99</CommandKey>"
    b"<EventCode>M Reboot</EventCode></EventStruct>\r\n"
    b"\t\t\t\t<EventStruct><EventCode>4 value change</EventCode></EventStruct>\r\n"
    b"\t\t\t\t<EventStruct><EventCode>X 00D09E Foo</EventCode><CommandKey/></EventStruct>\r\n"
    b"\t\t\t</Event>\r\n"
    b"\t\t\t<RetryCount>2</RetryCount>\r\n"
    b'\t\t\t<ParameterList e:arrayType="c:ParameterValueStruct[1]">\r\n'
    b"\t\t\t\t<ParameterValueStruct>\r\n"
    b'\t\t\t\t\t<Value x:type="d:unsignedInt">\r\n\t\t\t\t\t\t3600\r\n\t\t\t\t\t</Value>\r\n'
    b"\t\t\t\t\t<Name>Device.ManagementServer.PeriodicInformInterval</Name>\r\n"
    b"\t\t\t\t</ParameterValueStruct>\r\n"
    b"\t\t\t\t<ParameterValueStruct><Name>Device.Untyped</Name><Value>v</Value>"
    b"</ParameterValueStruct>\r\n"
    b"\t\t\t</ParameterList>\r\n"
    b"\t\t</c:Inform>\r\n"
    b"\t</s:Body>\r\n"
    b"</s:Envelope>\r\n"
)


def test_parse_inform_with_odd_prefixes_and_no_header() -> None:
    env = parse(ODD_INFORM)
    assert env is not None
    assert env.cwmp_id is None
    assert env.cwmp_ns == NS_CWMP["1.1"]
    inform = env.body
    assert isinstance(inform, Inform)
    assert inform.device_id == DeviceId("Tiny\n CPE Inc", "A0B1C2", "IGD", "0001")
    assert inform.events == [
        EventStruct("1 BOOT"),
        EventStruct("M Reboot", "reboot-cmd-99"),
        EventStruct("4 VALUE CHANGE"),
        EventStruct("X 00D09E Foo"),
    ]
    assert [e.code for e in inform.events] == [
        "1 BOOT",
        "M Reboot",
        "4 VALUE CHANGE",
        "X 00D09E Foo",
    ]
    assert inform.max_envelopes == 1
    assert inform.retry_count == 2
    assert inform.current_time == ""
    assert inform.parameters == [
        ParameterValue("Device.ManagementServer.PeriodicInformInterval", "3600", "xsd:unsignedInt"),
        ParameterValue("Device.Untyped", "v", "xsd:string"),
    ]


def test_parse_get_parameter_values_response_with_xs_prefix() -> None:
    data = b"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
        xmlns:xs="http://www.w3.org/2001/XMLSchema"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"
        xmlns:cwmp="urn:dslforum-org:cwmp-1-2">
      <soapenv:Header><cwmp:ID soapenv:mustUnderstand="1">req-9</cwmp:ID></soapenv:Header>
      <soapenv:Body>
        <cwmp:GetParameterValuesResponse>
          <ParameterList soapenc:arrayType="cwmp:ParameterValueStruct[0]">
            <ParameterValueStruct>
              <Name>Device.DeviceInfo.UpTime</Name>
              <Value xsi:type="xs:unsignedInt">86400</Value>
            </ParameterValueStruct>
            <ParameterValueStruct>
              <Name>Device.DeviceInfo.Enabled</Name>
              <Value xsi:type="xs:boolean">true</Value>
            </ParameterValueStruct>
            <ParameterValueStruct>
              <Name>Device.DeviceInfo.Blob</Name>
              <Value xsi:type="SOAP-ENC:base64">AAEC</Value>
            </ParameterValueStruct>
            <ParameterValueStruct>
              <Name>Device.DeviceInfo.When</Name>
              <Value xsi:type="dateTime"><![CDATA[2024-01-01T00:00:00Z]]></Value>
            </ParameterValueStruct>
          </ParameterList>
        </cwmp:GetParameterValuesResponse>
      </soapenv:Body>
    </soapenv:Envelope>"""
    env = parse(data)
    assert env is not None
    assert env.cwmp_id == "req-9"
    assert env.cwmp_ns == NS_CWMP["1.2"]
    assert env.body == GetParameterValuesResponse(
        [
            ParameterValue("Device.DeviceInfo.UpTime", "86400", "xsd:unsignedInt"),
            ParameterValue("Device.DeviceInfo.Enabled", "true", "xsd:boolean"),
            ParameterValue("Device.DeviceInfo.Blob", "AAEC", "xsd:base64"),
            ParameterValue("Device.DeviceInfo.When", "2024-01-01T00:00:00Z", "xsd:dateTime"),
        ]
    )


SPV_FAULT = b"""<?xml version="1.0"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
                   xmlns:cwmp="urn:dslforum-org:cwmp-1-0">
  <SOAP-ENV:Header>
    <cwmp:ID SOAP-ENV:mustUnderstand="1">spv-1</cwmp:ID>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <SOAP-ENV:Fault>
      <faultcode>Client</faultcode>
      <faultstring>CWMP fault</faultstring>
      <detail>
        <cwmp:Fault>
          <FaultCode>9003</FaultCode>
          <FaultString>Invalid arguments</FaultString>
          <SetParameterValuesFault>
            <ParameterName>InternetGatewayDevice.Time.NTPServer1</ParameterName>
            <FaultCode>9007</FaultCode>
            <FaultString>Invalid parameter value</FaultString>
          </SetParameterValuesFault>
          <SetParameterValuesFault>
            <ParameterName>InternetGatewayDevice.DeviceInfo.Manufacturer</ParameterName>
            <FaultCode>9008</FaultCode>
            <FaultString>Attempt to set a non-writable parameter</FaultString>
          </SetParameterValuesFault>
        </cwmp:Fault>
      </detail>
    </SOAP-ENV:Fault>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


def test_parse_soap_fault_with_set_parameter_values_faults() -> None:
    env = parse(SPV_FAULT)
    assert env is not None
    assert env.cwmp_id == "spv-1"
    assert env.cwmp_ns == NS_CWMP["1.0"]
    assert env.body == Fault(
        9003,
        "Invalid arguments",
        [
            SetParameterValueFault(
                "InternetGatewayDevice.Time.NTPServer1", 9007, "Invalid parameter value"
            ),
            SetParameterValueFault(
                "InternetGatewayDevice.DeviceInfo.Manufacturer",
                9008,
                "Attempt to set a non-writable parameter",
            ),
        ],
    )


def test_parse_soap_fault_without_cwmp_detail() -> None:
    data = b"""<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">
      <e:Body><e:Fault><faultcode>e:Server</faultcode>
      <faultstring> Internal server error </faultstring></e:Fault></e:Body></e:Envelope>"""
    env = parse(data)
    assert env is not None
    assert env.body == Fault(0, "Internal server error")
    assert env.cwmp_ns == NS_CWMP["1.0"]
    assert env.cwmp_id is None


def test_parse_soap_fault_takes_namespace_from_detail() -> None:
    data = SPV_FAULT.replace(b"cwmp-1-0", b"cwmp-1-3")
    env = parse(data)
    assert env is not None and env.cwmp_ns == NS_CWMP["1.3"]


def test_parse_soap_fault_with_unknown_detail_namespace_is_rejected() -> None:
    data = SPV_FAULT.replace(b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"', b'xmlns:cwmp="urn:x"')
    with pytest.raises(SoapParseError, match="unknown namespace"):
        parse(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", False),
        ("1", True),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (" False ", False),
    ],
)
def test_booleans_accept_any_spelling(text: str, expected: bool) -> None:
    header = f"<S:Header><cwmp:HoldRequests>{text}</cwmp:HoldRequests></S:Header>"
    body = (
        "<cwmp:GetParameterNames><ParameterPath>A.</ParameterPath>"
        f"<NextLevel>{text}</NextLevel></cwmp:GetParameterNames>"
    )
    env = parse(wrap(body, header))
    assert env is not None
    assert env.hold_requests is expected
    assert env.body == GetParameterNames("A.", expected)
    resp = parse(
        wrap(
            "<cwmp:GetParameterNamesResponse><ParameterList><ParameterInfoStruct>"
            f"<Name>A.B</Name><Writable>{text}</Writable></ParameterInfoStruct></ParameterList>"
            "</cwmp:GetParameterNamesResponse>"
        )
    )
    assert resp is not None
    assert resp.body == GetParameterNamesResponse([ParameterInfo("A.B", expected)])


def test_bad_boolean_is_rejected() -> None:
    body = (
        "<cwmp:GetParameterNames><ParameterPath/><NextLevel>yes</NextLevel>"
        "</cwmp:GetParameterNames>"
    )
    with pytest.raises(SoapParseError, match="NextLevel"):
        parse(wrap(body))


def test_header_fields_and_ignored_no_more_requests() -> None:
    header = (
        '<S:Header><cwmp:ID S:mustUnderstand="1"> keep me </cwmp:ID>'
        "<cwmp:NoMoreRequests>1</cwmp:NoMoreRequests>"
        "<cwmp:SupportedCWMPVersions>1.0,1.1,1.2,1.3,1.4</cwmp:SupportedCWMPVersions>"
        "<cwmp:UseCWMPVersion>1.3</cwmp:UseCWMPVersion>"
        "<other:Thing xmlns:other='urn:other'>ignored</other:Thing></S:Header>"
    )
    env = parse(wrap("<cwmp:RebootResponse/>", header))
    assert env == Envelope(
        RebootResponse(),
        cwmp_id=" keep me ",
        supported_cwmp_versions="1.0,1.1,1.2,1.3,1.4",
        use_cwmp_version="1.3",
    )


def test_missing_optional_elements_are_tolerated() -> None:
    env = parse(wrap("<cwmp:Inform><DeviceId><OUI>X</OUI></DeviceId></cwmp:Inform>", "<S:Header/>"))
    assert env is not None
    assert env.body == Inform(DeviceId("", "X", "", ""), [], 1, "", 0, [])
    assert env.cwmp_id is None
    assert parse(wrap("<cwmp:SetParameterValuesResponse/>")).body == (  # type: ignore[union-attr]
        SetParameterValuesResponse(0)
    )
    assert parse(wrap("<cwmp:Download/>")).body == Download("", "", "")  # type: ignore[union-attr]
    assert parse(wrap("<cwmp:TransferComplete/>")).body == TransferComplete("")  # type: ignore[union-attr]


def test_empty_integer_element_means_default() -> None:
    env = parse(wrap("<cwmp:InformResponse><MaxEnvelopes></MaxEnvelopes></cwmp:InformResponse>"))
    assert env is not None and env.body == InformResponse(1)


@pytest.mark.parametrize(
    "method_xml",
    [
        "<cwmp:InformResponse><MaxEnvelopes>one</MaxEnvelopes></cwmp:InformResponse>",
        "<cwmp:InformResponse><MaxEnvelopes>1.5</MaxEnvelopes></cwmp:InformResponse>",
        "<cwmp:InformResponse><MaxEnvelopes>1_000</MaxEnvelopes></cwmp:InformResponse>",
        "<cwmp:InformResponse><MaxEnvelopes>\u0661</MaxEnvelopes></cwmp:InformResponse>",
        "<cwmp:AddObjectResponse><InstanceNumber>x</InstanceNumber></cwmp:AddObjectResponse>",
        "<cwmp:AddObjectResponse><Status>0</Status></cwmp:AddObjectResponse>",
        "<cwmp:ScheduleInform><CommandKey>k</CommandKey></cwmp:ScheduleInform>",
        "<cwmp:GetParameterNames><ParameterPath>A.</ParameterPath></cwmp:GetParameterNames>",
        "<cwmp:Inform><Event/></cwmp:Inform>",
        "<cwmp:Inform><DeviceId/><RetryCount>9" + "9" * 40 + "</RetryCount></cwmp:Inform>",
        "<cwmp:TransferComplete><FaultStruct><FaultCode>E</FaultCode></FaultStruct>"
        "</cwmp:TransferComplete>",
        "<cwmp:AutonomousTransferComplete><FileSize>1</FileSize></cwmp:AutonomousTransferComplete>",
    ],
)
def test_wrong_or_missing_required_values_are_rejected(method_xml: str) -> None:
    with pytest.raises(SoapParseError):
        parse(wrap(method_xml))


def test_error_message_names_the_method_and_element() -> None:
    with pytest.raises(SoapParseError, match=r"InformResponse: MaxEnvelopes.*'one'"):
        parse(wrap("<cwmp:InformResponse><MaxEnvelopes>one</MaxEnvelopes></cwmp:InformResponse>"))


def test_unknown_method_carries_id_and_namespace() -> None:
    header = "<S:Header><cwmp:ID>77</cwmp:ID></S:Header>"
    with pytest.raises(UnknownMethodError) as info:
        parse(wrap("<cwmp:RequestDownload><FileType>x</FileType></cwmp:RequestDownload>", header))
    assert isinstance(info.value, SoapParseError)
    assert info.value.method == "RequestDownload"
    assert info.value.cwmp_id == "77"
    assert info.value.cwmp_ns == NS_CWMP["1.0"]


def test_unknown_cwmp_namespace_is_rejected() -> None:
    with pytest.raises(SoapParseError, match="unknown namespace"):
        parse(wrap("<cwmp:InformResponse/>", ns="urn:dslforum-org:cwmp-9-9"))


def test_method_without_namespace_uses_header_namespace() -> None:
    header = "<S:Header><cwmp:ID>5</cwmp:ID></S:Header>"
    env = parse(
        wrap(
            "<InformResponse><MaxEnvelopes>2</MaxEnvelopes></InformResponse>",
            header,
            NS_CWMP["1.2"],
        )
    )
    assert env == Envelope(InformResponse(2), cwmp_id="5", cwmp_ns=NS_CWMP["1.2"])
    bare = parse(wrap("<InformResponse/>"))
    assert bare is not None and bare.cwmp_ns == NS_CWMP["1.0"]


def test_comments_processing_instructions_and_cdata_are_harmless() -> None:
    data = wrap(
        "<!-- a comment --><cwmp:SetParameterValues><?pi stuff?><ParameterList>"
        "<ParameterValueStruct><Name>A<!-- x -->.B</Name>"
        "<Value xsi:type='xsd:string'><![CDATA[<not> & markup]]></Value>"
        "</ParameterValueStruct></ParameterList><ParameterKey>k</ParameterKey>"
        "</cwmp:SetParameterValues>"
    )
    env = parse(data)
    assert env is not None
    assert env.body == SetParameterValues([ParameterValue("A.B", "<not> & markup")], "k")


def test_xsi_type_with_unusual_binding_still_found() -> None:
    data = wrap(
        "<cwmp:GetParameterValuesResponse><ParameterList><ParameterValueStruct>"
        "<Name>A</Name><Value xmlns:i='http://www.w3.org/1999/XMLSchema-instance' "
        "i:type='xsd:int'>5</Value></ParameterValueStruct></ParameterList>"
        "</cwmp:GetParameterValuesResponse>"
    )
    env = parse(data)
    assert env is not None
    assert env.body == GetParameterValuesResponse([ParameterValue("A", "5", "xsd:int")])


def test_leading_whitespace_bom_and_latin1() -> None:
    base = serialize(Envelope(Reboot("café"), cwmp_id="1"))
    assert parse(b"\r\n  " + base) == Envelope(Reboot("café"), cwmp_id="1")
    assert parse(b"\xef\xbb\xbf" + base) == Envelope(Reboot("café"), cwmp_id="1")
    latin = base.decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    assert parse(latin) == Envelope(Reboot("café"), cwmp_id="1")


def test_str_input_is_accepted() -> None:
    text = serialize(Envelope(RebootResponse(), cwmp_id="1")).decode()
    assert parse(text) == Envelope(RebootResponse(), cwmp_id="1")  # type: ignore[arg-type]
    latin_decl = serialize(Envelope(Reboot("café"))).decode().replace("UTF-8", "ISO-8859-1")
    assert parse(latin_decl) == Envelope(Reboot("café"))  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"", b" ", b"\r\n\t  \n", bytearray(b"  ")])
def test_empty_body_is_none(data: bytes) -> None:
    assert parse(data) is None


# --------------------------------------------------------------------------------------------
# Value objects
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("canonical", soap.EVENT_CODES)
def test_event_codes_normalised(canonical: str) -> None:
    assert EventStruct(canonical).code == canonical
    assert EventStruct(canonical.lower()).code == canonical
    assert EventStruct(canonical.upper()).code == canonical
    assert EventStruct(canonical.title()).code == canonical
    assert EventStruct(canonical.replace(" ", "  ")).code == canonical


def test_vendor_and_unknown_event_codes_kept() -> None:
    assert EventStruct("X 00D09E Custom Event").code == "X 00D09E Custom Event"
    assert EventStruct("x 00d09e lower").code == "x 00d09e lower"
    assert EventStruct("99 FUTURE").code == "99 FUTURE"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("xsd:string", "xsd:string"),
        ("xs:unsignedInt", "xsd:unsignedInt"),
        ("unsignedInt", "xsd:unsignedInt"),
        ("SOAP-ENC:base64", "xsd:base64"),
        (" xsd:int ", "xsd:int"),
        ("", "xsd:string"),
        ("a:b:dateTime", "xsd:dateTime"),
    ],
)
def test_parameter_value_type_normalised(given: str, expected: str) -> None:
    assert ParameterValue("A", "v", given).type == expected


# --------------------------------------------------------------------------------------------
# Serialized output shape
# --------------------------------------------------------------------------------------------


def _full_inform() -> Envelope:
    return Envelope(SAMPLE_MESSAGES[0], cwmp_id="abc", cwmp_ns=NS_CWMP["1.1"])


def test_serialized_declaration_and_prefixes() -> None:
    data = serialize(_full_inform())
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(data)
    assert root.nsmap == {
        "soap-env": SOAP_ENV,
        "soap-enc": SOAP_ENC,
        "xsd": XSD,
        "xsi": XSI,
        "cwmp": NS_CWMP["1.1"],
    }
    # No element or attribute anywhere introduces another prefix or a default namespace.
    assert re.findall(rb"xmlns(?::[\w-]+)?=", data) == [
        b"xmlns:soap-env=",
        b"xmlns:soap-enc=",
        b"xmlns:xsd=",
        b"xmlns:xsi=",
        b"xmlns:cwmp=",
    ]
    prefixes = {p for p in re.findall(rb"</?([\w-]+):", data)}
    assert prefixes == {b"soap-env", b"cwmp"}
    assert b"<soap-env:Envelope " in data
    assert b"<soap-env:Header>" in data
    assert b"<soap-env:Body><cwmp:Inform>" in data
    assert data.endswith(b"</cwmp:Inform></soap-env:Body></soap-env:Envelope>")


def test_serialized_id_has_must_understand() -> None:
    data = serialize(_full_inform())
    assert b'<cwmp:ID soap-env:mustUnderstand="1">abc</cwmp:ID>' in data


def test_serialized_headers() -> None:
    data = serialize(
        Envelope(
            InformResponse(),
            cwmp_id="i",
            hold_requests=True,
            supported_cwmp_versions="1.0,1.1",
            use_cwmp_version="1.1",
        )
    )
    assert (
        b"<soap-env:Header>"
        b'<cwmp:ID soap-env:mustUnderstand="1">i</cwmp:ID>'
        b'<cwmp:HoldRequests soap-env:mustUnderstand="1">1</cwmp:HoldRequests>'
        b'<cwmp:SupportedCWMPVersions soap-env:mustUnderstand="0">1.0,1.1'
        b"</cwmp:SupportedCWMPVersions>"
        b'<cwmp:UseCWMPVersion soap-env:mustUnderstand="1">1.1</cwmp:UseCWMPVersion>'
        b"</soap-env:Header>"
    ) in data


def test_no_header_when_nothing_to_say() -> None:
    data = serialize(Envelope(GetRPCMethods()))
    assert b"Header" not in data
    assert b"<soap-env:Body><cwmp:GetRPCMethods></cwmp:GetRPCMethods></soap-env:Body>" in data


def test_inform_response_exact_bytes() -> None:
    data = serialize(Envelope(InformResponse(1), cwmp_id="1734"))
    assert data == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
        b'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0">'
        b'<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">1734</cwmp:ID></soap-env:Header>'
        b"<soap-env:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes>"
        b"</cwmp:InformResponse></soap-env:Body></soap-env:Envelope>"
    )


def test_every_value_carries_xsi_type() -> None:
    for message in SAMPLE_MESSAGES:
        root = etree.fromstring(serialize(Envelope(message)))
        for value in root.iter("Value"):
            assert value.get(f"{{{XSI}}}type", "").startswith("xsd:")
    data = serialize(_full_inform())
    assert data.count(b"<Value xsi:type=") == 6
    assert b'<Value xsi:type="xsd:unsignedInt">12</Value>' in data
    assert b'<Value xsi:type="xsd:string"></Value>' in data


@pytest.mark.parametrize(
    ("message", "snippet"),
    [
        (SAMPLE_MESSAGES[0], b'<Event soap-enc:arrayType="cwmp:EventStruct[2]">'),
        (SAMPLE_MESSAGES[0], b'<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[6]">'),
        (Inform(DeviceId("", "", "", ""), []), b'soap-enc:arrayType="cwmp:EventStruct[0]"'),
        (GetRPCMethodsResponse(["a", "b"]), b'<MethodList soap-enc:arrayType="xsd:string[2]">'),
        (GetParameterValues(["a"]), b'<ParameterNames soap-enc:arrayType="xsd:string[1]">'),
        (GetParameterAttributes([]), b'<ParameterNames soap-enc:arrayType="xsd:string[0]">'),
        (
            GetParameterNamesResponse([ParameterInfo("a", True)]),
            b'<ParameterList soap-enc:arrayType="cwmp:ParameterInfoStruct[1]">'
            b"<ParameterInfoStruct><Name>a</Name><Writable>1</Writable></ParameterInfoStruct>",
        ),
        (
            GetParameterAttributesResponse([ParameterAttribute("a", 2, ["Subscriber"])] * 3),
            b'<ParameterList soap-enc:arrayType="cwmp:ParameterAttributeStruct[3]">',
        ),
        (
            GetParameterAttributesResponse([ParameterAttribute("a", 2, ["Subscriber"])]),
            b'<AccessList soap-enc:arrayType="xsd:string[1]"><string>Subscriber</string>',
        ),
        (
            SetParameterAttributes([SetParameterAttribute("a", True, 1, False, [])] * 2),
            b'<ParameterList soap-enc:arrayType="cwmp:SetParameterAttributesStruct[2]">',
        ),
        (
            SetParameterValues([ParameterValue("a", "1", "xsd:int")]),
            b'<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[1]">'
            b'<ParameterValueStruct><Name>a</Name><Value xsi:type="xsd:int">1</Value>'
            b"</ParameterValueStruct></ParameterList><ParameterKey></ParameterKey>",
        ),
        (GetParameterValuesResponse([]), b'"cwmp:ParameterValueStruct[0]"></ParameterList>'),
    ],
)
def test_array_types(message: soap.Message, snippet: bytes) -> None:
    assert snippet in serialize(Envelope(message))


def test_fault_serialization() -> None:
    data = serialize(
        Envelope(
            Fault(9003, "Invalid arguments", [SetParameterValueFault("A.B", 9007, "bad <x>")]),
            cwmp_id="f",
        )
    )
    assert (
        b"<soap-env:Body><soap-env:Fault><faultcode>Client</faultcode>"
        b"<faultstring>CWMP fault</faultstring><detail><cwmp:Fault>"
        b"<FaultCode>9003</FaultCode><FaultString>Invalid arguments</FaultString>"
        b"<SetParameterValuesFault><ParameterName>A.B</ParameterName><FaultCode>9007</FaultCode>"
        b"<FaultString>bad &lt;x&gt;</FaultString></SetParameterValuesFault>"
        b"</cwmp:Fault></detail></soap-env:Fault></soap-env:Body>"
    ) in data
    server = serialize(Envelope(Fault(8005, "Retry request")))
    assert b"<faultcode>Server</faultcode>" in server


def test_escaping_is_complete() -> None:
    data = serialize(Envelope(Reboot("<&>\"'\r")))
    assert b"<CommandKey>&lt;&amp;&gt;&quot;'&#13;</CommandKey>" in data
    assert "日本".encode() in serialize(Envelope(Reboot("日本")))


def test_serialize_empty_body() -> None:
    assert serialize(Envelope(body=None)) == b""
    assert serialize(Envelope(body=None, cwmp_id="1", hold_requests=True)) == b""


def test_serialize_rejects_unserializable_input() -> None:
    with pytest.raises(ValueError, match="namespace"):
        serialize(Envelope(Reboot(), cwmp_ns="urn:nope"))
    with pytest.raises(ValueError, match="XML 1.0"):
        serialize(Envelope(Reboot("bell\x07")))
    with pytest.raises(ValueError, match="XML 1.0"):
        serialize(Envelope(Reboot("half \ud800 surrogate")))
    with pytest.raises(TypeError):
        serialize(Envelope(object()))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        serialize(Envelope(InformResponse("1")))  # type: ignore[arg-type]


def test_parsed_output_of_other_stacks_round_trips_through_our_serializer() -> None:
    env = parse(TR098_INFORM)
    assert env is not None
    assert parse(serialize(env)) == env


def test_parse_and_serialize_from_many_threads() -> None:
    envs = [Envelope(m, cwmp_id=str(i)) for i, m in enumerate(SAMPLE_MESSAGES)] * 20

    def round_trip(env: Envelope) -> bool:
        return parse(serialize(env)) == env

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, envs))
