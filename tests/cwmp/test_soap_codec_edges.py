"""Codec behaviour pinned down for issue #16 (mutation testing of cwmp/soap.py).

Each test writes its input by hand and its expected value by eye, like the neighbouring
codec tests; together they cover what the older files left loose.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from lxml import etree

from linesman.cwmp import soap
from tests.cwmp.envelopes import CWMP_10, CWMP_12, SOAP_ENV, wrap

# --- unknown methods ------------------------------------------------------------------------


def test_a_long_unknown_method_name_is_cut_to_80_characters() -> None:
    with pytest.raises(soap.UnknownMethodError) as refused:
        soap.parse(wrap(f"<cwmp:{'M' * 90}/>"))
    assert refused.value.method == "M" * 80


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


def test_a_new_worker_thread_applies_the_depth_limit_exactly() -> None:
    data = wrap("<cwmp:Reboot><CommandKey><a><b>x</b></a></CommandKey></cwmp:Reboot>")
    # Envelope, Body, Reboot, CommandKey, a, b: six levels.
    assert _in_a_new_thread(lambda: soap.parse(data, max_depth=6)) == soap.Envelope(
        soap.Reboot("x")
    )
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


# --- what a refusal says ----------------------------------------------------------------------
# The ACS answers an unreadable message with HTTP 400 "malformed CWMP message: <this text>",
# which is what an operator reads when a CPE's session fails.

LONG = "N" * 90


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (wrap("<cwmp:Inform></cwmp:Inform>"), "Inform: missing DeviceId"),
        (
            wrap("<cwmp:AddObjectResponse><Status>0</Status></cwmp:AddObjectResponse>"),
            "AddObjectResponse: missing required integer element InstanceNumber",
        ),
        (
            wrap(
                "<cwmp:GetParameterNames><ParameterPath>A.</ParameterPath></cwmp:GetParameterNames>"
            ),
            "GetParameterNames: missing required boolean element NextLevel",
        ),
        (
            wrap(
                "<cwmp:AddObjectResponse><InstanceNumber>"
                + "9" * 30
                + "x" * 20
                + "</InstanceNumber></cwmp:AddObjectResponse>"
            ),
            "AddObjectResponse: InstanceNumber: expected an integer, got "
            "'999999999999999999999999999999xxxxxxxxxx'",
        ),
        (
            wrap(
                "<cwmp:GetParameterNames><ParameterPath>A.</ParameterPath><NextLevel>"
                + "y" * 50
                + "</NextLevel></cwmp:GetParameterNames>"
            ),
            "GetParameterNames: NextLevel: expected a boolean, got '" + "y" * 40 + "'",
        ),
        (
            wrap(
                "<cwmp:Reboot/>",
                "<S:Header><cwmp:HoldRequests>maybe</cwmp:HoldRequests></S:Header>",
            ),
            "HoldRequests: expected a boolean, got 'maybe'",
        ),
        (
            wrap("<cwmp:Reboot/>", ns="urn:" + LONG),
            "unknown namespace 'urn:" + "N" * 76 + "' on method 'Reboot'",
        ),
        (
            wrap(f'<x:{LONG} xmlns:x="urn:nope"/>'),
            "unknown namespace 'urn:nope' on method '" + "N" * 80 + "'",
        ),
        (b"<Envelope/>", "root element 'Envelope' is not a SOAP 1.1 Envelope"),
        (
            f"<{LONG}/>".encode(),
            "root element '" + "N" * 80 + "' is not a SOAP 1.1 Envelope",
        ),
        (
            f'<S:Envelope xmlns:S="{SOAP_ENV}"><S:Header/></S:Envelope>'.encode(),
            "SOAP Envelope has no Body",
        ),
        (
            f'<S:Envelope xmlns:S="{SOAP_ENV}"><S:Body> </S:Body></S:Envelope>'.encode(),
            "SOAP Body has no method element",
        ),
        (wrap("<S:Header/>"), "unexpected SOAP element 'Header' in Body"),
        (wrap(f"<S:{LONG}/>"), "unexpected SOAP element '" + "N" * 80 + "' in Body"),
        (
            b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
            "DOCTYPE, ENTITY and other markup declarations are not allowed",
        ),
    ],
    ids=[
        "no-device-id",
        "no-required-integer",
        "no-required-boolean",
        "bad-integer-shows-40-chars",
        "bad-boolean-shows-40-chars",
        "bad-hold-requests",
        "unknown-namespace-shows-80-chars",
        "long-method-name-shows-80-chars",
        "root-not-envelope",
        "long-root-shows-80-chars",
        "no-body",
        "empty-body",
        "soap-element-in-body",
        "long-soap-element-shows-80-chars",
        "doctype",
    ],
)
def test_a_refused_message_is_explained(data: bytes, message: str) -> None:
    with pytest.raises(soap.SoapParseError) as refused:
        soap.parse(data)
    assert str(refused.value) == message


def test_a_body_that_is_not_bytes_is_named_in_the_refusal() -> None:
    with pytest.raises(soap.SoapParseError) as refused:
        soap.parse(12)  # type: ignore[arg-type]
    assert str(refused.value) == "expected bytes, got int"


def test_only_xml_whitespace_may_precede_the_message() -> None:
    with pytest.raises(soap.SoapParseError, match="not well-formed XML"):
        soap.parse(b" \x0b" + REBOOT)


# --- what a sloppy CPE's message is read as ---------------------------------------------------


def _body(method_xml: str, header_xml: str = "") -> soap.Message:
    env = soap.parse(wrap(method_xml, header_xml))
    assert env is not None
    return env.body


def test_child_elements_qualified_with_the_cwmp_prefix_are_found_by_local_name() -> None:
    assert _body("<cwmp:Reboot><cwmp:CommandKey>ck</cwmp:CommandKey></cwmp:Reboot>") == soap.Reboot(
        "ck"
    )
    assert _body(
        "<cwmp:GetParameterValuesResponse><ParameterList><ParameterValueStruct>"
        '<cwmp:Name>A.B</cwmp:Name><cwmp:Value xsi:type="xsd:int">5</cwmp:Value>'
        "</ParameterValueStruct></ParameterList></cwmp:GetParameterValuesResponse>"
    ) == soap.GetParameterValuesResponse([soap.ParameterValue("A.B", "5", "xsd:int")])


def test_a_command_key_split_by_a_stray_element_is_read_whole() -> None:
    assert _body("<cwmp:Reboot><CommandKey>ab<x/>cd</CommandKey></cwmp:Reboot>") == soap.Reboot(
        "abcd"
    )


def test_no_break_spaces_around_text_are_kept() -> None:
    """Only XML whitespace is trimmed; a no-break space is content."""
    assert _body(
        "<cwmp:Reboot><CommandKey>\u00a0ck\u00a0</CommandKey></cwmp:Reboot>"
    ) == soap.Reboot("\u00a0ck\u00a0")
    assert _body(
        "<cwmp:GetParameterValuesResponse><ParameterList><ParameterValueStruct>"
        "<Name>\u00a0A.B</Name><Value>\u00a0v\u00a0</Value>"
        "</ParameterValueStruct></ParameterList></cwmp:GetParameterValuesResponse>"
    ) == soap.GetParameterValuesResponse([soap.ParameterValue("\u00a0A.B", "\u00a0v\u00a0")])


def test_a_parameter_struct_missing_its_value_or_name_reads_as_empty_strings() -> None:
    assert _body(
        "<cwmp:GetParameterValuesResponse><ParameterList>"
        "<ParameterValueStruct><Name>A.B</Name></ParameterValueStruct>"
        "<ParameterValueStruct><Name/><Value>v</Value></ParameterValueStruct>"
        "<ParameterValueStruct></ParameterValueStruct>"
        "</ParameterList></cwmp:GetParameterValuesResponse>"
    ) == soap.GetParameterValuesResponse(
        [
            soap.ParameterValue("A.B", "", "xsd:string"),
            soap.ParameterValue("", "v", "xsd:string"),
            soap.ParameterValue("", "", "xsd:string"),
        ]
    )


def test_xsi_type_wins_over_an_unqualified_type_attribute() -> None:
    assert _body(
        "<cwmp:GetParameterValuesResponse><ParameterList><ParameterValueStruct>"
        '<Name>A.B</Name><Value type="int" xsi:type="xsd:string">5</Value>'
        "</ParameterValueStruct></ParameterList></cwmp:GetParameterValuesResponse>"
    ) == soap.GetParameterValuesResponse([soap.ParameterValue("A.B", "5", "xsd:string")])


def test_a_fault_struct_without_a_fault_code_means_success() -> None:
    assert _body(
        "<cwmp:TransferComplete><CommandKey>ck</CommandKey>"
        "<FaultStruct><FaultString></FaultString></FaultStruct>"
        "</cwmp:TransferComplete>"
    ) == soap.TransferComplete("ck", 0, "")


def test_an_autonomous_transfer_fault_is_read() -> None:
    assert _body(
        "<cwmp:AutonomousTransferComplete><AnnounceURL>http://a/</AnnounceURL>"
        "<TransferURL>http://t/fw.bin</TransferURL><IsDownload>1</IsDownload>"
        "<FileType>1 Firmware Upgrade Image</FileType><FileSize>10</FileSize>"
        "<TargetFileName>fw.bin</TargetFileName><FaultStruct><FaultCode>9010</FaultCode>"
        "<FaultString>Download failed</FaultString></FaultStruct>"
        "<StartTime>2024-01-01T00:00:00Z</StartTime>"
        "<CompleteTime>2024-01-01T00:01:00Z</CompleteTime></cwmp:AutonomousTransferComplete>"
    ) == soap.AutonomousTransferComplete(
        announce_url="http://a/",
        transfer_url="http://t/fw.bin",
        is_download=True,
        file_type="1 Firmware Upgrade Image",
        file_size=10,
        target_file_name="fw.bin",
        fault_code=9010,
        fault_string="Download failed",
        start_time="2024-01-01T00:00:00Z",
        complete_time="2024-01-01T00:01:00Z",
    )


def test_an_autonomous_transfer_without_a_file_size_has_size_zero() -> None:
    assert _body(
        "<cwmp:AutonomousTransferComplete><IsDownload>0</IsDownload>"
        "<FileType>3 Vendor Configuration File</FileType></cwmp:AutonomousTransferComplete>"
    ) == soap.AutonomousTransferComplete("", "", False, "3 Vendor Configuration File", 0, "")


def test_attributes_without_a_notification_mean_notification_off() -> None:
    assert _body(
        "<cwmp:GetParameterAttributesResponse><ParameterList><ParameterAttributeStruct>"
        "<Name>A.B</Name><AccessList/></ParameterAttributeStruct></ParameterList>"
        "</cwmp:GetParameterAttributesResponse>"
    ) == soap.GetParameterAttributesResponse([soap.ParameterAttribute("A.B", 0, [])])
    assert _body(
        "<cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct>"
        "<Name>A.B</Name><NotificationChange>1</NotificationChange>"
        "</SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>"
    ) == soap.SetParameterAttributes([soap.SetParameterAttribute("A.B", True, 0, False, [])])


def test_a_bare_cwmp_fault_without_a_fault_string_has_an_empty_one() -> None:
    assert _body("<cwmp:Fault><FaultCode>9002</FaultCode></cwmp:Fault>") == soap.Fault(9002, "")


def test_the_first_cwmp_header_element_sets_the_namespace_of_an_unqualified_method() -> None:
    data = (
        f'<S:Envelope xmlns:S="{SOAP_ENV}" xmlns:a="{CWMP_12}" xmlns:b="{CWMP_10}">'
        "<S:Header><a:ID>1</a:ID><b:HoldRequests>0</b:HoldRequests></S:Header>"
        "<S:Body><Reboot/></S:Body></S:Envelope>"
    ).encode()
    assert soap.parse(data) == soap.Envelope(
        soap.Reboot(), cwmp_id="1", cwmp_ns=CWMP_12, hold_requests=False
    )


# --- default limits ---------------------------------------------------------------------------


def _inform_nested(levels: int) -> bytes:
    """An Inform whose deepest element sits at ``levels`` (Envelope = 1, Body = 2, Inform = 3)."""
    inner = levels - 3
    return wrap("<cwmp:Inform>" + "<a>" * inner + "</a>" * inner + "</cwmp:Inform>")


def test_by_default_a_message_may_be_nested_64_levels_deep_and_no_deeper() -> None:
    assert soap.is_inform(_inform_nested(64)) is True
    with pytest.raises(soap.SoapParseError, match="Inform: missing DeviceId"):
        soap.parse(_inform_nested(64))
    assert soap.is_inform(_inform_nested(65)) is False
    with pytest.raises(soap.SoapParseError) as refused:
        soap.parse(_inform_nested(65))
    assert str(refused.value) == "XML nested deeper than 64 levels"


def test_an_unexpected_failure_is_reported_with_its_kind() -> None:
    with pytest.raises(soap.SoapParseError) as refused:
        soap.parse("\ud800<a/>")  # type: ignore[arg-type]
    assert str(refused.value).startswith("malformed CWMP message (UnicodeEncodeError: ")


# --- decoding larger bodies -------------------------------------------------------------------


def test_a_body_that_inflates_in_several_steps_comes_out_whole() -> None:
    payload = bytes(range(256)) * 2400  # 600 kB: more than two inflate steps
    assert soap.decode_body(gzip.compress(payload), "gzip") == payload


def test_the_decompressed_size_cap_counts_every_step() -> None:
    payload = b"x" * 600_001
    assert soap.decode_body(gzip.compress(payload), "gzip", max_bytes=600_001) == payload
    with pytest.raises(soap.SoapParseError) as refused:
        soap.decode_body(gzip.compress(payload), "gzip", max_bytes=600_000)
    assert str(refused.value) == "decompressed body larger than 600000 bytes"


# --- decoding refusals and trailing bytes -----------------------------------------------------
# The ACS answers an undecodable body with HTTP 400 and this text.


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("raw", "coding", "message"),
    [
        (gzip.compress(b"hello world" * 100)[:-12], "gzip", "truncated compressed body"),
        (b"\x08", "deflate", "truncated compressed body"),
        (b"abc", "br", "unsupported Content-Encoding 'br'"),
        (b"abc", "x" * 50, "unsupported Content-Encoding '" + "x" * 40 + "'"),
        (
            b"\xff\xff\xff",
            "deflate",
            "cannot decode body (error: Error -3 while decompressing data: invalid block type)",
        ),
        (
            zlib.compress(b"hi"),
            "gzip",
            "cannot decode body (error: Error -3 while decompressing data: incorrect header check)",
        ),
        (12, None, "expected bytes, got int"),
    ],
    ids=[
        "truncated-gzip",
        "one-byte-deflate",
        "unsupported",
        "unsupported-shows-40-chars",
        "bad-deflate",
        "zlib-labelled-gzip",
        "not-bytes",
    ],
)
def test_an_undecodable_body_is_explained(raw: bytes, coding: str | None, message: str) -> None:
    with pytest.raises(soap.SoapParseError) as refused:
        soap.decode_body(raw, coding)
    assert str(refused.value) == message


def test_an_identity_body_exactly_at_the_cap_is_accepted() -> None:
    assert soap.decode_body(b"abc", None, max_bytes=3) == b"abc"


@pytest.mark.parametrize("packed", [zlib.compress(b"hello"), _raw_deflate(b"hello")])
def test_bytes_after_a_deflate_stream_are_ignored_even_if_they_look_like_gzip(
    packed: bytes,
) -> None:
    assert soap.decode_body(packed + b"\x1f\x8bjunk", "deflate") == b"hello"
