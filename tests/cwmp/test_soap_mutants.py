"""Codec behaviour pinned down for issue #16 (mutation testing of cwmp/soap.py).

Each test writes its input by hand and its expected value by eye, like the neighbouring
codec tests; together they cover what the older files left loose.
"""

from __future__ import annotations

import pytest

from linesman.cwmp import soap

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CWMP_10 = "urn:dslforum-org:cwmp-1-0"


def wrap(method_xml: str, header_xml: str = "", ns: str = CWMP_10) -> bytes:
    return (
        f'<S:Envelope xmlns:S="{SOAP_ENV}" xmlns:cwmp="{ns}" xmlns:xsi="{XSI}">'
        f"{header_xml}<S:Body>{method_xml}</S:Body></S:Envelope>"
    ).encode()


# --- unknown methods ------------------------------------------------------------------------


def test_an_unknown_method_is_named_in_the_parse_error() -> None:
    with pytest.raises(soap.SoapParseError) as refused:
        soap.parse(wrap("<cwmp:ChangeDUState/>"))
    assert str(refused.value) == "unknown CWMP method 'ChangeDUState'"


# --- parameter types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("xsd:int ", "xsd:int"),
        ("xsd:int\r\n", "xsd:int"),
        ("xsd:xs:int", "xsd:int"),
        ("xsd::int", "xsd:int"),
    ],
)
def test_an_xsd_type_with_trailing_space_or_a_second_prefix_is_sent_as_its_local_name(
    given: str, expected: str
) -> None:
    data = soap.serialize(
        soap.Envelope(soap.SetParameterValues([soap.ParameterValue("A.B", "5", given)]))
    )
    assert f'<Value xsi:type="{expected}">5</Value>'.encode() in data


def test_a_type_built_by_hand_and_the_same_type_read_off_the_wire_agree() -> None:
    """Only XML whitespace (space, tab, CR, LF) is trimmed from a type, as the parser does,
    so a no-break space stays part of the type either way."""
    wire = soap.parse(
        wrap(
            "<cwmp:GetParameterValuesResponse><ParameterList><ParameterValueStruct>"
            '<Name>A.B</Name><Value xsi:type="int\u00a0">5</Value>'
            "</ParameterValueStruct></ParameterList></cwmp:GetParameterValuesResponse>"
        )
    )
    assert wire.body.parameters == [soap.ParameterValue("A.B", "5", "xsd:int\u00a0")]
    assert soap.ParameterValue("A.B", "5", "int\u00a0").type == "xsd:int\u00a0"
