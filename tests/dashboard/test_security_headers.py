"""The web side: the dashboard's Content-Security-Policy (and pages it does not break),
Secure cookies for HTTPS deployments, and pagination links that ignore a spoofed Host."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.test import Client

from linesman import conf
from linesman.operations.bulk.models import BulkJob
from tests.conftest import make_device

pytestmark = pytest.mark.django_db

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def assert_strict(response, path: str) -> str:
    assert response.status_code == 200, (path, response.status_code)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    page = response.content.decode()
    for pattern, what in INLINE:
        found = pattern.search(page)
        assert found is None, f"{path}: {what} would be blocked by the CSP: {found.group(0)!r}"
    return page


def test_every_dashboard_page_carries_a_strict_csp_and_needs_nothing_inline(
    login, operator_a, org_a, device_type, location_a
):
    devices = [
        make_device(org_a, device_type, f"CSP{i}", location=location_a, status=status)
        for i, status in enumerate(["Up", "Down", "Up"])
    ]
    client = login(operator_a)
    client.post(
        "/ui/jobs/",
        {"operation_type": "sync", "organizations": [org_a.pk], "priority": "normal"},
    )
    job = BulkJob.objects.get()
    paths = [
        "/ui/",
        "/ui/?fragment=1",
        "/ui/devices/",
        f"/ui/devices/{devices[0].pk}/",
        f"/ui/devices/{devices[0].pk}/state/",
        f"/ui/devices/{devices[0].pk}/parameters/",
        "/ui/map/",
        "/ui/jobs/",
        f"/ui/jobs/{job.pk}/",
        f"/ui/jobs/{job.pk}/progress/",
        f"/ui/jobs/{job.pk}/devices/",
    ]
    for path in paths:
        assert_strict(client.get(path), path)
    overview = client.get("/ui/").content.decode()
    assert 'class="health-up" data-width="67"' in overview, "bars carry widths as data"
    assert 'data-width="0"' in client.get(f"/ui/jobs/{job.pk}/").content.decode()


def test_the_login_and_lockout_pages_carry_the_csp_too(settings):
    settings.WHITENOISE_USE_FINDERS = False
    assert_strict(Client().get("/ui/login/"), "/ui/login/")


def test_api_and_admin_keep_their_own_markup_without_the_dashboard_policy(superuser):
    response = superuser.client.get("/api/v1/inventory_device/")
    assert "Content-Security-Policy" not in response


# --- cookies and the TLS proxy header ------------------------------------------------------


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name, _default, _meaning in conf.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LINESMAN_HOME", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize(
    ("public_url", "setting", "secure"),
    [
        ("https://acs.example.net", None, True),
        ("http://acs.example.net", None, False),
        (None, None, False),
        ("http://10.0.0.1:8000", "true", True),
        ("https://acs.example.net", "false", False),
    ],
)
def test_cookies_are_secure_when_the_deployment_is_https(env, public_url, setting, secure):
    if public_url:
        env.setenv("LINESMAN_PUBLIC_URL", public_url)
    if setting:
        env.setenv("LINESMAN_SECURE_COOKIES", setting)
    assert conf.load().secure_cookies is secure


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LINESMAN_SECURE_COOKIES", "maybe"), ("LINESMAN_TRUSTED_PROXY_HEADER", "X Forwarded")],
)
def test_bad_web_settings_are_config_errors(env, variable, value):
    env.setenv(variable, value)
    with pytest.raises(conf.ConfigError, match=variable):
        conf.load()


def test_settings_behind_a_tls_proxy(tmp_path):
    """What `serve` runs with: Secure cookies, and the proxy's header trusted for https."""
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, "
        "s.CSRF_TRUSTED_ORIGINS)"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LINESMAN_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "linesman.settings",
        "LINESMAN_HOME": str(tmp_path),
        "LINESMAN_PUBLIC_URL": "https://acs.example.net/",
        "LINESMAN_TRUSTED_PROXY_HEADER": "X-Forwarded-Proto",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ("True True ('HTTP_X_FORWARDED_PROTO', 'https') ['https://acs.example.net']"), out


def test_the_session_cookie_is_secure_over_a_proxys_https(settings, org_a):
    from linesman.tenancy import services as tenancy

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_USE_FINDERS = False
    tenancy.create_user("noc", password="s3cret-pass", organization=org_a)
    client = Client()
    response = client.post(
        "/ui/login/",
        {"username": "noc", "password": "s3cret-pass"},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True


# --- pagination links ------------------------------------------------------------------


def test_pagination_links_are_built_on_the_public_url_not_the_host_header(
    settings, viewer_a, org_a, device_type
):
    for i in range(3):
        make_device(org_a, device_type, f"PAGE{i}")
    response = viewer_a.client.get(
        "/api/v1/inventory_device/?limit=1&offset=1&status=", HTTP_HOST="evil.example"
    )
    assert response.status_code == 200
    body = response.json()
    base = f"{settings.LINESMAN_PUBLIC_URL}/api/v1/inventory_device/?"
    assert body["next"].startswith(base) and "offset=2" in body["next"]
    assert body["previous"].startswith(base) and "offset" not in body["previous"]
    assert "evil.example" not in body["next"] + body["previous"]
