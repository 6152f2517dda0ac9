"""Firmware upgrades that tell the truth (issue 11), driven through the API and the ACS
endpoint with a scripted CPE: the URL a device gets is the serving server's, the device's
firmware fields show what it reports, and every failure says why, with the URL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from linesman.cwmp import soap
from linesman.cwmp.models import DeviceTask
from linesman.inventory.models import Device, FirmwareImage
from linesman.operations import engine
from linesman.operations.models import Operation
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_acs_session import default_answer, finish_session

pytestmark = pytest.mark.django_db

SERIAL = "FWT0001"
CONTENT = b"LINESMAN-FIRMWARE 2.0.0\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, no_static_finders):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.LINESMAN_PUBLIC_URL = "http://acs.example.net:7547"


@pytest.fixture
def device(org_a, device_type):
    from linesman.core import crypto

    device = make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    session(events=("0 BOOTSTRAP",), software="1.0.0")
    device.refresh_from_db()
    return device


def upload(admin, device_type, version: str, content: bytes = CONTENT):
    return admin.client.post(
        "/api/v1/inventory_firmware_image/",
        {
            "device_type": device_type.pk,
            "organization_id": admin.user.memberships.first().organization_id,
            "version": version,
            "file": SimpleUploadedFile("fw.bin", content, "application/octet-stream"),
        },
        format="multipart",
    )


def answer(request):
    if isinstance(request, soap.Download):
        return soap.DownloadResponse(1, soap.UNKNOWN_TIME, soap.UNKNOWN_TIME)
    return default_answer(request)


def session(events=("6 CONNECTION REQUEST",), software="1.0.0", keys=None, transfer=None):
    """One CWMP session of the device; returns the RPCs the ACS sent it."""
    cpe = ScriptedCpe("cpe", "pw")
    response = cpe.inform(SERIAL, events=events, software=software, keys=keys)
    assert response.status_code == 200
    if transfer is not None:
        reply = cpe.post(transfer)
        assert isinstance(cpe.parse(reply).body, soap.TransferCompleteResponse)
    return finish_session(cpe, answer)


def start_upgrade(admin, device, image_id: int) -> str:
    response = admin.client.patch(
        f"/api/v1/inventory_device/{device.pk}/",
        {"firmware_image": image_id, "firmware_image_is_pending": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return Operation.objects.get(device=device, kind="firmware").operation_id


def transfer_session(op_id: str, software: str, fault: int = 0, fault_string: str = ""):
    return session(
        events=("1 BOOT", "7 TRANSFER COMPLETE", "M Download"),
        keys={"M Download": op_id},
        software=software,
        transfer=soap.TransferComplete(op_id, fault, fault_string),
    )


def detail(admin, device) -> dict:
    return admin.client.get(f"/api/v1/inventory_device/{device.pk}/").json()


def test_download_url_is_built_by_the_server_that_sends_it(admin_a, device, device_type, settings):
    # The operation is queued by a process configured with another public URL (the local
    # CLI's defaults, say); the device must still be sent to the serving server.
    settings.LINESMAN_PUBLIC_URL = "http://127.0.0.1:8000"
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    assert "url" not in DeviceTask.objects.get(method="Download").args

    settings.LINESMAN_PUBLIC_URL = "http://acs.example.net:7547"
    rpcs = session()
    download = next(r for r in rpcs if isinstance(r, soap.Download))
    assert download.url.startswith("http://acs.example.net:7547/firmware/")
    assert download.command_key == op_id
    assert download.file_size == len(CONTENT)

    path = urlparse(download.url).path
    fetched = Client().get(path)
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == CONTENT


def test_requested_image_is_pending_until_the_device_reports_it(admin_a, device, device_type):
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    body = detail(admin_a, device)
    assert body["software_version"] == "1.0.0"
    assert body["firmware_image"] == image["id"] and body["firmware_image_is_pending"] is True
    assert body["firmware_upgrade"]["status"] == "in_progress"

    transfer_session(op_id, software="2.0.0")
    body = detail(admin_a, device)
    assert body["software_version"] == "2.0.0"
    assert body["firmware_image"] == image["id"] and body["firmware_image_is_pending"] is False
    assert body["firmware_upgrade"]["status"] == "completed"
    assert body["firmware_upgrade"]["error"] is None


def test_transfer_complete_with_the_old_version_fails_with_its_own_message(
    admin_a, device, device_type
):
    old = upload(admin_a, device_type, "1.0.0", b"LINESMAN-FIRMWARE 1.0.0\n").json()
    Device.objects.filter(pk=device.pk).update(firmware_image_id=old["id"])
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    # The device says the transfer succeeded, but comes back still running 1.0.0: the
    # upgrade waits for its next Inform (it may not have rebooted yet) ...
    transfer_session(op_id, software="1.0.0")
    assert Operation.objects.get(operation_id=op_id).state == "in_progress"
    # ... which still reports 1.0.0: failed now, not at the end of the timeout.
    session(events=("2 PERIODIC",), software="1.0.0")

    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "failed"
    assert op.error == (
        "TransferComplete succeeded but the device still reports the old version '1.0.0', "
        "not '2.0.0'."
    )
    body = detail(admin_a, device)
    assert body["software_version"] == "1.0.0"
    # The device's image is the one it runs, not the one that failed to install.
    assert body["firmware_image"] == old["id"] and body["firmware_image_is_pending"] is False
    upgrade = body["firmware_upgrade"]
    assert upgrade["status"] == "failed" and upgrade["version"] == "2.0.0"
    assert upgrade["from_version"] == "1.0.0"
    assert upgrade["error"] == op.error
    assert upgrade["url"] == "http://acs.example.net:7547/firmware/…/2.0.0.bin"


def test_transfer_fault_shows_the_fault_and_the_url(admin_a, viewer_a, device, device_type):
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session(op_id, software="1.0.0", fault=9010, fault_string="server unreachable")

    upgrade = detail(viewer_a, device)["firmware_upgrade"]
    assert upgrade["status"] == "failed"
    assert upgrade["fault"]["code"] == 9010
    assert upgrade["fault"]["string"] == "server unreachable"
    assert "9010" in upgrade["error"] and "server unreachable" in upgrade["error"]
    assert upgrade["url"] == "http://acs.example.net:7547/firmware/…/2.0.0.bin"
    assert detail(viewer_a, device)["firmware_image"] is None  # no image of version 1.0.0

    browser = Client()
    browser.force_login(viewer_a.user)
    page = browser.get(f"/ui/devices/{device.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('id="firmware-upgrade"') :][:1500]
    assert "failed" in section
    assert "http://acs.example.net:7547/firmware/…/2.0.0.bin" in section
    assert "9010" in section and "server unreachable" in section


def test_timed_out_upgrade_is_visible_with_its_url(admin_a, device, device_type):
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()  # the device accepted the Download and never reported back
    Operation.objects.filter(operation_id=op_id).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )
    engine.expire(Operation.objects.get(operation_id=op_id).pk)

    body = detail(admin_a, device)
    assert body["firmware_image_is_pending"] is False and body["firmware_image"] is None
    assert body["firmware_upgrade"]["status"] == "timed_out"
    assert body["firmware_upgrade"]["url"] == "http://acs.example.net:7547/firmware/…/2.0.0.bin"


@pytest.mark.parametrize("version", ["2.0 beta/rc#1?x=%y", "V2 (build 7) ü"])
def test_version_with_url_unsafe_characters_uploads_and_downloads(
    admin_a, device, device_type, version
):
    uploaded = upload(admin_a, device_type, version)
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["version"] == version
    start_upgrade(admin_a, device, uploaded.json()["id"])
    download = next(r for r in session() if isinstance(r, soap.Download))
    path = urlparse(download.url).path
    # One plain path segment after the token: nothing a device must percent-encode.
    name = path.rsplit("/", 1)[-1]
    assert name.endswith(".bin") and all(c.isalnum() or c in "._-" for c in name), name
    fetched = Client().get(path)
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == CONTENT


@pytest.mark.parametrize("version", ["", "   ", "1.0\nrc", "2.0\x07"])
def test_blank_or_control_character_versions_are_refused(admin_a, device_type, version):
    response = upload(admin_a, device_type, version)
    assert response.status_code == 400
    assert "version" in response.json()
    assert not FirmwareImage.objects.exists()


def test_local_cli_shows_the_failed_upgrade(admin_a, device, device_type):
    from click.testing import CliRunner

    from linesman.cli.main import main

    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session(op_id, software="1.0.0", fault=9010, fault_string="server unreachable")

    result = CliRunner().invoke(
        main,
        ["devices", "show", SERIAL],
        env={"LINESMAN_URL": "", "LINESMAN_TOKEN": "", "COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith("firmware "))
    assert "failed 1.0.0 -> 2.0.0" in line
    assert "URL http://acs.example.net:7547/firmware/…/2.0.0.bin" in line
    assert "9010" in line and "server unreachable" in line


def test_image_deleted_before_the_download_is_sent_fails_the_upgrade(admin_a, device, device_type):
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    FirmwareImage.objects.filter(pk=image["id"]).delete()
    assert not any(isinstance(r, soap.Download) for r in session())
    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "failed"
    assert f"firmware image {image['id']} no longer exists" in op.error
