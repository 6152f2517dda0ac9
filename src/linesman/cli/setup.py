"""What every command of the local database needs first: Django set up, the database
reachable, the schema migrated; one way to print a result (or a list of rows) as text or
JSON, and one way to find a record by id or name."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import click

from linesman.core.textcheck import parse_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")


def setup() -> None:
    """Load settings and Django; a configuration problem is one clear line, exit 2."""
    import django

    from linesman.conf import ConfigError

    try:
        django.setup()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def check_database() -> None:
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"database unreachable: {first}") from None


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def emit(as_json: bool, data: dict, text: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text)


def emit_rows(as_json: bool, rows: list[dict], line: Callable[[dict], str]) -> None:
    """Rows as one JSON list, or a line of text each."""
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for row in rows:
        click.echo(line(row))


def find_by_id_or_name(manager: Any, name_field: str, ref: str, what: str) -> Any:
    """The record whose id is `ref` (ASCII digits) or, failing that, whose `name_field` is
    `ref`; a one-line error naming `what` when there is none."""
    pk = parse_id(ref)
    found = manager.filter(pk=pk).first() if pk is not None else None
    found = found or manager.filter(**{name_field: ref}).first()
    if found is None:
        raise click.ClickException(f"no {what} {ref!r}")
    return found
