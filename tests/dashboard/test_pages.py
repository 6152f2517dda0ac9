"""Dashboard pages through Django's test client: content, visibility and roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.audit.models import AuditEntry
from linesman.cwmp import parameters
from linesman.inventory.models import Device, DeviceStatus, FirmwareImage, Setting
from linesman.operations.models import Operation, OperationState
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- login ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/ui/", "/ui/devices/", "/ui/devices/1/", "/ui/devices/1/state/", "/ui/map/"]
)
def test_anonymous_is_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/ui/login/?next=")


def test_login_with_password_then_logout(client, org_a):
    from linesman.tenancy import services

    services.create_user("noc", password="s3cret-pass", organization=org_a)
    page = html(client.get("/ui/login/"))
    assert 'name="username"' in page and "csrfmiddlewaretoken" in page
    bad = client.post("/ui/login/", {"username": "noc", "password": "wrong"})
    assert bad.status_code == 200 and "error" in bad.content.decode()
    good = client.post("/ui/login/", {"username": "noc", "password": "s3cret-pass"})
    assert good.status_code == 302 and good["Location"] == "/ui/"
    assert 'id="current-user">noc<' in html(client.get("/ui/"))
    assert client.post("/ui/logout/").status_code == 302
    assert client.get("/ui/").status_code == 302


# --- overview ---------------------------------------------------------------------------


def test_overview_counts_only_visible_devices(login, viewer_a, device_a, device_b, device_type):
    make_device(device_a.organization, device_type, "UP0001", status=DeviceStatus.UP)
    page = html(login(viewer_a).get("/ui/"))
    assert 'id="total-devices">2<' in page
    assert 'id="up-devices">1<' in page and 'id="down-devices">1<' in page
    assert "Org A" in page and "Org B" not in page
    assert "enterprise_router" in page


def test_overview_lists_recent_changes_in_flight_and_failing(
    login, admin_a, device_a, org_a, device_type
):
    quiet = make_device(org_a, device_type, "OLD0001", name="quiet-router")
    Device.objects.filter(pk=quiet.pk).update(status_change=timezone.now() - timedelta(hours=3))
    Operation.objects.create(device=device_a, kind="reboot", state=OperationState.IN_PROGRESS)
    failing = make_device(org_a, device_type, "FAIL0001", name="failing-router")
    Operation.objects.create(
        device=failing,
        kind="sync",
        state=OperationState.TIMED_OUT,
        error_cause="connection_timeouts",
    )
    recovered = make_device(org_a, device_type, "REC0001", name="recovered-router")
    Operation.objects.create(device=recovered, kind="sync", state=OperationState.FAILED)
    Operation.objects.create(device=recovered, kind="sync", state=OperationState.COMPLETED)

    page = html(login(admin_a).get("/ui/"))
    in_flight = page.split('id="in-flight"')[1].split("</section>")[0]
    assert device_a.name in in_flight and "in progress" in in_flight
    failing_part = page.split('id="failing"')[1].split("</section>")[0]
    assert "failing-router" in failing_part and "connection_timeouts" in failing_part
    assert "recovered-router" not in failing_part
    recent = page.split('id="recent-changes"')[1].split("</section>")[0]
    assert device_a.name in recent and "quiet-router" not in recent


def test_overview_fragment_is_polled(login, viewer_a, device_a):
    fragment = html(login(viewer_a).get("/ui/?fragment=1"))
    assert "<html" not in fragment and 'data-poll-next="15000"' in fragment


# --- device list ------------------------------------------------------------------------


@pytest.fixture
def fleet(org_a, org_b, device_type, second_type, location_a):
    make_device(
        org_a,
        device_type,
        "AAA001",
        name="alpha",
        status=DeviceStatus.UP,
        customer_id="CUST-42",
        location=location_a,
    )
    make_device(org_a, second_type, "AAA002", name="bravo", status=DeviceStatus.DOWN)
    make_device(org_a, device_type, "AAA003", name="charlie", status=DeviceStatus.DOWN)
    make_device(org_b, device_type, "BBB001", name="foreign", status=DeviceStatus.UP)


def rows(page: str) -> list[str]:
    body = page.split('id="device-table"')[1].split("</tbody>")[0]
    return [part.split('"')[0] for part in body.split('data-serial="')[1:]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["AAA001", "AAA002", "AAA003"]),
        ("?status=Up", ["AAA001"]),
        ("?status=Down", ["AAA002", "AAA003"]),
        ("?q=cust-42", ["AAA001"]),
        ("?q=aaa00", ["AAA001", "AAA002", "AAA003"]),
        ("?q=brav", ["AAA002"]),
        ("?sort=-name", ["AAA003", "AAA002", "AAA001"]),
        ("?sort=serial&status=Down", ["AAA002", "AAA003"]),
    ],
)
def test_device_list_filters_search_and_sort(login, viewer_a, fleet, query, expected):
    assert rows(html(login(viewer_a).get("/ui/devices/" + query))) == expected


def test_device_list_filters_by_type_org_and_location(
    login, viewer_a, fleet, second_type, org_a, location_a
):
    client = login(viewer_a)
    assert rows(html(client.get(f"/ui/devices/?type={second_type.pk}"))) == ["AAA002"]
    assert len(rows(html(client.get(f"/ui/devices/?organization={org_a.pk}")))) == 3
    assert rows(html(client.get(f"/ui/devices/?location={location_a.pk}"))) == ["AAA001"]


def test_device_list_refuses_a_foreign_organization(login, viewer_a, fleet, org_b):
    assert login(viewer_a).get(f"/ui/devices/?organization={org_b.pk}").status_code == 403


def test_device_list_shows_badges_sort_links_and_pages(login, superuser, org_a, device_type):
    Device.objects.bulk_create(
        Device(organization=org_a, type=device_type, serial_number=f"PG{i:04d}", name=f"pg-{i:04d}")
        for i in range(120)
    )
    client = login(superuser)
    first = html(client.get("/ui/devices/?status=Down"))
    assert 'id="device-count">120<' in first
    assert len(rows(first)) == 50 and "page 1 of 3" in first
    assert 'class="badge status-down"' in first
    assert 'href="?status=Down&amp;sort=-name"' in first  # sorted by name: click reverses
    third = html(client.get("/ui/devices/?status=Down&page=3"))
    assert rows(third)[-1] == "PG0119" and len(rows(third)) == 20


# --- device page ------------------------------------------------------------------------


def test_device_page_shows_fields_pending_history_and_parameters(login, admin_a, device_a):
    Setting.objects.create(device=device_a, variable_name="Device.WiFi.SSID.1.SSID", value="x")
    Operation.objects.create(
        device=device_a, kind="sync", state=OperationState.COMPLETED, completed_at=timezone.now()
    )
    parameters.merge_values(
        device_a.pk,
        [
            {"name": "Device.DeviceInfo.SerialNumber", "value": device_a.serial_number},
            {"name": "Device.DeviceInfo.ModelName", "value": "<b>HGW</b>"},
        ],
    )
    page = html(login(admin_a).get(f"/ui/devices/{device_a.pk}/"))
    assert device_a.serial_number in page and "enterprise_router" in page
    assert "Device.WiFi.SSID.1.SSID" in page  # pending setting
    assert 'data-state="completed"' in page  # history
    assert 'data-path="Device.DeviceInfo.ModelName"' in page
    assert "&lt;b&gt;HGW&lt;/b&gt;" in page and "<b>HGW</b>" not in page
    assert "2 parameters" in page


def test_device_of_another_organization_is_not_found(login, viewer_a, device_b):
    client = login(viewer_a)
    for path in ("/", "/state/", "/parameters/"):
        assert client.get(f"/ui/devices/{device_b.pk}{path}").status_code == 404
    response = client.post(f"/ui/devices/{device_b.pk}/operate/", {"operation": "sync"})
    assert response.status_code == 404


def test_viewer_sees_no_operation_buttons_and_is_refused(login, viewer_a, device_a):
    client = login(viewer_a)
    page = html(client.get(f"/ui/devices/{device_a.pk}/"))
    assert 'id="actions"' not in page and 'id="op-reboot"' not in page
    assert 'id="op-refresh"' not in page
    for operation in ("reboot", "sync", "refresh"):
        response = client.post(
            f"/ui/devices/{device_a.pk}/operate/", {"operation": operation, "confirmed": "on"}
        )
        assert response.status_code == 403
    assert not Operation.objects.exists()


def test_operator_sees_the_buttons(login, operator_a, device_a):
    page = html(login(operator_a).get(f"/ui/devices/{device_a.pk}/"))
    for kind in ("reboot", "factory", "device_factory", "sync", "reconf", "refresh", "firmware"):
        assert f'id="op-{kind}"' in page
    assert 'data-confirm="Reboot Router-Branch-Office-001?' in page


def test_destructive_operation_asks_first_then_runs(login, operator_a, device_a):
    client = login(operator_a)
    url = f"/ui/devices/{device_a.pk}/operate/"
    question = html(client.post(url, {"operation": "factory"}))
    assert "stored configuration are wiped" in question and 'id="confirm-yes"' in question
    assert not Operation.objects.exists()
    response = client.post(url, {"operation": "factory", "confirmed": "on"}, follow=True)
    op = Operation.objects.get()
    assert op.kind == "factory" and op.initiated_by == operator_a.user
    assert f"Factory reset queued as {op.operation_id}" in html(response)


def test_sync_runs_without_confirmation_and_a_second_one_conflicts(login, operator_a, device_a):
    client = login(operator_a)
    url = f"/ui/devices/{device_a.pk}/operate/"
    client.post(url, {"operation": "sync"})
    assert Operation.objects.get().kind == "sync"
    page = html(client.post(url, {"operation": "reconf"}, follow=True))
    assert "Not started" in page and "sync" in page
    assert Operation.objects.count() == 1


def test_unknown_operation_is_refused(login, operator_a, device_a):
    page = html(
        login(operator_a).post(
            f"/ui/devices/{device_a.pk}/operate/", {"operation": "explode"}, follow=True
        )
    )
    assert "Not started" in page and not Operation.objects.exists()


def test_refresh_starts_a_refresh_and_the_tree_polls(login, operator_a, device_a):
    client = login(operator_a)
    client.post(f"/ui/devices/{device_a.pk}/operate/", {"operation": "refresh"})
    assert Operation.objects.get().kind == "refresh"
    fragment = html(client.get(f"/ui/devices/{device_a.pk}/parameters/"))
    assert "refreshing" in fragment and 'data-poll-next="1500"' in fragment
    state = html(client.get(f"/ui/devices/{device_a.pk}/state/"))
    assert 'id="cancel-operation"' in state and 'data-poll-next="1500"' in state


def test_firmware_upgrade_records_the_image_and_starts(login, operator_a, device_a, firmware_image):
    client = login(operator_a)
    url = f"/ui/devices/{device_a.pk}/operate/"
    page = html(client.get(f"/ui/devices/{device_a.pk}/"))
    assert f'<option value="{firmware_image.pk}"' in page
    data = {"operation": "firmware", "firmware_image": firmware_image.pk}
    assert "2.5.0" in html(client.post(url, data))  # the confirmation names the version
    client.post(url, {**data, "confirmed": "on"})
    op = Operation.objects.get()
    assert op.kind == "firmware" and op.params["version"] == "2.5.0"
    device_a.refresh_from_db()
    assert device_a.firmware_image == firmware_image and device_a.firmware_image_is_pending


def test_firmware_of_another_type_is_refused(login, operator_a, device_a, second_type):
    other = FirmwareImage.objects.create(device_type=second_type, version="9", file="x.bin")
    page = html(
        login(operator_a).post(
            f"/ui/devices/{device_a.pk}/operate/",
            {"operation": "firmware", "firmware_image": other.pk, "confirmed": "on"},
            follow=True,
        )
    )
    assert "Not started" in page and not Operation.objects.exists()


def test_cancel_a_running_operation(login, operator_a, viewer_a, device_a):
    op = Operation.objects.create(device=device_a, kind="reboot")
    url = f"/ui/devices/{device_a.pk}/operations/{op.operation_id}/cancel/"
    assert login(viewer_a).post(url).status_code == 403
    page = html(login(operator_a).post(url, follow=True))
    assert f"{op.operation_id} cancelled" in page
    op.refresh_from_db()
    assert op.state == OperationState.CANCELLED
    assert "is not running" in html(login(operator_a).post(url, follow=True))


def test_audit_trail_only_for_admins(login, admin_a, operator_a, device_a):
    from linesman.inventory import services

    services.update_device(user=admin_a.user, device=device_a, data={"description": "moved"})
    assert AuditEntry.objects.filter(device_id=device_a.pk).exists()
    admin_page = html(login(admin_a).get(f"/ui/devices/{device_a.pk}/"))
    assert "moved" in admin_page.split('id="audit"')[1]
    operator_page = html(login(operator_a).get(f"/ui/devices/{device_a.pk}/"))
    assert "shown to the organization's admins" in operator_page.split('id="audit"')[1]


# --- map --------------------------------------------------------------------------------


def test_map_places_devices_by_their_or_their_locations_coordinates(
    login, viewer_a, org_a, org_b, device_type, location_a
):
    own = make_device(
        org_a, device_type, "MAP1", latitude="48.85", longitude="2.35", status=DeviceStatus.UP
    )
    located = make_device(org_a, device_type, "MAP2", location=location_a)
    make_device(org_a, device_type, "MAP3")  # no coordinates at all
    make_device(org_b, device_type, "MAP4", latitude="1", longitude="1")  # invisible
    page = html(login(viewer_a).get("/ui/map/"))
    assert f'data-device="{own.pk}"' in page and f'data-device="{located.pk}"' in page
    assert page.count('class="dev ') == 2
    assert 'class="dev up"' in page and 'class="dev down"' in page
    assert "2 placed" in page and "1 without coordinates" in page
    up_only = html(login(viewer_a).get("/ui/map/?status=Up"))
    assert up_only.count('class="dev ') == 1


def test_map_refuses_a_foreign_organization(login, viewer_a, org_b):
    assert login(viewer_a).get(f"/ui/map/?organization={org_b.pk}").status_code == 403
    assert login(viewer_a).get("/ui/map/?organization=abc").status_code == 403


def test_static_assets_are_served_locally(client):
    page = client.get("/ui/login/").content.decode()
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


@pytest.mark.parametrize("org", ["²", "٣", "99999999999999999999", "-1", "1e3"])
def test_map_organization_filter_that_is_no_id_is_refused_not_a_500(login, superuser, org):
    response = login(superuser).get("/ui/map/", {"organization": org})
    assert response.status_code == 403
