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
