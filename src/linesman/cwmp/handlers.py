"""Where higher layers hear what devices said, without the ACS importing them.

`INFORM_SUBSCRIBERS` are called with (device, reported parameters, the device's previous
connection time, now) after each Inform is applied; `HANDLERS` maps a DeviceTask's
`handler` to a function called with (task, response) when the device answered it. The
metrics app subscribes to both in its AppConfig.ready(). Subscribers run on the ACS's hot
path: each says in its own docstring what it costs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

InformSubscriber = Callable[[Any, dict[str, str], datetime | None, datetime], None]
AnswerHandler = Callable[[Any, dict[str, Any]], None]

INFORM_SUBSCRIBERS: list[InformSubscriber] = []
HANDLERS: dict[str, AnswerHandler] = {}


def subscribe_inform(subscriber: InformSubscriber) -> None:
    if subscriber not in INFORM_SUBSCRIBERS:
        INFORM_SUBSCRIBERS.append(subscriber)


def handle_answers(name: str, handler: AnswerHandler) -> None:
    HANDLERS[name] = handler


def answered(task: Any, response: dict[str, Any]) -> None:
    """The device answered `task`: its handler, if a higher layer registered one, runs."""
    handler = HANDLERS.get(task.handler)
    if handler is not None:
        handler(task, response)
