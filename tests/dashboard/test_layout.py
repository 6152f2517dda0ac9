"""The dashboard's frame: styled error pages, staff-only Admin link, logging out by GET,
and the narrow-screen menu (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from linesman.dashboard import errors

pytestmark = pytest.mark.django_db


def test_unknown_ui_path_is_a_styled_404_with_navigation(login, viewer_a):
    response = login(viewer_a).get("/ui/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="error-page" data-status="404"' in page
    assert 'id="main-nav"' in page and 'href="/ui/devices/"' in page
    assert "dashboard.css" in page


def test_invisible_device_is_a_styled_404_naming_the_problem(login, viewer_a, device_b):
    response = login(viewer_a).get(f"/ui/devices/{device_b.pk}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'data-status="404"' in page and "No such device." in page


def test_viewer_refused_an_operation_gets_a_styled_403(login, viewer_a, device_a):
    response = login(viewer_a).post(f"/ui/devices/{device_a.pk}/operate/", {"operation": "sync"})
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-status="403"' in page and "operator role" in page and 'id="main-nav"' in page


def test_api_paths_keep_json_errors(login, viewer_a):
    response = login(viewer_a).get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content) == {"detail": "Not found."}


def test_server_error_page_inside_the_layout():
    ui = errors.server_error(RequestFactory().get("/ui/devices/"))
    assert ui.status_code == 500
    assert 'data-status="500"' in ui.content.decode() and 'id="main-nav"' in ui.content.decode()
    other = errors.server_error(RequestFactory().get("/cwmp/"))
    assert other.status_code == 500 and b"error-page" not in other.content


def test_admin_link_only_for_staff(login, admin_a, superuser):
    assert 'id="nav-admin"' not in login(admin_a).get("/ui/").content.decode()
    assert 'id="nav-admin"' in login(superuser).get("/ui/").content.decode()


def test_logout_by_get_asks_and_post_logs_out(login, viewer_a):
    client = login(viewer_a)
    asked = client.get("/ui/logout/")
    assert asked.status_code == 200
    page = asked.content.decode()
    assert f"Log out {viewer_a.user.username}?" in page and 'method="post"' in page
    assert client.get("/ui/").status_code == 200  # still logged in after the GET
    assert client.post("/ui/logout/").status_code == 302
    assert client.get("/ui/").status_code == 302


def test_logout_by_get_when_logged_out_goes_to_login():
    response = Client().get("/ui/logout/")
    assert response.status_code == 302 and response["Location"].startswith("/ui/login/")


def test_narrow_screens_get_a_menu_button_and_media_queries(login, viewer_a, settings):
    page = login(viewer_a).get("/ui/").content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert 'id="menu-toggle"' in page and 'aria-controls="main-nav"' in page
    from django.contrib.staticfiles import finders

    css = Path(finders.find("dashboard/dashboard.css")).read_text(encoding="utf-8")
    assert "@media (max-width: 760px)" in css and ".topbar.menu-open nav" in css
