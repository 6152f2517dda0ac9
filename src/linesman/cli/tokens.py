"""`linesman token`: API tokens of users (create, list, revoke)."""

from __future__ import annotations

import sys

import click

from linesman.cli.setup import check_database as _check_database
from linesman.cli.setup import emit as _emit
from linesman.cli.setup import emit_rows
from linesman.cli.setup import setup as _setup


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--user", "username", required=True)
@click.option("--name", default="")
@click.option("--expires-days", type=click.IntRange(min=1), help="Expire after N days")
@click.option("--json", "as_json", is_flag=True)
def token_create(username: str, name: str, expires_days: int | None, as_json: bool) -> None:
    """Create an API token for a user; it is printed once and never stored in clear."""
    _setup()
    _check_database()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from linesman.tenancy import services

    found = get_user_model().objects.filter(username=username).first()
    if found is None:
        raise click.ClickException(f"no user {username!r}")
    expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
    issued = services.create_token(found, name=name, expires_at=expires)
    data = {
        "id": issued.token.pk,
        "user": username,
        "token": issued.clear,
        "expires_at": expires.isoformat() if expires else None,
    }
    _emit(
        as_json,
        data,
        issued.clear
        if not sys.stdout.isatty()
        else f"Token for {username} (shown once, keep it safe):\n{issued.clear}",
    )


@token.command("list")
@click.option("--user", "username")
@click.option("--json", "as_json", is_flag=True)
def token_list(username: str | None, as_json: bool) -> None:
    """List tokens (their prefixes only)."""
    _setup()
    _check_database()
    from linesman.tenancy.models import ApiToken

    tokens = ApiToken.objects.select_related("user")
    if username:
        tokens = tokens.filter(user__username=username)
    rows = [
        {
            "id": t.pk,
            "prefix": t.prefix,
            "user": t.user.username,
            "name": t.name,
            "expires_at": t.expires_at,
            "last_used": t.last_used,
        }
        for t in tokens
    ]
    emit_rows(as_json, rows, lambda r: f"{r['id']:>5}  {r['prefix']}…  {r['user']:<20} {r['name']}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke (delete) a token by id."""
    _setup()
    _check_database()
    from linesman.tenancy.models import ApiToken

    deleted, _ = ApiToken.objects.filter(pk=token_id).delete()
    if not deleted:
        raise click.ClickException(f"no token with id {token_id}")
    click.echo(f"Revoked token {token_id}")
