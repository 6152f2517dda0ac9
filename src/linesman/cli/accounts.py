"""`linesman org` and `linesman user`: organizations, users and their memberships."""

from __future__ import annotations

import click

from linesman.cli.setup import check_database as _check_database
from linesman.cli.setup import emit as _emit
from linesman.cli.setup import emit_rows, find_by_id_or_name
from linesman.cli.setup import setup as _setup


@click.group()
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

    return find_by_id_or_name(Organization.objects, "name", ref, "organization")


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
    emit_rows(
        as_json,
        rows,
        lambda r: (
            f"{r['id']:>5}  {r['name']:<30} {r['members']:>4} members {r['devices']:>6} devices"
        ),
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


@click.group()
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

    return find_by_id_or_name(get_user_model().objects, "username", ref, "user")


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
    emit_rows(as_json, rows, _user_line)


def _user_line(r: dict) -> str:
    where = ", ".join(f"{m['name']} ({m['role']})" for m in r["memberships"])
    flag = "superuser" if r["superuser"] else ""
    return f"{r['id']:>5}  {r['username']:<20} {flag:<10} {where}".rstrip()


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
