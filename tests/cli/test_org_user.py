"""`linesman org list/show` and `linesman user list/show/add-membership/remove-membership`
on the local database: names or ids, text and JSON, one-line errors."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from linesman.inventory.models import Device, DeviceType
from linesman.tenancy import services
from linesman.tenancy.models import Membership, Organization


def failed(run, *args: str, code: int = 1) -> str:
    """The one-line error of a failing command (exit 1 for a failure, 2 for bad usage)."""
    result = run(*args)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    if code == 1:
        assert len(lines) == 1, result.stderr
    return lines[-1]


def ok(run, *args: str):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def tenants(db):
    acme = services.create_organization("Acme ISP", "the first")
    beta = services.create_organization("Beta Net")
    alice = services.create_user("alice", organization=acme, role="operator", password="pw-1")
    bob = services.create_user("bob", email="bob@example.net", organization=acme, role="viewer")
    services.set_membership(bob, beta, "admin")
    root = services.create_user("root", superuser=True, password="pw-2")
    services.create_token(alice)
    services.create_token(alice, name="second")
    kind = DeviceType.objects.create(short_name="router", name="Router")
    for serial in ("S1", "S2"):
        Device.objects.create(organization=acme, name=serial, serial_number=serial, type=kind)
    return {"acme": acme, "beta": beta, "alice": alice, "bob": bob, "root": root}


# --- org list / show -----------------------------------------------------------------------


def test_org_list_json_counts_members_and_devices(run, tenants):
    acme, beta = tenants["acme"], tenants["beta"]
    assert ok(run, "org", "list", "--json").json() == [
        {"id": acme.pk, "name": "Acme ISP", "description": "the first", "members": 2, "devices": 2},
        {"id": beta.pk, "name": "Beta Net", "description": "", "members": 1, "devices": 0},
    ]


def test_org_list_text_one_line_each(run, tenants):
    lines = ok(run, "org", "list").stdout.splitlines()
    assert len(lines) == 2
    assert "Acme ISP" in lines[0] and "2 members" in lines[0] and "2 devices" in lines[0]
    assert "Beta Net" in lines[1] and "1 members" in lines[1] and "0 devices" in lines[1]


def test_org_show_by_name_and_by_id_json(run, tenants):
    acme, alice, bob = tenants["acme"], tenants["alice"], tenants["bob"]
    by_name = ok(run, "org", "show", "Acme ISP", "--json").json()
    assert ok(run, "org", "show", str(acme.pk), "--json").json() == by_name
    assert by_name["id"] == acme.pk and by_name["name"] == "Acme ISP"
    assert by_name["devices"] == 2
    assert by_name["members"] == [
        {"id": alice.pk, "username": "alice", "role": "operator"},
        {"id": bob.pk, "username": "bob", "role": "viewer"},
    ]


def test_org_show_text(run, tenants):
    out = ok(run, "org", "show", "Beta Net").stdout
    assert f"Organization Beta Net (id {tenants['beta'].pk})" in out
    assert "Devices: 0" in out and "Members: 1" in out
    assert "bob" in out and "admin" in out and "alice" not in out


@pytest.mark.parametrize("ref", ["Nope", "999", "²", "1e3"])
def test_org_show_unknown_is_one_line(run, tenants, ref):
    assert failed(run, "org", "show", ref) == f"Error: no organization {ref!r}"


# --- user list / show ----------------------------------------------------------------------


def test_user_list_json(run, tenants):
    acme, beta = tenants["acme"], tenants["beta"]
    rows = ok(run, "user", "list", "--json").json()
    assert [r["username"] for r in rows] == ["alice", "bob", "root"]
    by_name = {r["username"]: r for r in rows}
    assert by_name["root"]["superuser"] is True and by_name["root"]["memberships"] == []
    assert by_name["bob"]["memberships"] == [
        {"organization": acme.pk, "name": "Acme ISP", "role": "viewer"},
        {"organization": beta.pk, "name": "Beta Net", "role": "admin"},
    ]
    assert by_name["alice"]["superuser"] is False


def test_user_list_of_one_org_by_name_or_id(run, tenants):
    rows = ok(run, "user", "list", "--org", "Beta Net", "--json").json()
    assert [r["username"] for r in rows] == ["bob"]
    rows = ok(run, "user", "list", "--org", str(tenants["acme"].pk), "--json").json()
    assert [r["username"] for r in rows] == ["alice", "bob"]
    text = ok(run, "user", "list", "--org", "Acme ISP").stdout
    assert len(text.splitlines()) == 2 and "root" not in text


def test_user_list_unknown_org_is_one_line(run, tenants):
    assert failed(run, "user", "list", "--org", "Nope") == "Error: no organization 'Nope'"


def test_user_show_json_never_reveals_secrets(run, tenants):
    alice, acme = tenants["alice"], tenants["acme"]
    issued = services.create_token(alice, name="third")
    result = ok(run, "user", "show", "alice", "--json")
    assert result.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "",
        "superuser": False,
        "active": True,
        "memberships": [{"organization": acme.pk, "name": "Acme ISP", "role": "operator"}],
        "tokens": 3,
    }
    alice.refresh_from_db()
    for secret in (issued.clear, issued.token.key_hash, alice.password):
        assert secret not in result.stdout
    assert ok(run, "user", "show", str(alice.pk), "--json").json() == result.json()


def test_user_show_text_superuser(run, tenants):
    out = ok(run, "user", "show", "root").stdout
    assert f"User root (id {tenants['root'].pk})" in out
    assert "Superuser: yes" in out and "Tokens: 0" in out and "Memberships: 0" in out
    assert tenants["root"].password not in out


def test_user_show_unknown_is_one_line(run, tenants):
    assert failed(run, "user", "show", "nobody") == "Error: no user 'nobody'"
    assert failed(run, "user", "show", "٣") == "Error: no user '٣'"


# --- memberships ---------------------------------------------------------------------------


def test_add_membership_adds(run, tenants):
    result = ok(run, "user", "add-membership", "alice", "--org", "Beta Net", "--role", "admin")
    assert result.stdout == "Added alice to Beta Net as admin\n"
    membership = Membership.objects.get(user=tenants["alice"], organization=tenants["beta"])
    assert membership.role == "admin"


def test_add_membership_changes_role_by_ids(run, tenants):
    bob, acme = tenants["bob"], tenants["acme"]
    data = ok(
        run,
        "user",
        "add-membership",
        str(bob.pk),
        "--org",
        str(acme.pk),
        "--role",
        "operator",
        "--json",
    ).json()
    assert data == {
        "user": bob.pk,
        "username": "bob",
        "organization": acme.pk,
        "name": "Acme ISP",
        "role": "operator",
        "previous_role": "viewer",
    }
    assert Membership.objects.filter(user=bob).count() == 2
    assert Membership.objects.get(user=bob, organization=acme).role == "operator"


def test_add_membership_bad_role_is_usage_error(run, tenants):
    error = failed(
        run, "user", "add-membership", "alice", "--org", "Beta Net", "--role", "owner", code=2
    )
    assert "--role" in error
    assert not Membership.objects.filter(
        user=tenants["alice"], organization=tenants["beta"]
    ).exists()


def test_add_membership_unknown_user_or_org(run, tenants):
    args = ("--role", "viewer")
    assert (
        failed(run, "user", "add-membership", "nobody", "--org", "Beta Net", *args)
        == "Error: no user 'nobody'"
    )
    assert (
        failed(run, "user", "add-membership", "alice", "--org", "Nope", *args)
        == "Error: no organization 'Nope'"
    )


def test_remove_membership(run, tenants):
    bob, acme, beta = tenants["bob"], tenants["acme"], tenants["beta"]
    result = ok(run, "user", "remove-membership", "bob", "--org", "Acme ISP")
    assert result.stdout == "Removed bob from Acme ISP\n"
    assert list(Membership.objects.filter(user=bob).values_list("organization", flat=True)) == [
        beta.pk
    ]
    assert get_user_model().objects.filter(pk=bob.pk).exists()
    assert Organization.objects.filter(pk=acme.pk).exists()


def test_remove_membership_keeps_tokens(run, tenants):
    ok(run, "user", "remove-membership", str(tenants["alice"].pk), "--org", "Acme ISP")
    assert tenants["alice"].api_tokens.count() == 2
    assert not Membership.objects.filter(user=tenants["alice"]).exists()


def test_remove_membership_not_a_member(run, tenants):
    error = failed(run, "user", "remove-membership", "alice", "--org", "Beta Net")
    assert error == "Error: alice is not a member of Beta Net"


def test_remove_membership_service_reports_absence(tenants):
    assert services.remove_membership(tenants["alice"], tenants["acme"]) is True
    assert services.remove_membership(tenants["alice"], tenants["acme"]) is False
