"""What every command of the local database needs first: Django set up, the database
reachable, the schema migrated; and one way to print a result as text or JSON."""

from __future__ import annotations

import json
import os

import click

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
