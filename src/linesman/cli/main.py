"""The `linesman` command: serve, worker, migrate, organizations, users and tokens, and the
other command groups of this package (devices, op, jobs, types, locations, firmware, diag)
and the simulator's `simulate`, registered at the end."""

from __future__ import annotations

import json
import os
import sys

import click

from linesman.cli.setup import check_database as _check_database
from linesman.cli.setup import emit as _emit
from linesman.cli.setup import migrate as _migrate
from linesman.cli.setup import setup as _setup
from linesman.core.textcheck import parse_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")


@click.group()
@click.version_option(package_name="linesman")
def main() -> None:
    """Linesman: device inventory and TR-069/CWMP ACS for network operators."""


@main.command()
@click.option("--bind", help="host:port to listen on (default: LINESMAN_BIND or 127.0.0.1:8000)")
@click.option("--no-worker", is_flag=True, help="Do not run the task worker in this process")
@click.option("--threads", type=int, help="HTTP worker threads (default: LINESMAN_THREADS)")
def serve(bind: str | None, no_worker: bool, threads: int | None) -> None:
    """Apply migrations, then serve the API, docs, admin and ACS (and run the task worker)."""
    from linesman.conf import ConfigError, parse_bind

    if bind:
        try:
            parse_bind(bind, "--bind")
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        os.environ["LINESMAN_BIND"] = bind
    _setup()
    from django.conf import settings

    from linesman import server

    try:
        server.check_address_free(settings.CONFIG.bind_host, settings.CONFIG.bind_port)
    except server.AddressInUse as exc:
        raise click.ClickException(str(exc)) from None
    _check_database()
    _migrate()
    server.run(worker=not no_worker, threads=threads)


@main.command()
@click.option("--workers", type=int, help="Worker threads (default: LINESMAN_WORKERS)")
def worker(workers: int | None) -> None:
    """Run the task worker alone (for deployments with separate worker nodes)."""
    _setup()
    _check_database()
    from linesman import server

    server.run_worker_forever(workers)


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    _setup()
    _check_database()
    _migrate(verbosity=1)


@main.group()
def org() -> None:
    """Organizations."""


@org.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def org_create(name: str, description: str, as_json: bool) -> None:
    """Create an organization."""
    _setup()
    _check_database()
    from linesman.tenancy import services
    from linesman.tenancy.models import Organization

    if Organization.objects.filter(name=name).exists():
        raise click.ClickException(f"organization {name!r} already exists")
    organization = services.create_organization(name, description)
    _emit(
        as_json,
        {"id": organization.pk, "name": organization.name},
        f"Created organization {organization.name} (id {organization.pk})",
    )


def _find_org(ref: str):
    from linesman.tenancy.models import Organization

    query = Organization.objects.filter(pk=int(ref)) if parse_id(ref) is not None else None
    found = (query.first() if query is not None else None) or Organization.objects.filter(
        name=ref
    ).first()
    if found is None:
        raise click.ClickException(f"no organization {ref!r}")
    return found


def _org_members(organization) -> list[dict]:
    return [
        {"id": m.user_id, "username": m.user.username, "role": m.role}
        for m in organization.memberships.select_related("user").order_by("user__username")
    ]


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def org_list(as_json: bool) -> None:
    """List organizations with their member and device counts."""
    _setup()
    _check_database()
    from django.db.models import Count

    from linesman.tenancy.models import Organization

    organizations = Organization.objects.annotate(
        member_count=Count("memberships", distinct=True),
        device_count=Count("devices", distinct=True),
    ).order_by("id")
    rows = [
        {
            "id": o.pk,
            "name": o.name,
            "description": o.description,
            "members": o.member_count,
            "devices": o.device_count,
        }
        for o in organizations
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        click.echo(
            f"{r['id']:>5}  {r['name']:<30} {r['members']:>4} members {r['devices']:>6} devices"
        )


@org.command("show")
@click.argument("ref", metavar="ORG")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def org_show(ref: str, as_json: bool) -> None:
    """Show an organization (by id or name): its members with their roles, its device count."""
    _setup()
    _check_database()
    organization = _find_org(ref)
    members = _org_members(organization)
    data = {
        "id": organization.pk,
        "name": organization.name,
        "description": organization.description,
        "created": organization.created,
        "devices": organization.devices.count(),
        "members": members,
    }
    lines = [
        f"Organization {organization.name} (id {organization.pk})",
        *([f"Description: {organization.description}"] if organization.description else []),
        f"Devices: {data['devices']}",
        f"Members: {len(members)}",
        *(f"  {m['username']:<20} {m['role']}" for m in members),
    ]
    _emit(as_json, data, "\n".join(lines))


@main.group()
def user() -> None:
    """Users and their memberships."""


@user.command("create")
@click.argument("username")
@click.option("--org", "org_ref", help="Organization (id or name) to make the user a member of")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), default="viewer")
@click.option("--superuser", is_flag=True, help="Make a superuser (every organization)")
@click.option("--password", help="Password for the dashboard/admin (default: none, token only)")
@click.option("--email", default="")
@click.option("--json", "as_json", is_flag=True)
def user_create(username, org_ref, role, superuser, password, email, as_json) -> None:
    """Create a user, optionally a member of an organization with a role."""
    _setup()
    _check_database()
    from django.contrib.auth import get_user_model

    from linesman.tenancy import services

    if get_user_model().objects.filter(username=username).exists():
        raise click.ClickException(f"user {username!r} already exists")
    organization = _find_org(org_ref) if org_ref else None
    if organization is None and not superuser:
        raise click.ClickException("give --org ORG (with --role) or --superuser")
    created = services.create_user(
        username,
        password=password,
        email=email,
        organization=organization,
        role=role,
        superuser=superuser,
    )
    data = {
        "id": created.pk,
        "username": created.username,
        "superuser": created.is_superuser,
        "organization": organization.pk if organization else None,
        "role": role if organization else None,
    }
    where = f" in {organization.name} as {role}" if organization else ""
    _emit(as_json, data, f"Created {'superuser' if superuser else 'user'} {username}{where}")


def _find_user(ref: str):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    found = users.filter(pk=int(ref)).first() if parse_id(ref) is not None else None
    found = found or users.filter(username=ref).first()
    if found is None:
        raise click.ClickException(f"no user {ref!r}")
    return found


def _user_memberships(found) -> list[dict]:
    return [
        {"organization": m.organization_id, "name": m.organization.name, "role": m.role}
        for m in found.memberships.select_related("organization").order_by("organization_id")
    ]


@user.command("list")
@click.option("--org", "org_ref", help="Only the members of this organization (id or name)")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def user_list(org_ref: str | None, as_json: bool) -> None:
    """List users with their memberships (only one organization's members with --org)."""
    _setup()
    _check_database()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.order_by("id")
    if org_ref:
        users = users.filter(memberships__organization=_find_org(org_ref))
    rows = [
        {
            "id": u.pk,
            "username": u.username,
            "superuser": u.is_superuser,
            "active": u.is_active,
            "memberships": _user_memberships(u),
        }
        for u in users
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        where = ", ".join(f"{m['name']} ({m['role']})" for m in r["memberships"])
        flag = "superuser" if r["superuser"] else ""
        click.echo(f"{r['id']:>5}  {r['username']:<20} {flag:<10} {where}".rstrip())


def _user_data(found) -> dict:
    # Never the password hash nor token values: only how many tokens the user holds.
    return {
        "id": found.pk,
        "username": found.username,
        "email": found.email,
        "superuser": found.is_superuser,
        "active": found.is_active,
        "memberships": _user_memberships(found),
        "tokens": found.api_tokens.count(),
    }


@user.command("show")
@click.argument("ref", metavar="USER")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def user_show(ref: str, as_json: bool) -> None:
    """Show a user (by id or username): memberships and roles, superuser flag, token count."""
    _setup()
    _check_database()
    data = _user_data(_find_user(ref))
    lines = [
        f"User {data['username']} (id {data['id']})",
        *([f"Email: {data['email']}"] if data["email"] else []),
        f"Superuser: {'yes' if data['superuser'] else 'no'}",
        *([] if data["active"] else ["Active: no"]),
        f"Tokens: {data['tokens']}",
        f"Memberships: {len(data['memberships'])}",
        *(f"  {m['name']:<30} {m['role']}" for m in data["memberships"]),
    ]
    _emit(as_json, data, "\n".join(lines))


@user.command("add-membership")
@click.argument("ref", metavar="USER")
@click.option("--org", "org_ref", required=True, help="Organization (id or name)")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def user_add_membership(ref: str, org_ref: str, role: str, as_json: bool) -> None:
    """Make a user a member of an organization, or change the role if already one."""
    _setup()
    _check_database()
    from linesman.tenancy import services

    found = _find_user(ref)
    organization = _find_org(org_ref)
    before = found.memberships.filter(organization=organization).values_list("role", flat=True)
    previous = before.first()
    services.set_membership(found, organization, role)
    if previous is None:
        text = f"Added {found.username} to {organization.name} as {role}"
    elif previous == role:
        text = f"{found.username} is already {role} in {organization.name}"
    else:
        text = f"Changed {found.username} in {organization.name} from {previous} to {role}"
    data = {
        "user": found.pk,
        "username": found.username,
        "organization": organization.pk,
        "name": organization.name,
        "role": role,
        "previous_role": previous,
    }
    _emit(as_json, data, text)


@user.command("remove-membership")
@click.argument("ref", metavar="USER")
@click.option("--org", "org_ref", required=True, help="Organization (id or name)")
def user_remove_membership(ref: str, org_ref: str) -> None:
    """End a user's membership of an organization (the user and its tokens stay)."""
    _setup()
    _check_database()
    from linesman.tenancy import services

    found = _find_user(ref)
    organization = _find_org(org_ref)
    if not services.remove_membership(found, organization):
        raise click.ClickException(f"{found.username} is not a member of {organization.name}")
    click.echo(f"Removed {found.username} from {organization.name}")


@main.group()
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
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        click.echo(f"{r['id']:>5}  {r['prefix']}…  {r['user']:<20} {r['name']}")


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


def _register_optional_commands() -> None:
    from linesman.cli.catalog import firmware, locations, types
    from linesman.cli.devices import devices, op
    from linesman.cli.jobs import jobs

    main.add_command(types)
    main.add_command(locations)
    main.add_command(firmware)
    main.add_command(devices)
    main.add_command(op)
    main.add_command(jobs)
    from linesman.cli.diag import diag

    main.add_command(diag)
    from linesman.simulator.cli import simulate

    main.add_command(simulate)


_register_optional_commands()

if __name__ == "__main__":
    main()
