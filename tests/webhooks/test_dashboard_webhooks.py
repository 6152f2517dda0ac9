"""The dashboard's Webhooks page: admins add endpoints (secret shown once), see why one
was switched off and switch it back on; others manage nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linesman.webhooks.models import Endpoint

pytestmark = pytest.mark.usefixtures("no_static_finders")

PAGE = "/ui/webhooks/"


def _client(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def _form(org, **extra):
    return {
        "organization": org.pk,
        "name": "noc",
        "url": "http://127.0.0.1:9/hook",
        "event_types": ["device.down", "parameter.changed"],
        **extra,
    }


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(admin_a, org_a):
    client = _client(admin_a)
    response = client.post(PAGE, _form(org_a))
    assert response.status_code == 201
    page = response.content.decode()
    secret = re.search(r'<code id="new-secret">([^<]+)</code>', page).group(1)
    endpoint = Endpoint.objects.get()
    assert endpoint.event_types == ["device.down", "parameter.changed"]
    assert secret.startswith("whsec_") and secret not in endpoint.secret_encrypted
    again = client.get(PAGE).content.decode()
    assert secret not in again and "noc" in again
    # strict CSP: nothing inline
    assert "style=" not in again and not re.search(r"<script(?![^>]*\bsrc=)", again)


def test_a_refused_url_is_shown_as_a_form_error(admin_a, org_a):
    response = _client(admin_a).post(PAGE, _form(org_a, url="http://169.254.169.254/"))
    assert response.status_code == 200
    assert "not one webhooks may be sent to" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_a_disabled_endpoint_shows_why_and_can_be_switched_on(admin_a, org_a):
    endpoint = Endpoint.objects.create(
        organization=org_a,
        name="flaky",
        url="http://127.0.0.1:9/x",
        event_types=["device.up"],
        active=False,
        failure_count=15,
        disabled_reason="Disabled after 15 consecutive failed delivery attempts (last: HTTP 500).",
    )
    client = _client(admin_a)
    assert "15 consecutive failed delivery attempts" in client.get(PAGE).content.decode()
    response = client.post(f"{PAGE}{endpoint.pk}/toggle/", {"active": "on"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.failure_count, endpoint.disabled_reason) == (True, 0, "")


def test_viewers_and_other_organizations_manage_nothing(viewer_a, admin_b, org_a):
    endpoint = Endpoint.objects.create(
        organization=org_a, name="a-hook", url="http://127.0.0.1:9/a", event_types=["device.up"]
    )
    viewer = _client(viewer_a)
    page = viewer.get(PAGE).content.decode()
    assert 'id="not-admin"' in page and "a-hook" not in page
    assert viewer.post(PAGE, _form(org_a)).status_code == 403
    other = _client(admin_b)
    assert "a-hook" not in other.get(PAGE).content.decode()
    assert other.post(PAGE, _form(org_a)).status_code == 200  # not a choice: a form error
    assert other.post(f"{PAGE}{endpoint.pk}/toggle/").status_code == 404
    assert Endpoint.objects.count() == 1 and Endpoint.objects.get().active
