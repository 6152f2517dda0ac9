"""The dashboard never shows a secret: the parameter tree and a `set` job's parameters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.operations.bulk.models import BulkJob
from tests.api.test_secret_redaction import (
    EMPTY_SECRET,
    MARKER,
    PLAIN,
    SECRETS,
    assert_no_secret_in,
    make_cpe,
    refresh_through_a_session,
)
from tests.conftest import make_device

pytestmark = pytest.mark.django_db

ROLES = ["viewer_a", "operator_a", "admin_a", "superuser"]


@pytest.fixture
def actor(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def reported(org_a, device_type, operator_a):
    device = make_cpe(org_a, device_type)
    refresh_through_a_session(device, operator_a.user)
    return device


def leaf_values(page: str) -> dict[str, str]:
    """{path: shown value} of the tree's leaves."""
    import re

    leaves = re.findall(
        r'<li class="leaf" data-path="([^"]+)"><span class="pname">[^<]*</span>'
        r'<span class="pval">([^<]*)</span>',
        page,
    )
    return dict(leaves)


@pytest.mark.parametrize("actor", ROLES, indirect=True)
@pytest.mark.parametrize("page", ["device", "fragment"])
def test_the_parameter_tree_shows_secrets_as_the_marker(login, actor, reported, page):
    suffix = "parameters/" if page == "fragment" else ""
    response = login(actor).get(f"/ui/devices/{reported.pk}/{suffix}")
    assert response.status_code == 200
    text = response.content.decode()
    assert_no_secret_in(text)
    shown = leaf_values(text)
    assert {n: shown[n] for n in SECRETS} == dict.fromkeys(SECRETS, MARKER)
    assert shown[EMPTY_SECRET] == ""
    # Non-secret values are shown as they are (escaped for HTML, nothing else).
    assert shown["Device.WiFi.SSID.1.SSID"] == PLAIN["Device.WiFi.SSID.1.SSID"]
    assert shown["Device.DeviceInfo.Description"] == "Password reset by admin"


@pytest.mark.parametrize("actor", ROLES, indirect=True)
def test_a_set_jobs_page_does_not_read_back_its_secret(
    login, actor, operator_a, org_a, device_type
):
    make_device(org_a, device_type, "JOBSEC1")
    later = (timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = login(operator_a).post(
        "/ui/jobs/",
        {
            "operation_type": "set",
            "organizations": [org_a.pk],
            "priority": "normal",
            "execute_at": later,
            "variables": "Device.WiFi.AccessPoint.1.Security.KeyPassphrase:string=job-pass-88\n"
            "Device.WiFi.SSID.1.SSID:string=Guest",
            "confirmed": "on",
        },
    )
    assert response.status_code == 302
    job = BulkJob.objects.get()
    # Stored intact: the job sends it to the devices.
    assert job.params["variables"][0]["value"] == "job-pass-88"
    page = login(actor).get(f"/ui/jobs/{job.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "job-pass-88" not in text
    assert MARKER in text and "Guest" in text
