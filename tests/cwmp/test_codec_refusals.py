"""What the codec says when it refuses to build or read a message.

The text of these errors reaches an operator: `not sent: cannot build request: ...` on a
task and its operation, `malformed CWMP message: ...` in the ACS's 400 answer.
"""

from __future__ import annotations

import pytest

from linesman.cwmp import soap


def test_a_body_that_is_no_cwmp_message_is_named_in_the_refusal() -> None:
    with pytest.raises(TypeError) as refused:
        soap.serialize(soap.Envelope(object()))  # type: ignore[arg-type]
    assert str(refused.value) == "cannot serialize object as a CWMP message"


def test_an_unknown_namespace_is_named_in_the_refusal() -> None:
    with pytest.raises(ValueError) as refused:
        soap.serialize(soap.Envelope(soap.Reboot(), cwmp_ns="urn:nope"))
    assert str(refused.value) == "unknown cwmp namespace 'urn:nope'"


def test_a_character_xml_cannot_carry_is_named_in_the_refusal() -> None:
    with pytest.raises(ValueError) as refused:
        soap.serialize(soap.Envelope(soap.Reboot("bell\x07")))
    assert str(refused.value) == "character '\\x07' cannot be represented in XML 1.0"


# --- faults and Informs as other stacks write them ------------------------------------------

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CWMP_1_0 = "urn:dslforum-org:cwmp-1-0"


def _fault(detail: str, detail_tag: str = "detail", header: str = "", ns: str = CWMP_1_0) -> bytes:
    return (
        f'<soap-env:Envelope xmlns:soap-env="{SOAP_ENV}" xmlns:cwmp="{ns}">{header}'
        "<soap-env:Body><soap-env:Fault><faultcode>Client</faultcode>"
        f"<faultstring>CWMP fault</faultstring><{detail_tag}>{detail}</{detail_tag}>"
        "</soap-env:Fault></soap-env:Body></soap-env:Envelope>"
    ).encode()


def _parsed_fault(data: bytes) -> soap.Fault:
    envelope = soap.parse(data)
    assert isinstance(envelope.body, soap.Fault)
    return envelope.body


def test_a_capitalised_detail_element_is_read() -> None:
    data = _fault(
        "<cwmp:Fault><FaultCode>9003</FaultCode><FaultString>Invalid arguments</FaultString>"
        "</cwmp:Fault>",
        detail_tag="Detail",
    )
    fault = _parsed_fault(data)
    assert (fault.fault_code, fault.fault_string) == (9003, "Invalid arguments")


def test_vendor_elements_and_comments_before_the_cwmp_fault_are_skipped() -> None:
    data = _fault(
        '<!-- diag --><v:Info xmlns:v="urn:vendor">x</v:Info>'
        "<cwmp:Fault><!-- c --><cwmp:FaultCode>9002</cwmp:FaultCode>"
        "<FaultString>Internal error</FaultString></cwmp:Fault>"
    )
    fault = _parsed_fault(data)
    assert (fault.fault_code, fault.fault_string) == (9002, "Internal error")


def test_missing_fault_fields_take_the_soap_faultstring_and_code_zero() -> None:
    fault = _parsed_fault(_fault("<cwmp:Fault></cwmp:Fault>"))
    assert (fault.fault_code, fault.fault_string) == (0, "CWMP fault")
    fault = _parsed_fault(_fault("<cwmp:Fault><FaultCode></FaultCode></cwmp:Fault>"))
    assert fault.fault_code == 0


def test_a_parameter_fault_without_a_code_has_code_zero() -> None:
    data = _fault(
        "<cwmp:Fault><FaultCode>9003</FaultCode><FaultString>Invalid arguments</FaultString>"
        "<SetParameterValuesFault><ParameterName>Device.X</ParameterName>"
        "<FaultString>nope</FaultString></SetParameterValuesFault></cwmp:Fault>"
    )
    fault = _parsed_fault(data)
    assert fault.set_parameter_value_faults == [soap.SetParameterValueFault("Device.X", 0, "nope")]


def test_a_fault_code_that_is_no_number_is_refused_by_name() -> None:
    data = _fault("<cwmp:Fault><FaultCode>abc</FaultCode></cwmp:Fault>")
    with pytest.raises(soap.SoapParseError, match="FaultCode: expected an integer, got 'abc'"):
        soap.parse(data)


def test_a_fault_in_an_unknown_namespace_is_refused_by_name() -> None:
    data = _fault('<x:Fault xmlns:x="urn:nope"><FaultCode>9000</FaultCode></x:Fault>')
    with pytest.raises(soap.SoapParseError, match="unknown namespace 'urn:nope' on cwmp:Fault"):
        soap.parse(data)


def test_a_fault_is_in_its_own_namespace_else_the_headers_else_1_0() -> None:
    cwmp_1_2 = soap.NS_CWMP["1.2"]
    own = _fault("<cwmp:Fault><FaultCode>9000</FaultCode></cwmp:Fault>", ns=cwmp_1_2)
    assert soap.parse(own).cwmp_ns == cwmp_1_2
    header = f'<soap-env:Header><c:ID xmlns:c="{cwmp_1_2}">h1</c:ID></soap-env:Header>'
    from_header = _fault("<Fault><FaultCode>9000</FaultCode></Fault>", header=header)
    assert soap.parse(from_header).cwmp_ns == cwmp_1_2
    bare = _fault("<Fault><FaultCode>9000</FaultCode></Fault>")
    assert soap.parse(bare).cwmp_ns == CWMP_1_0


def test_an_inform_without_device_id_is_refused_by_name() -> None:
    data = (
        f'<soap-env:Envelope xmlns:soap-env="{SOAP_ENV}" xmlns:cwmp="{CWMP_1_0}">'
        "<soap-env:Body><cwmp:Inform><MaxEnvelopes>1</MaxEnvelopes></cwmp:Inform>"
        "</soap-env:Body></soap-env:Envelope>"
    ).encode()
    with pytest.raises(soap.SoapParseError, match="missing DeviceId"):
        soap.parse(data)


def test_an_informs_max_envelopes_is_read() -> None:
    inform = soap.Inform(
        device_id=soap.DeviceId("Acme", "00AABB", "HG", "S1"),
        events=[],
        max_envelopes=3,
        current_time="2026-01-01T00:00:00Z",
    )
    parsed = soap.parse(soap.serialize(soap.Envelope(inform)))
    assert parsed.body.max_envelopes == 3
