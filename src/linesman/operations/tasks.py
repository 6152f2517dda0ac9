"""Huey tasks for operations: an operation's time-out, scheduled at its deadline."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from linesman.operations import engine


@db_task()
def expire_operation(op_pk: int) -> None:
    engine.expire(op_pk)
