"""`linesman devices list --search/--location`, "No devices match", and the API's ?search=."""

from __future__ import annotations

import pytest

from tests.conftest import make_device


@pytest.fixture
def fleet(org_a, org_b, device_type, location_a):
    return {
        "branch": make_device(
            org_a, device_type, "SRCH0001", name="branch-gw", customer_id="CUST-77",
            location=location_a,
        ),
        "core": make_device(org_a, device_type, "SRCH0002", name="core-router"),
        "other": make_device(org_b, device_type, "XYZ0003", name="Branch-b"),
    }  # fmt: skip


def serials(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return sorted(d["serial_number"] for d in result.json()["results"])


def test_search_matches_name_serial_and_customer_id_in_any_case(run, fleet):
    assert serials(run("devices", "list", "--search", "BRANCH", "--json")) == [
        "SRCH0001",
        "XYZ0003",
    ]
    assert serials(run("devices", "list", "--search", "srch0002", "--json")) == ["SRCH0002"]
    assert serials(run("devices", "list", "--search", "cust-77", "--json")) == ["SRCH0001"]
    table = run("devices", "list", "--search", "core")
    assert "core-router" in table.stdout and "branch-gw" not in table.stdout


def test_location_by_name_short_name_or_id(run, fleet, location_a):
    for ref in (location_a.name, location_a.short_name, str(location_a.pk)):
        assert serials(run("devices", "list", "--location", ref, "--json")) == ["SRCH0001"]
    unknown = run("devices", "list", "--location", "Atlantis")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip().splitlines() == ["Error: no location 'Atlantis'"]


def test_no_match_says_so_instead_of_an_empty_table(run, fleet):
    result = run("devices", "list", "--search", "nothing-like-this")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No devices match."
    past = run("devices", "list", "--offset", "10")
    assert past.stdout.strip() == "No devices past 10 (3 match)."
    assert run("devices", "list", "--search", "nothing", "--json").json() == {
        "count": 0,
        "results": [],
    }


def test_api_search_filter_is_scoped_to_the_users_organizations(viewer_a, fleet):
    response = viewer_a.client.get("/api/v1/inventory_device/", {"search": "branch"})
    assert response.status_code == 200
    assert [d["serial_number"] for d in response.json()["results"]] == ["SRCH0001"]
