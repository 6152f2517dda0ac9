"""No stray character data in what the codec puts on the wire.

TR-069's schema gives every structured element (envelope, header, body, RPC, struct,
array) element content only; a lenient parser (ours, lxml's) skips text between elements,
so round trips cannot see it, but a strict CPE or ACS stack rejects the message. Every
message type is serialized with every header and walked with plain lxml.
"""

from __future__ import annotations

import pytest
from lxml import etree

from linesman.cwmp import soap
from tests.cwmp.test_soap import SAMPLE_MESSAGES


def _stray_text(root: etree._Element) -> list[str]:
    """Where an element with children has text of its own, or text follows a child."""
    found = []
    for element in root.iter():
        children = list(element)
        if not children:
            continue
        if element.text:
            found.append(f"{element.tag} starts with {element.text!r}")
        found += [f"{c.tag} is followed by {c.tail!r}" for c in children if c.tail]
    return found


@pytest.mark.parametrize("message", SAMPLE_MESSAGES, ids=lambda m: type(m).__name__)
def test_structured_elements_hold_elements_only(message: soap.Message) -> None:
    envelope = soap.Envelope(
        message,
        cwmp_id="id-1",
        cwmp_ns=soap.NS_CWMP["1.2"],
        hold_requests=False,
        supported_cwmp_versions="1.0,1.2",
        use_cwmp_version="1.2",
    )
    root = etree.fromstring(soap.serialize(envelope))
    assert _stray_text(root) == []
    assert root.tail is None


def test_an_envelope_without_headers_has_no_stray_text_either() -> None:
    root = etree.fromstring(soap.serialize(soap.Envelope(soap.Reboot("k"))))
    assert _stray_text(root) == []
    assert [etree.QName(c).localname for c in root] == ["Body"]
