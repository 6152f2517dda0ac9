"""Request bodies in the styles real CPE stacks write, parsed by the ACS's codec.

Each body is written out by hand the way a family of CPE firmware formats its messages
(prefix choices, namespace declarations on each element or none at all, indentation and
line breaks, self-closing empty elements, optional elements left out). The expected values
are read off the body by eye, not produced by the codec.
"""

from __future__ import annotations

from linesman.cwmp import soap

# A TR-098 gateway: SOAP-ENV/SOAP-ENC prefixes, pretty-printed, arrays with arrayType,
# an empty CommandKey written as a self-closing element.
TR098_PRETTY_INFORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope
    xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:cwmp="urn:dslforum-org:cwmp-1-0">
  <SOAP-ENV:Header>
    <cwmp:ID SOAP-ENV:mustUnderstand="1">1804289383</cwmp:ID>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <cwmp:Inform>
      <DeviceId>
        <Manufacturer>Acme Networks</Manufacturer>
        <OUI>00D09E</OUI>
        <ProductClass>IGD-2000</ProductClass>
        <SerialNumber>ACME0000123</SerialNumber>
      </DeviceId>
      <Event SOAP-ENC:arrayType="cwmp:EventStruct[2]">
        <EventStruct>
          <EventCode>1 BOOT</EventCode>
          <CommandKey/>
        </EventStruct>
        <EventStruct>
          <EventCode>M Reboot</EventCode>
          <CommandKey>op_abc</CommandKey>
        </EventStruct>
      </Event>
      <MaxEnvelopes>1</MaxEnvelopes>
      <CurrentTime>2026-11-30T04:00:00+01:00</CurrentTime>
      <RetryCount>0</RetryCount>
      <ParameterList SOAP-ENC:arrayType="cwmp:ParameterValueStruct[2]">
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.DeviceInfo.SoftwareVersion</Name>
          <Value xsi:type="xsd:string">4.2.1</Value>
        </ParameterValueStruct>
        <ParameterValueStruct>
          <Name>InternetGatewayDevice.ManagementServer.ConnectionRequestURL</Name>
          <Value xsi:type="xsd:string">http://10.1.2.3:7547/cr</Value>
        </ParameterValueStruct>
      </ParameterList>
    </cwmp:Inform>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
"""

# An embedded stack that declares namespaces where it uses them, calls the envelope
# prefix "soapenv", sends no Header at all and uses CWMP 1.2.
INLINE_NAMESPACES_INFORM = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body>"
    b'<c:Inform xmlns:c="urn:dslforum-org:cwmp-1-2">'
    b"<DeviceId><Manufacturer>Box</Manufacturer><OUI>A1B2C3</OUI>"
    b"<ProductClass>HG</ProductClass><SerialNumber>BOX-9</SerialNumber></DeviceId>"
    b"<Event><EventStruct><EventCode>2 PERIODIC</EventCode><CommandKey></CommandKey>"
    b"</EventStruct></Event>"
    b"<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-11-30T03:00:00Z</CurrentTime>"
    b"<RetryCount>2</RetryCount>"
    b"<ParameterList>"
    b"<ParameterValueStruct><Name>Device.DeviceInfo.UpTime</Name>"
    b'<Value xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    b'xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="xs:unsignedInt">86400'
    b"</Value></ParameterValueStruct>"
    b"</ParameterList></c:Inform></soapenv:Body></soapenv:Envelope>"
)

# A GetParameterValuesResponse from a stack that leaves out xsi:type (the schema allows
# an untyped value) and the arrayType, with CRLF line ends.
UNTYPED_GPV_RESPONSE = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0">\r\n'
    b'<s:Header><cwmp:ID s:mustUnderstand="1">77</cwmp:ID></s:Header>\r\n'
    b"<s:Body><cwmp:GetParameterValuesResponse>\r\n"
    b"<ParameterList>\r\n"
    b"<ParameterValueStruct><Name>Device.WiFi.SSID.1.SSID</Name>"
    b"<Value>home net</Value></ParameterValueStruct>\r\n"
    b"<ParameterValueStruct><Name>Device.WiFi.SSID.1.Enable</Name>"
    b"<Value>1</Value></ParameterValueStruct>\r\n"
    b"</ParameterList>\r\n"
    b"</cwmp:GetParameterValuesResponse></s:Body></s:Envelope>\r\n"
)

# A SetParameterValues fault with per-parameter faults, the cwmp prefix declared on the
# detail's Fault element only.
SPV_FAULT = b"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
 <soap:Header><ID xmlns="urn:dslforum-org:cwmp-1-0" soap:mustUnderstand="1">9</ID></soap:Header>
 <soap:Body>
  <soap:Fault>
   <faultcode>Client</faultcode>
   <faultstring>CWMP fault</faultstring>
   <detail>
    <cwmp:Fault xmlns:cwmp="urn:dslforum-org:cwmp-1-0">
     <FaultCode>9003</FaultCode>
     <FaultString>Invalid arguments</FaultString>
     <SetParameterValuesFault>
      <ParameterName>Device.WiFi.SSID.1.SSID</ParameterName>
      <FaultCode>9007</FaultCode>
      <FaultString>Invalid parameter value</FaultString>
     </SetParameterValuesFault>
     <SetParameterValuesFault>
      <ParameterName>Device.Time.NTPServer1</ParameterName>
      <FaultCode>9008</FaultCode>
      <FaultString></FaultString>
     </SetParameterValuesFault>
    </cwmp:Fault>
   </detail>
  </soap:Fault>
 </soap:Body>
</soap:Envelope>"""

# TransferComplete of a failed download, with the unknown-time value TR-069 prescribes.
TRANSFER_COMPLETE_FAULT = b"""<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:cwmp="urn:dslforum-org:cwmp-1-1">
<env:Header><cwmp:ID env:mustUnderstand="1">tc-1</cwmp:ID></env:Header>
<env:Body><cwmp:TransferComplete>
<CommandKey>op_fw1</CommandKey>
<FaultStruct><FaultCode>9010</FaultCode><FaultString>Download failed: HTTP 404</FaultString>
</FaultStruct>
<StartTime>0001-01-01T00:00:00Z</StartTime>
<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>
</cwmp:TransferComplete></env:Body></env:Envelope>"""


def test_pretty_printed_tr098_inform() -> None:
    envelope = soap.parse(TR098_PRETTY_INFORM)
    assert envelope.cwmp_id == "1804289383"
    assert envelope.cwmp_ns == "urn:dslforum-org:cwmp-1-0"
    inform = envelope.body
    assert isinstance(inform, soap.Inform)
    assert (inform.device_id.manufacturer, inform.device_id.oui) == ("Acme Networks", "00D09E")
    assert inform.device_id.product_class == "IGD-2000"
    assert inform.device_id.serial_number == "ACME0000123"
    assert [(e.code, e.command_key) for e in inform.events] == [
        ("1 BOOT", ""),
        ("M Reboot", "op_abc"),
    ]
    assert inform.retry_count == 0
    assert {p.name: p.value for p in inform.parameters} == {
        "InternetGatewayDevice.DeviceInfo.SoftwareVersion": "4.2.1",
        "InternetGatewayDevice.ManagementServer.ConnectionRequestURL": "http://10.1.2.3:7547/cr",
    }


def test_inform_with_namespaces_declared_inline_and_no_header() -> None:
    envelope = soap.parse(INLINE_NAMESPACES_INFORM)
    assert envelope.cwmp_id is None
    assert envelope.cwmp_ns == "urn:dslforum-org:cwmp-1-2"
    inform = envelope.body
    assert inform.device_id.serial_number == "BOX-9"
    assert [(e.code, e.command_key) for e in inform.events] == [("2 PERIODIC", "")]
    assert inform.retry_count == 2
    (uptime,) = inform.parameters
    assert (uptime.name, uptime.value) == ("Device.DeviceInfo.UpTime", "86400")
    assert uptime.type.endswith("unsignedInt")


def test_untyped_values_without_array_type_and_crlf() -> None:
    envelope = soap.parse(UNTYPED_GPV_RESPONSE)
    assert envelope.cwmp_id == "77"
    response = envelope.body
    assert isinstance(response, soap.GetParameterValuesResponse)
    assert [(p.name, p.value) for p in response.parameters] == [
        ("Device.WiFi.SSID.1.SSID", "home net"),
        ("Device.WiFi.SSID.1.Enable", "1"),
    ]


def test_set_parameter_values_fault_with_each_parameter() -> None:
    envelope = soap.parse(SPV_FAULT)
    assert envelope.cwmp_id == "9"
    fault = envelope.body
    assert isinstance(fault, soap.Fault)
    assert (fault.fault_code, fault.fault_string) == (9003, "Invalid arguments")
    assert [(f.name, f.code, f.string) for f in fault.set_parameter_value_faults] == [
        ("Device.WiFi.SSID.1.SSID", 9007, "Invalid parameter value"),
        ("Device.Time.NTPServer1", 9008, ""),
    ]


def test_transfer_complete_with_a_fault_and_unknown_times() -> None:
    envelope = soap.parse(TRANSFER_COMPLETE_FAULT)
    assert envelope.cwmp_ns == "urn:dslforum-org:cwmp-1-1"
    message = envelope.body
    assert isinstance(message, soap.TransferComplete)
    assert message.command_key == "op_fw1"
    assert message.fault_code == 9010
    assert message.fault_string == "Download failed: HTTP 404"
