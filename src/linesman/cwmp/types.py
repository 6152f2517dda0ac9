"""TR-069 parameter value types (xsd) and checking a value against one."""

from __future__ import annotations

from datetime import datetime

_RANGES = {
    "xsd:int": (-(2**31), 2**31 - 1),
    "xsd:unsignedInt": (0, 2**32 - 1),
    "xsd:long": (-(2**63), 2**63 - 1),
    "xsd:unsignedLong": (0, 2**64 - 1),
}
KNOWN = {"xsd:string", "xsd:boolean", "xsd:dateTime", "xsd:base64", "xsd:hexBinary", *_RANGES}


def normalise(type_name: str | None) -> str:
    if not type_name:
        return "xsd:string"
    local = type_name.split(":", 1)[-1]
    aliases = {
        "integer": "int",
        "unsignedint": "unsignedInt",
        "bool": "boolean",
        "datetime": "dateTime",
        "unsignedlong": "unsignedLong",
    }
    local = aliases.get(local.lower(), local)
    return f"xsd:{local}"


def check(type_name: str, value: str) -> str | None:
    """None if `value` fits the type, else a sentence saying why not."""
    kind = normalise(type_name)
    if kind in _RANGES:
        lo, hi = _RANGES[kind]
        try:
            number = int(value)
        except (TypeError, ValueError):
            return f"{value!r} is not a whole number ({kind})"
        if not lo <= number <= hi:
            return f"{value} is out of range for {kind} ({lo} to {hi})"
        return None
    if kind == "xsd:boolean":
        if str(value).lower() not in {"true", "false", "0", "1"}:
            return f"{value!r} is not a boolean (true, false, 1 or 0)"
        return None
    if kind == "xsd:dateTime":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return f"{value!r} is not an ISO 8601 date and time"
        return None
    if kind not in KNOWN:
        return f"unknown type {type_name!r}"
    return None
