"""`soap.is_inform`: the challenge's cheap test, which must agree with `parse` on what an
Inform is, and never raise on what a client without credentials sends."""

from __future__ import annotations

import pytest

from linesman.cwmp import soap

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def envelope(body: str, cwmp: str = "urn:dslforum-org:cwmp-1-0", prefix: str = "cwmp") -> bytes:
    return (
        f'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="{SOAP}" '
        f'xmlns:{prefix}="{cwmp}"><soapenv:Header/><soapenv:Body>{body}'
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    "data",
    [
        envelope("<cwmp:Inform><DeviceId/></cwmp:Inform>"),
        envelope("<x:Inform/>", prefix="x", cwmp="urn:dslforum-org:cwmp-1-2"),
        envelope("<!-- a vendor's comment --> <cwmp:Inform/>"),
        b"\n\n  " + envelope("<cwmp:Inform/>"),
    ],
    ids=["plain", "other-prefix-1-2", "comment-first", "leading-whitespace"],
)
def test_an_inform_is_one(data):
    assert soap.is_inform(data) is True


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \r\n",
        b"not xml at all",
        b"<Inform/>",  # not in an Envelope
        envelope("<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"),
        envelope("<cwmp:TransferComplete/>"),
        envelope("<cwmp:Inform/>", cwmp="urn:example:not-cwmp"),
        envelope("<cwmp:Inform>"),  # not well-formed
        b'<!DOCTYPE x [<!ENTITY a "b">]>' + envelope("<cwmp:Inform/>"),
        envelope("<cwmp:Inform>?</cwmp:Inform>").replace(b">?<", b">\xff<"),  # bad UTF-8
        envelope(""),  # a Body without a method
    ],
    ids=[
        "empty",
        "blank",
        "garbage",
        "no-envelope",
        "inform-response",
        "other-method",
        "foreign-namespace",
        "unclosed",
        "doctype",
        "invalid-utf8",
        "empty-body",
    ],
)
def test_anything_else_is_not_and_nothing_raises(data):
    assert soap.is_inform(data) is False


def test_it_agrees_with_parse_on_vendor_bodies():
    from tests.cwmp import test_vendor_bodies as vendor

    bodies = [
        vendor.TR098_PRETTY_INFORM,
        vendor.INLINE_NAMESPACES_INFORM,
        vendor.UNTYPED_GPV_RESPONSE,
        vendor.SPV_FAULT,
        vendor.TRANSFER_COMPLETE_FAULT,
    ]
    assert [soap.is_inform(b) for b in bodies] == [True, True, False, False, False]
    assert [isinstance(soap.parse(b).body, soap.Inform) for b in bodies] == [
        True,
        True,
        False,
        False,
        False,
    ]
