"""Turns platform events into device log rows.

Runs inside the announcing request after its commit (the Inform path among them), so it
only builds a small tuple and hands it to the batch writer; nothing here touches the
database. Everything that could carry a device's secrets goes through core.redaction.
"""

from __future__ import annotations

import json
from typing import Any

from linesman.core.events import Event
from linesman.core.redaction import redact_mapping, redact_output
from linesman.devicelog import services
from linesman.devicelog.models import LogAction


def _text(value: Any, limit: int = 500) -> str:
    return "" if value is None else str(value)[:limit]


#: Largest operation result (as JSON) a log row copies; a sync's thousands of values stay
#: in the operation's own record, not in every log row.
MAX_RESULT = 2000


def _small(result: Any) -> Any:
    result = redact_output(result)
    try:
        size = len(json.dumps(result, default=str))
    except (TypeError, ValueError):
        return None
    return result if size <= MAX_RESULT else {"omitted": f"{size} bytes; see the operation"}


def entry_for(event: Event) -> services.Row | None:
    """The log row an event makes, or None for events that are not about one device."""
    if event.device_id is None:
        return None
    d = event.data
    name = event.name
    if name == "session.inform":
        codes = [e[0] for e in d.get("events") or () if e]
        row = (LogAction.INFORM, "ok", None, "Inform: " + ", ".join(codes), "")
        data: dict[str, Any] = {"events": d.get("events") or [], "address": d.get("address")}
    elif name == "parameter.changed":
        values = redact_mapping(d.get("values") or {})
        row = (LogAction.VALUE_CHANGE, "ok", None, f"{len(values)} value(s) changed", "")
        data = {"values": values}
    elif name == "rpc.answered":
        row = (LogAction.RPC, "ok", None, _text(d.get("method")), d.get("operation_pk"))
        data = {"method": d.get("method")}
    elif name == "rpc.fault":
        message = f"{d.get('method')}: {d.get('message') or ''}".strip()
        row = (LogAction.RPC, "fault", d.get("code"), _text(message), d.get("operation_pk"))
        data = {"method": d.get("method")}
    elif name == "operation.started":
        kind = d.get("kind")
        row = (LogAction.OPERATION, "started", None, f"{kind} started", d.get("operation_id"))
        data = {"kind": kind, "steps": d.get("steps") or [kind]}
    elif name == "operation.finished":
        state = d.get("state")
        error = d.get("error") or ""
        message = f"{d.get('kind')} {state}" + (f": {error}" if error else "")
        row = (LogAction.OPERATION, str(state), None, _text(message), d.get("operation_id"))
        data = {"kind": d.get("kind"), "cause": d.get("cause"), "result": _small(d.get("result"))}
    elif name in ("device.up", "device.down"):
        status = "up" if name == "device.up" else "down"
        row = (LogAction.STATUS, status, None, f"{status} ({d.get('reason')})", "")
        data = {"previous": d.get("previous"), "reason": d.get("reason")}
    elif name == "device.registered":
        row = (LogAction.REGISTERED, "ok", None, "registered", "")
        data = {}
    elif name == "diagnostic.finished":
        results = d.get("results")
        row = (
            LogAction.DIAGNOSTIC,
            "ok",
            None,
            f"{d.get('kind')} finished",
            d.get("operation_id"),
        )
        data = {"kind": d.get("kind"), "results": redact_output(results)}
    elif name == "connection_request.sent":
        # Which method reached the device (http, udp, xmpp), or why none did.
        method, outcome = d.get("method"), d.get("outcome") or "ok"
        status = "ok" if outcome == "ok" else "failed"
        row = (LogAction.CONNECTION_REQUEST, status, None, f"by {method}: {outcome}", "")
        data = {"method": method, "outcome": outcome}
    else:
        # device.booted / device.bootstrapped repeat what the session row already lists.
        return None
    action, status, code, message, operation = row
    return services.Row(event.device_id, event.time, action, status, code, message, operation, data)


def on_event(event: Event) -> None:
    row = entry_for(event)
    if row is not None:
        services.record(row)
