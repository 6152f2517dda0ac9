"""The device list as an operator uses it: the API's status spellings, labelled filters,
CSV export of the filtered list, and starting a bulk job on rows or the filter (issue 14)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from linesman.inventory.models import DeviceStatus
from linesman.operations.bulk.models import BulkJob
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(org_a, org_b, device_type, second_type, location_a):
    return {
        "alpha": make_device(
            org_a, device_type, "AAA001", name="alpha", status=DeviceStatus.UP, location=location_a
        ),
        "bravo": make_device(org_a, second_type, "AAA002", name="bravo", status=DeviceStatus.DOWN),
        "charlie": make_device(
            org_a, device_type, "AAA003", name="=HYPERLINK(1)", status=DeviceStatus.DOWN
        ),
        "foreign": make_device(org_b, device_type, "BBB001", name="foreign"),
    }


def rows(page: str) -> list[str]:
    body = page.split('id="device-table"')[1].split("</tbody>")[0]
    return sorted(part.split('"')[0] for part in body.split('data-serial="')[1:])


@pytest.mark.parametrize("down", ["down", "DOWN", "0", "false", "False", "Down"])
def test_status_takes_the_api_spellings_in_any_case(login, viewer_a, fleet, down):
    page = login(viewer_a).get(f"/ui/devices/?status={down}").content.decode()
    assert rows(page) == ["AAA002", "AAA003"]
    assert '<option value="Down" selected>' in page  # the control shows what is applied


@pytest.mark.parametrize("up", ["up", "UP", "1", "true"])
def test_status_up_spellings(login, viewer_a, fleet, up):
    assert rows(login(viewer_a).get(f"/ui/devices/?status={up}").content.decode()) == ["AAA001"]


def test_unknown_status_is_explained(login, viewer_a, fleet):
    page = login(viewer_a).get("/ui/devices/?status=sideways").content.decode()
    assert rows(page) == [] and 'id="filter-errors"' in page and "up/down" in page


def test_filter_controls_are_labelled_and_org_shows_names(login, viewer_a, fleet):
    page = login(viewer_a).get("/ui/devices/").content.decode()
    for name, label in [
        ("status", "Status"),
        ("type", "Type"),
        ("organization", "Organization"),
        ("location", "Location"),
    ]:
        assert f'<label for="id_{name}">{label} <select name="{name}"' in page
    assert '<label for="id_q">Search' in page
    alpha_row = page.split('data-serial="AAA001"')[1].split("</tr>")[0]
    assert "<td>Org A</td>" in alpha_row


def test_csv_export_of_the_filtered_list(login, viewer_a, fleet):
    response = login(viewer_a).get("/ui/devices/export.csv?status=down&sort=-serial")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["serial_number"] for r in table] == ["AAA003", "AAA002"]
    assert table[1]["organization"] == "Org A" and table[1]["type"] == "enterprise_router_v2"
    # A name a spreadsheet would run as a formula is written as text.
    assert table[0]["name"] == "'=HYPERLINK(1)"


def test_csv_export_respects_tenancy(login, viewer_a, org_b, fleet):
    client = login(viewer_a)
    body = b"".join(client.get("/ui/devices/export.csv").streaming_content).decode()
    assert "BBB001" not in body and "AAA001" in body
    assert client.get(f"/ui/devices/export.csv?organization={org_b.pk}").status_code == 403


def test_list_links_the_export_with_the_filter(login, viewer_a, fleet):
    page = login(viewer_a).get("/ui/devices/?status=Down&q=a").content.decode()
    assert 'href="/ui/devices/export.csv?status=Down&amp;q=a"' in page


def test_selected_rows_prefill_the_job_form(login, operator_a, fleet):
    client = login(operator_a)
    page = client.get("/ui/devices/").content.decode()
    assert 'form="bulk-form"' in page and 'id="job-selected"' in page
    chosen = [fleet["alpha"].pk, fleet["bravo"].pk, fleet["foreign"].pk]  # foreign: not visible
    response = client.post("/ui/devices/job/", {"scope": "selected", "device": chosen})
    assert response.status_code == 200
    page = response.content.decode()
    # The form posts to the jobs page (not back to this one), which creates the job.
    assert '<form method="post" action="/ui/jobs/" class="jobform" id="job-form">' in page
    form = page.split('id="job-form"')[1]
    assert "AAA001\nAAA002</textarea>" in form and "BBB001" not in form
    assert not BulkJob.objects.exists()  # only prefilled: the operator picks and confirms


def test_all_matching_prefills_the_filter(login, operator_a, fleet, second_type, org_a):
    client = login(operator_a)
    response = client.post(
        "/ui/devices/job/",
        {"scope": "all", "status": "Down", "type": second_type.pk, "organization": org_a.pk},
    )
    form = response.content.decode().split('id="job-form"')[1]
    assert f'<option value="{second_type.pk}" selected>' in form
    assert f'<option value="{org_a.pk}" selected>' in form
    assert '<option value="down" selected>' in form
    assert "1 device chosen" in response.content.decode()


def test_all_matching_a_search_prefills_serials(login, operator_a, fleet):
    response = login(operator_a).post("/ui/devices/job/", {"scope": "all", "q": "AAA00"})
    form = response.content.decode().split('id="job-form"')[1]
    serials = re.search(r'name="serial_numbers"[^>]*>([^<]*)<', form).group(1).split()
    assert sorted(serials) == ["AAA001", "AAA002", "AAA003"]


def test_nothing_selected_goes_back_with_a_message(login, operator_a, fleet):
    response = login(operator_a).post("/ui/devices/job/", {"scope": "selected", "query": "q=x"})
    assert response.status_code == 302 and response["Location"] == "/ui/devices/?q=x"


def test_viewer_cannot_start_jobs_from_the_list(login, viewer_a, fleet):
    client = login(viewer_a)
    assert 'id="bulk-form"' not in client.get("/ui/devices/").content.decode()
    response = client.post("/ui/devices/job/", {"scope": "all"})
    assert response.status_code == 403
