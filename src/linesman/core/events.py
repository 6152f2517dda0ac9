"""Platform events: what happened to a device, announced by the layer that saw it.

The ACS session engine, the operation engine and the inventory services announce events
(a device informed, booted, went Down, an RPC was answered, an operation ended); the
device log, webhooks and metrics subscribe. The lower layers import only this module, so
dependencies keep pointing one way.

Delivery is synchronous, after the announcing transaction commits (a rolled-back change
announces nothing), and a subscriber that fails is logged and skipped: an event must never
break the CWMP session or the request that caused it. With no subscriber for a name,
announcing it costs a dict lookup, which keeps the Inform path cheap.

Names (the `data` each carries in brackets):
- `device.registered` (serial_number), `device.up`, `device.down` (previous, reason)
- `session.inform` (events: [[code, command_key]], address) - every session's Inform
- `session.ended` (duration in seconds, rpcs) - a session that ran RPCs ended normally
- `device.booted`, `device.bootstrapped` (events)
- `parameter.changed` (values: {name: value}) - a `4 VALUE CHANGE`
- `rpc.answered` (method, operation_id), `rpc.fault` (method, code, message, operation_id)
- `operation.started` (operation_id, kind), `operation.finished` (operation_id, kind,
  state, result, error, cause)
- `bulk_job.finished` (job_id, status)
- `diagnostic.finished` (operation_id, kind, results)
- `connection_request.sent` (method: http, outcome: ok or a failure cause)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)

ALL = "*"


@dataclass(frozen=True)
class Event:
    name: str
    device_id: int | None
    organization_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=timezone.now)


Subscriber = Callable[[Event], None]
_subscribers: dict[str, list[Subscriber]] = {}


def subscribe(callback: Subscriber, names: tuple[str, ...] = (ALL,)) -> None:
    """Call `callback(event)` for each event of these names (ALL: every event); idempotent."""
    for name in names:
        listeners = _subscribers.setdefault(name, [])
        if callback not in listeners:
            listeners.append(callback)


def unsubscribe(callback: Subscriber) -> None:
    for listeners in _subscribers.values():
        if callback in listeners:
            listeners.remove(callback)


def wanted(name: str) -> bool:
    """Whether anybody listens for `name` (to skip building an expensive payload)."""
    return bool(_subscribers.get(name) or _subscribers.get(ALL))


def announce(
    name: str,
    *,
    device_id: int | None = None,
    organization_id: int | None = None,
    **data: Any,
) -> None:
    """Announce an event; subscribers hear it once the current transaction commits."""
    if not wanted(name):
        return
    event = Event(name, device_id, organization_id, data)
    transaction.on_commit(lambda: _deliver(event))


def _deliver(event: Event) -> None:
    for callback in [*_subscribers.get(event.name, ()), *_subscribers.get(ALL, ())]:
        try:
            callback(event)
        except Exception:
            log.exception("event %s: subscriber %r failed", event.name, callback)
