"""Where higher layers hear what devices said, without the ACS importing them.

`INFORM_SUBSCRIBERS` are called with (device, reported parameters, data model root, now)
while each Inform is applied, with the device still as it was before this Inform (its
`last_connection` is the previous session's); `HANDLERS` maps a DeviceTask's
`handler` to functions called with (task, response) when the device answered it (after
the operations engine had it, for the handlers the engine owns). The
metrics app subscribes to both in its AppConfig.ready(). Subscribers run on the ACS's hot
path: each says in its own docstring what it costs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

InformSubscriber = Callable[[Any, dict[str, str], str, datetime], None]
AnswerHandler = Callable[[Any, dict[str, Any]], None]

INFORM_SUBSCRIBERS: list[InformSubscriber] = []
HANDLERS: dict[str, list[AnswerHandler]] = {}


def subscribe_inform(subscriber: InformSubscriber) -> None:
    if subscriber not in INFORM_SUBSCRIBERS:
        INFORM_SUBSCRIBERS.append(subscriber)


def handle_answers(name: str, handler: AnswerHandler) -> None:
    subscribers = HANDLERS.setdefault(name, [])
    if handler not in subscribers:
        subscribers.append(handler)


def answered(task: Any, response: dict[str, Any]) -> None:
    """The device answered `task`: the handlers higher layers registered for it run."""
    for handler in HANDLERS.get(task.handler, ()):
        handler(task, response)
