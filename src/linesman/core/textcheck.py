"""The one check for text the ACS may have to carry: what XML 1.0 can represent, and ids.

Every value the API stores may end up in a SOAP envelope sent to a device, and XML 1.0
cannot carry C0 control characters (other than tab, newline and carriage return), lone
surrogates or U+FFFE/U+FFFF. A value like that must be refused where it comes in (the
API's parsers, the query string, bulk job specs) and can never fail a session later (the
ACS checks an RPC before sending it). Every entry point asks this module, so the rule
lives in one place.

Ids from the outside (path and query parameters, JSON numbers as strings) are parsed here
too: ASCII digits only (``str.isdigit`` and ``int`` accept "²" and "٣"), bounded to the
database's 64-bit integer range.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: Everything outside XML 1.0's Char production:
#: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

#: The largest primary key a 64-bit signed integer column holds.
MAX_ID = 2**63 - 1
_ASCII_ID = re.compile(r"[0-9]{1,19}")


def problem(text: str) -> str | None:
    """Why `text` cannot travel in XML 1.0 (naming the first bad character), or None."""
    bad = XML_INVALID.search(text)
    if bad is None:
        return None
    char = bad.group()
    if "\ud800" <= char <= "\udfff":
        return f"contains a lone surrogate (U+{ord(char):04X}), which is not valid Unicode."
    return (
        f"contains the character U+{ord(char):04X} at position {bad.start()}, "
        "which XML 1.0 (and so a device) cannot carry."
    )


def problems_in(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, problem) for every string (keys included) in a parsed JSON document.

    Paths read like the body: `settings_template.Device.X`, `variables[2].value`; a
    problem at the top level is reported as `non_field_errors`.
    """
    if isinstance(data, str):
        found = problem(data)
        if found:
            yield path or "non_field_errors", found
    elif isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                found = problem(key)
                if found:
                    # The key itself is the problem: name it by its position, not its text.
                    yield path or "non_field_errors", f"has a key that {found}"
                    continue
            yield from problems_in(value, where)
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from problems_in(value, f"{path}[{index}]")


def first_problem(data: Any) -> tuple[str, str] | None:
    """The first (path, problem) of `problems_in`, or None when everything can travel."""
    return next(problems_in(data), None)


def refuse(data: Any) -> None:
    """A 400 (DRF ValidationError) naming each field of `data` whose text cannot travel."""
    from rest_framework.exceptions import ValidationError

    errors: dict[str, list[str]] = {}
    for where, message in problems_in(data):
        errors.setdefault(where, []).append(f"The value {message}")
    if errors:
        raise ValidationError(errors)


def parse_id(raw: Any) -> int | None:
    """A non-negative database id from text or an int, or None if it is not one.

    ASCII digits only, at most MAX_ID: "²", "٣", "1e20", "-1", " 7", "1_000" and numbers
    past 64 bits are not ids. A JSON int (not a bool) is accepted within the same range.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 <= raw <= MAX_ID else None
    if not isinstance(raw, str) or _ASCII_ID.fullmatch(raw) is None:
        return None
    number = int(raw)
    return number if number <= MAX_ID else None
