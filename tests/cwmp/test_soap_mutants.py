"""Codec behaviour pinned down for issue #16 (mutation testing of cwmp/soap.py).

Each test writes its input by hand and its expected value by eye, like the neighbouring
codec tests; together they cover what the older files left loose.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from lxml import etree

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


# --- a worker thread's first message ----------------------------------------------------------
# The codec keeps one lxml parser and one depth check per thread, built on first use; a
# request served by a new worker thread must get the same hardened parser as every other.


def _in_a_new_thread(work: Callable[[], Any]) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


REBOOT = wrap(
    "<cwmp:Reboot><CommandKey>ck-1</CommandKey></cwmp:Reboot>",
    "<S:Header><cwmp:ID>7</cwmp:ID></S:Header>",
)


def test_a_new_worker_thread_reads_a_message() -> None:
    env = _in_a_new_thread(lambda: soap.parse(REBOOT))
    assert env == soap.Envelope(soap.Reboot("ck-1"), cwmp_id="7")


def test_a_new_worker_thread_reads_a_utf7_declaration_as_utf8() -> None:
    data = b'<?xml version="1.0" encoding="UTF-7"?>' + wrap(
        "<cwmp:Reboot><CommandKey>a+ADw-b/+AD4-c</CommandKey></cwmp:Reboot>"
    )
    env = _in_a_new_thread(lambda: soap.parse(data))
    assert env == soap.Envelope(soap.Reboot("a+ADw-b/+AD4-c"))


def test_a_new_worker_thread_refuses_xml_that_is_not_well_formed() -> None:
    data = wrap("<cwmp:Reboot><CommandKey>ck</cwmp:Reboot>")
    with pytest.raises(soap.SoapParseError, match="not well-formed XML"):
        _in_a_new_thread(lambda: soap.parse(data))


def test_a_new_worker_thread_refuses_nesting_beyond_libxml2s_limit() -> None:
    inner = "<a>" * 300 + "x" + "</a>" * 300
    data = wrap(f"<cwmp:Reboot><CommandKey>{inner}</CommandKey></cwmp:Reboot>")
    with pytest.raises(soap.SoapParseError, match="depth"):
        _in_a_new_thread(lambda: soap.parse(data, max_depth=1000))


def test_a_new_worker_thread_applies_the_depth_limit() -> None:
    data = wrap("<cwmp:Reboot><CommandKey><a><b>x</b></a></CommandKey></cwmp:Reboot>")
    with pytest.raises(soap.SoapParseError, match="XML nested deeper than 5 levels"):
        _in_a_new_thread(lambda: soap.parse(data, max_depth=5))


def test_a_new_worker_thread_reads_a_message_that_repeats_an_xml_id() -> None:
    """lxml's ID table would refuse a repeated xml:id; a CPE's ids mean nothing to CWMP."""
    data = wrap('<cwmp:Reboot xml:id="r"><CommandKey xml:id="r">ck</CommandKey></cwmp:Reboot>')
    env = _in_a_new_thread(lambda: soap.parse(data))
    assert env == soap.Envelope(soap.Reboot("ck"))


def test_a_parser_built_in_a_new_thread_expands_no_entities() -> None:
    """Defence in depth below the DOCTYPE pre-check: the parser itself substitutes nothing."""
    data = b'<!DOCTYPE a [<!ENTITY e "expanded">]><a>&e;</a>'
    root = _in_a_new_thread(lambda: etree.fromstring(data, soap._parser("utf-8")))
    assert "".join(root.itertext()) == "&e;"
