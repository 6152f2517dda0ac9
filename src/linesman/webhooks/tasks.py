"""Huey tasks of webhooks: fan an event out to its endpoints, and deliver with retries.

`on_event` is the platform event subscriber. It runs in the announcing request (a CWMP
session, an API call) after its commit, so it only looks up who listens and enqueues:
the deliveries themselves (HTTP to other systems) always run on the task queue.
"""

from __future__ import annotations

import uuid
from typing import Any

from huey.contrib.djhuey import db_task

from linesman.core.events import Event
from linesman.webhooks import services


def on_event(event: Event) -> None:
    endpoint_ids = services.endpoints_for(event)
    if endpoint_ids:
        fan_out(endpoint_ids, services.envelope(event, str(uuid.uuid4())))


@db_task()
def fan_out(endpoint_ids: list[int], body: dict[str, Any]) -> None:
    for delivery_id in services.create_deliveries(endpoint_ids, body):
        deliver(delivery_id)


@db_task()
def deliver(delivery_id: int) -> None:
    delay = services.attempt(delivery_id)
    if delay is not None:
        deliver.schedule(args=(delivery_id,), delay=delay)
