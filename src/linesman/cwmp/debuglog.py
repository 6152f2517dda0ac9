"""Raw SOAP exchanges of devices in debug mode, kept in their audit trail, secrets masked.

Masking works on the XML structure, not on the text: the body is parsed (with the same
hardening as the codec: no DTD, no entities, no network), and

- a `ParameterValueStruct` whose `Name` is a secret (`linesman.core.redaction`) gets the
  text of its `Value` replaced by the marker, inside the element; an empty value stays
  empty (it tells nothing, and TR-069 devices report secrets that way);
- a `Password` element (Download, Upload, ...) gets its text replaced the same way;

whatever namespace prefixes the message uses. A body that does not parse as XML cannot be
masked by structure: it is kept only when no secret name occurs in it at all.
"""

from __future__ import annotations

from lxml import etree

from linesman.audit import services as audit
from linesman.audit.models import AuditAction
from linesman.core.redaction import MARKER, is_secret
from linesman.inventory.models import Device

MAX_KEPT = 64 * 1024
#: Bodies larger than this are not parsed for the log (the codec refuses them anyway).
MAX_PARSED = 8 * 1024 * 1024

_WITHHELD = "(a body that is not well-formed XML and names a secret: not kept, {size} bytes)"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=False,
        remove_comments=False,
        recover=False,
    )


def _local(tag: object) -> str:
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(el: etree._Element, local: str) -> etree._Element | None:
    return next((c for c in el if _local(c.tag) == local), None)


def _mask_text(el: etree._Element) -> None:
    # Children (a sloppy device's markup inside a value) go too: only the marker remains.
    if (el.text or "").strip() or len(el):
        for child in list(el):
            el.remove(child)
        el.text = MARKER


def _mask_tree(root: etree._Element) -> None:
    for el in root.iter():
        local = _local(el.tag)
        if local == "ParameterValueStruct":
            name_el, value_el = _child(el, "Name"), _child(el, "Value")
            if (
                name_el is not None
                and value_el is not None
                and is_secret((name_el.text or "").strip())
            ):
                _mask_text(value_el)
        elif local == "Password":
            _mask_text(el)


def _names_a_secret(text: str) -> bool:
    # Without structure, any word that looks like a secret's name withholds the body.
    words = text.replace("<", " ").replace(">", " ").replace("/", " ").split()
    return any(is_secret(word.rsplit(":", 1)[-1]) for word in words)


def mask(body: bytes) -> str:
    """The body as the debug log keeps it: secrets masked, at most MAX_KEPT bytes."""
    if not body.strip():
        return body[:MAX_KEPT].decode("utf-8", errors="replace")
    root = None
    if len(body) <= MAX_PARSED:
        try:
            root = etree.fromstring(body.lstrip(), _parser())
        except (etree.XMLSyntaxError, ValueError):
            root = None
    if root is None:
        text = body.decode("utf-8", errors="replace")
        if _names_a_secret(text):
            return _WITHHELD.format(size=len(body))
        return text[:MAX_KEPT]
    _mask_tree(root)
    text = etree.tostring(root, encoding="unicode")
    return text[:MAX_KEPT]


def record_exchange(device: Device, direction: str, body: bytes) -> None:
    audit.record(
        user=None,
        actor="device" if direction == "in" else "acs",
        action=AuditAction.SOAP,
        instance=device,
        device_id=device.pk,
        message=f"{'device -> ACS' if direction == 'in' else 'ACS -> device'}\n{mask(body)}",
    )
