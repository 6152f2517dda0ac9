"""Login lockout on the dashboard and the admin: after too many wrong passwords for a
username (or from an address), logins answer 429 without checking any password."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client

from linesman.core import throttle
from linesman.tenancy import services as tenancy

pytestmark = pytest.mark.django_db


class CountingHasher(MD5PasswordHasher):
    """Django's MD5 hasher (fast for tests) that counts how many passwords it checked."""

    algorithm = "counting-md5"
    checks = 0

    def verify(self, password, encoded):
        CountingHasher.checks += 1
        return super().verify(password, encoded)

    def encode(self, password, salt):  # what an unknown username costs (set_password)
        CountingHasher.checks += 1
        return super().encode(password, salt)


class Clock:
    def __init__(self, now: float = 1_000_000.0):  # 100 s into a 900 s window
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def setup(settings, monkeypatch):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    settings.LINESMAN_LOGIN_FAILURES = 3
    settings.LINESMAN_LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LINESMAN_LOGIN_WINDOW = 900
    settings.WHITENOISE_USE_FINDERS = False
    clock = Clock()
    monkeypatch.setattr(throttle, "clock", clock)
    return clock


@pytest.fixture
def noc(org_a):
    return tenancy.create_user("noc", password="s3cret-pass", organization=org_a)


def attempt(path: str, username: str, password: str, address: str = "127.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    response = client.post(path, {"username": username, "password": password})
    return response, "_auth_user_id" in client.session


def test_dashboard_locks_a_username_out_and_checks_no_password_meanwhile(setup, noc):
    for _ in range(3):
        response, logged_in = attempt("/ui/login/", "noc", "wrong")
        assert response.status_code == 200 and not logged_in

    CountingHasher.checks = 0
    response, logged_in = attempt("/ui/login/", "noc", "s3cret-pass")
    assert response.status_code == 429 and not logged_in
    assert response["Retry-After"] == "800"
    assert "Too many failed logins" in response.content.decode()
    assert CountingHasher.checks == 0, "a locked-out login costs no password hash"

    setup.now += 800  # the window ends
    response, logged_in = attempt("/ui/login/", "noc", "s3cret-pass")
    assert response.status_code == 302 and logged_in


def test_the_admin_login_shares_the_lockout(noc):
    noc.is_staff = True
    noc.save()
    for _ in range(3):
        attempt("/admin/login/", "NOC", "wrong")  # usernames count case-insensitively
    response, logged_in = attempt("/admin/login/", "noc", "s3cret-pass")
    assert response.status_code == 429 and not logged_in
    response, logged_in = attempt("/ui/login/", "noc", "s3cret-pass")
    assert response.status_code == 429 and not logged_in


def test_an_address_cycling_usernames_is_locked_out_others_are_not(noc):
    for n in range(5):
        attempt("/ui/login/", f"guess{n}", "x", address="198.51.100.7")
    response, logged_in = attempt("/ui/login/", "noc", "s3cret-pass", address="198.51.100.7")
    assert response.status_code == 429 and not logged_in
    response, logged_in = attempt("/ui/login/", "noc", "s3cret-pass", address="203.0.113.1")
    assert response.status_code == 302 and logged_in


def test_a_locked_username_does_not_lock_other_users(noc, org_a):
    tenancy.create_user("alice", password="alice-pass", organization=org_a)
    for _ in range(3):
        attempt("/ui/login/", "noc", "wrong")
    response, logged_in = attempt("/ui/login/", "alice", "alice-pass")
    assert response.status_code == 302 and logged_in
