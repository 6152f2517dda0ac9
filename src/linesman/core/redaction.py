"""Which device parameters are secrets, and how their values look wherever they are read.

Devices report credentials among their parameters (`ManagementServer.Password`,
`ConnectionRequestPassword`, Wi-Fi keys, RADIUS secrets), and operators write such
parameters as settings. They are write-only: every read path (the API, the dashboard, the
command line, the debug SOAP log, the audit trail) shows `MARKER` in place of a value, for
every role, superusers included. The stored values stay intact, because the ACS sends them
to devices (settings are re-applied after a factory reset).

A parameter is secret when the last segment of its path names a password, passphrase,
pre-shared key, WEP key, private key or secret, whatever its prefix and case
(`Device.WiFi.AccessPoint.1.Security.KeyPassphrase`, `...PreSharedKey.1.PreSharedKey`,
`X_ACME_AdminPassword`). An empty value stays empty: TR-069 has devices report secrets as
empty strings, and "nothing set" is no secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: What a secret value reads as.
MARKER = "********"

# Matched anywhere in the last path segment, case-insensitively.
_SECRET_WORDS = re.compile(
    r"passw(?:or)?d|passphrase|pre_?shared_?key|psk\b|wepkey|privatekey|secret",
    re.IGNORECASE,
)


def last_segment(name: str) -> str:
    """`A.B.C` -> `C`; a table path's instance number is skipped (`A.PreSharedKey.1.`)."""
    for part in reversed(str(name).split(".")):
        if part and not part.isdecimal():
            return part
    return ""


def is_secret(name: Any) -> bool:
    """Whether a parameter with this path (or bare name) holds a secret."""
    if not isinstance(name, str) or not name:
        return False
    if not name.endswith(".") and name.rsplit(".", 1)[-1].isdecimal():
        # A leaf never ends with an instance number; such a path is an object.
        return False
    return _SECRET_WORDS.search(last_segment(name)) is not None


def redact(name: Any, value: Any) -> Any:
    """The value as a reader sees it: MARKER for a non-empty secret, else unchanged."""
    if value in (None, "") or not is_secret(name):
        return value
    return MARKER


def redact_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """{name: value} with the secrets' values replaced."""
    return {name: redact(name, value) for name, value in values.items()}


def redact_reported(values: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """A device's stored parameters ({name: [value, type, writable]}) as readers see them."""
    out: dict[str, list[Any]] = {}
    for name, entry in values.items():
        if is_secret(name) and isinstance(entry, list | tuple) and entry:
            out[name] = [redact(name, entry[0]), *entry[1:]]
        else:
            out[name] = entry
    return out


def redact_items(
    items: Iterable[Mapping[str, Any]], name_key: str = "variable_name", value_key: str = "value"
) -> list[dict[str, Any]]:
    """A list of {name_key, value_key, ...} dicts (variables, settings) with secrets replaced."""
    out = []
    for item in items:
        item = dict(item)
        if value_key in item:
            item[value_key] = redact(item.get(name_key), item[value_key])
        out.append(item)
    return out


def redact_output(output: Any) -> Any:
    """An operation's output (or a bulk job target's result, which copies it): the values
    it read from the device (`values`: {name: value}) with the secrets replaced."""
    if not isinstance(output, Mapping):
        return output
    out = dict(output)
    if isinstance(out.get("values"), Mapping):
        out["values"] = redact_mapping(out["values"])
    if isinstance(out.get("variables"), list):
        out["variables"] = redact_items(v for v in out["variables"] if isinstance(v, Mapping))
    return out
