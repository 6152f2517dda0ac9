"""The live parameter tree: a device's flat `Path.To.Leaf` values rendered as nested HTML.

Rendered in Python rather than by a recursive template: a TR-181 device reports thousands
of parameters, and one recursive include per node would take seconds.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from linesman.core.redaction import redact_mapping, redact_reported

#: Nodes this deep or shallower start expanded.
OPEN_DEPTH = 1


def nest(values: dict[str, list[Any]]) -> dict[str, Any]:
    """{"A.B.C": [value, type, writable]} -> {"A": {"B": {"C": [value, type, writable]}}}."""
    root: dict[str, Any] = {}
    for path in sorted(values):
        parts = [p for p in path.split(".") if p]
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if parts:
            node[parts[-1]] = values[path]
    return root


def _key(name: str) -> tuple[int, Any]:
    # Instance numbers sort numerically (1, 2, 10), names alphabetically.
    return (0, int(name)) if (name.isascii() and name.isdigit()) else (1, name.lower())


def _render(
    node: dict[str, Any],
    prefix: str,
    depth: int,
    out: list[str],
    pending: dict[str, str],
    editable: bool,
    objects: dict[str, bool],
) -> None:
    out.append('<ul class="tree">')
    for name in sorted(node, key=_key):
        child = node[name]
        path = f"{prefix}{name}"
        if isinstance(child, dict):
            is_open = " open" if depth < OPEN_DEPTH else ""
            out.append(
                f'<li class="branch"><details data-path="{escape(path)}."{is_open}>'
                f"<summary>{escape(name)}<span class=count>{_leaves(child)}</span></summary>"
            )
            if editable and objects.get(path + "."):
                # Writable table: AddObject; writable instance (a number): DeleteObject.
                action, label = (
                    ("delete", "delete instance")
                    if _is_instance(name)
                    else (
                        "add",
                        "add instance",
                    )
                )
                out.append(
                    f'<span class="objects"><button type="button" class="small" '
                    f'data-object-action="{action}" data-object="{escape(path)}.">'
                    f"{label}</button></span>"
                )
            _render(child, path + ".", depth + 1, out, pending, editable, objects)
            out.append("</details></li>")
        else:
            value, kind, writable = (list(child) + [None, None, None])[:3]
            shown = value if value is not None else ""
            badge = '<span class="rw">rw</span>' if writable else ""
            if writable and editable:
                badge += (
                    f'<button type="button" class="small edit" data-edit="{escape(path)}" '
                    f'data-value="{escape(shown)}" aria-label="Edit {escape(path)}">edit</button>'
                )
            wanted = ""
            if path in pending:
                wanted = (
                    '<span class="pending-value" title="pending until the device confirms it">'
                    f"→ {escape(pending[path])} pending</span>"
                )
            out.append(
                f'<li class="leaf" data-path="{escape(path)}">'
                f'<span class="pname">{escape(name)}</span>'
                f'<span class="pval">{escape(shown)}{wanted}</span>'
                f'<span class="ptype">{escape(kind or "")}</span><span>{badge}</span></li>'
            )
    out.append("</ul>")


def _is_instance(name: str) -> bool:
    return name.isascii() and name.isdigit()


def _leaves(node: dict[str, Any]) -> int:
    return sum(_leaves(c) if isinstance(c, dict) else 1 for c in node.values())


def render(
    values: dict[str, list[Any]],
    pending: dict[str, str] | None = None,
    editable: bool = False,
    objects: dict[str, bool] | None = None,
) -> SafeString:
    """The whole tree as HTML (every name and value escaped, secrets' values redacted).
    `pending`: desired values not confirmed yet, shown next to the reported ones;
    `editable`: writable leaves get an edit button (the page's edit form does the rest),
    and objects writable per `objects` (GetParameterNames) add or delete buttons."""
    if not values:
        return mark_safe("")
    out: list[str] = []
    _render(
        nest(redact_reported(values)),
        "",
        0,
        out,
        redact_mapping(pending or {}),
        editable,
        objects or {},
    )
    return mark_safe("".join(out))  # noqa: S308 - every interpolated value is escaped above
