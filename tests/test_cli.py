"""The `linesman` command line: organizations, users and API tokens."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from linesman.cli.main import main
from linesman.tenancy.models import ApiToken, Membership, Organization
from linesman.tenancy.services import hash_token

pytestmark = pytest.mark.usefixtures("no_static_finders")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def failed(*args: str) -> str:
    """The one-line error of a failing command (README: exit code 1 for a failure)."""
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- organizations -------------------------------------------------------------------------


def test_org_create_text(db):
    out = ok("org", "create", "Acme ISP", "--description", "the first")
    organization = Organization.objects.get(name="Acme ISP")
    assert organization.description == "the first"
    assert out == f"Created organization Acme ISP (id {organization.pk})\n"


def test_org_create_json(db):
    data = json.loads(ok("org", "create", "Acme ISP", "--json"))
    organization = Organization.objects.get(name="Acme ISP")
    assert data == {"id": organization.pk, "name": "Acme ISP"}


def test_org_create_duplicate_fails_with_one_line(db):
    ok("org", "create", "Acme ISP")
    error = failed("org", "create", "Acme ISP")
    assert error == "Error: organization 'Acme ISP' already exists"
    assert Organization.objects.filter(name="Acme ISP").count() == 1


# --- users ---------------------------------------------------------------------------------


def test_user_create_with_org_and_role(db):
    organization = Organization.objects.create(name="Acme ISP")
    out = ok("user", "create", "alice", "--org", "Acme ISP", "--role", "operator")
    assert out == "Created user alice in Acme ISP as operator\n"
    alice = get_user_model().objects.get(username="alice")
    assert not alice.is_superuser and not alice.has_usable_password()
    membership = Membership.objects.get(user=alice)
    assert (membership.organization_id, membership.role) == (organization.pk, "operator")


def test_user_create_with_org_id_and_json(db):
    organization = Organization.objects.create(name="Acme ISP")
    data = json.loads(ok("user", "create", "bob", "--org", str(organization.pk), "--json"))
    bob = get_user_model().objects.get(username="bob")
    assert data == {
        "id": bob.pk,
        "username": "bob",
        "superuser": False,
        "organization": organization.pk,
        "role": "viewer",
    }


def test_user_create_superuser_with_password(db):
    out = ok("user", "create", "root", "--superuser", "--password", "choose-one")
    assert out == "Created superuser root\n"
    root = get_user_model().objects.get(username="root")
    assert root.is_superuser and root.is_staff
    assert root.check_password("choose-one")
    assert not Membership.objects.filter(user=root).exists()


def test_user_create_without_org_fails(db):
    error = failed("user", "create", "carol")
    assert error == "Error: give --org ORG (with --role) or --superuser"
    assert not get_user_model().objects.filter(username="carol").exists()


def test_user_create_unknown_org_fails(db):
    assert (
        failed("user", "create", "carol", "--org", "Nowhere") == "Error: no organization 'Nowhere'"
    )
    assert not get_user_model().objects.filter(username="carol").exists()


def test_user_create_duplicate_fails(db):
    ok("user", "create", "root", "--superuser")
    assert failed("user", "create", "root", "--superuser") == "Error: user 'root' already exists"


def test_user_create_bad_role_fails(db):
    Organization.objects.create(name="Acme ISP")
    result = run("user", "create", "dave", "--org", "Acme ISP", "--role", "owner")
    assert result.exit_code == 2
    assert "owner" in result.stderr
    assert not get_user_model().objects.filter(username="dave").exists()


# --- tokens --------------------------------------------------------------------------------


@pytest.fixture
def alice(db):
    from linesman.inventory.models import Device, DeviceType

    organization = Organization.objects.create(name="Acme ISP")
    ok("user", "create", "alice", "--org", "Acme ISP", "--role", "operator")
    kind = DeviceType.objects.create(short_name="t", name="T")
    Device.objects.create(organization=organization, type=kind, name="d1", serial_number="S1")
    return get_user_model().objects.get(username="alice")


def _api(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/inventory_device/")


def test_token_create_json_authenticates_and_is_stored_hashed(alice):
    data = json.loads(ok("token", "create", "--user", "alice", "--name", "laptop", "--json"))

    assert set(data) == {"id", "user", "token", "expires_at"}
    assert data["user"] == "alice" and data["expires_at"] is None
    token = data["token"]
    assert isinstance(token, str) and len(token) >= 32

    response = _api(token)
    assert response.status_code == 200
    assert [d["name"] for d in response.json()["results"]] == ["d1"]

    stored = ApiToken.objects.get(pk=data["id"])
    assert stored.user == alice and stored.name == "laptop"
    assert stored.key_hash == hash_token(token) != token
    assert token.startswith(stored.prefix) and len(stored.prefix) < len(token) // 2
    for row in ApiToken.objects.values():
        assert not any(isinstance(v, str) and token in v for v in row.values())
    assert not ApiToken.objects.filter(key_hash=token).exists()


def test_token_create_plain_prints_only_the_token(alice):
    token = ok("token", "create", "--user", "alice").strip()
    assert "\n" not in token and " " not in token
    assert _api(token).status_code == 200


def test_token_create_with_expiry(alice):
    data = json.loads(ok("token", "create", "--user", "alice", "--expires-days", "90", "--json"))
    stored = ApiToken.objects.get(pk=data["id"])
    assert stored.expires_at is not None
    assert data["expires_at"] == stored.expires_at.isoformat()
    assert _api(data["token"]).status_code == 200


def test_token_create_unknown_user_fails(db):
    assert failed("token", "create", "--user", "ghost") == "Error: no user 'ghost'"
    assert ApiToken.objects.count() == 0


def test_token_list(alice):
    first = json.loads(ok("token", "create", "--user", "alice", "--name", "one", "--json"))
    second = json.loads(ok("token", "create", "--user", "alice", "--name", "two", "--json"))

    rows = json.loads(ok("token", "list", "--json"))
    assert [(r["id"], r["user"], r["name"]) for r in rows] == [
        (first["id"], "alice", "one"),
        (second["id"], "alice", "two"),
    ]
    assert all(first["token"] not in json.dumps(r) for r in rows)
    assert rows[0]["prefix"] == first["token"][: len(rows[0]["prefix"])]

    text = ok("token", "list", "--user", "alice")
    assert len(text.strip().splitlines()) == 2
    assert first["token"] not in text and second["token"] not in text
    assert ApiToken.objects.get(pk=first["id"]).prefix in text
    assert ok("token", "list", "--user", "nobody", "--json").strip() == "[]"


def test_token_revoke(alice):
    data = json.loads(ok("token", "create", "--user", "alice", "--json"))
    assert _api(data["token"]).status_code == 200

    assert ok("token", "revoke", str(data["id"])) == f"Revoked token {data['id']}\n"

    assert not ApiToken.objects.filter(pk=data["id"]).exists()
    assert _api(data["token"]).status_code == 401
    assert failed("token", "revoke", str(data["id"])) == f"Error: no token with id {data['id']}"
