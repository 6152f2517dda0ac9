"""The headless endpoints beyond the seed's examples: transactions, twins, details, results,
CSV, cancel and visibility."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from tests.bulk.conftest import ID_URL, NAME_URL, URL
from tests.conftest import make_actor

pytestmark = pytest.mark.django_db

TRANSACTION = {
    "serial_number": "RT101A",
    "operation": "set",
    "variables": [
        {
            "variable_name": "Device.ManagementServer.PeriodicInformInterval",
            "value": "600",
            "type": "integer",
        }
    ],
    "execute_at": "2031-01-01T00:00:00Z",
}


def test_scheduled_transaction_is_a_job_with_one_target(noc, seed_fleet):
    response = noc.client.post(URL, TRANSACTION, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["operation_type"] == "set"
    assert body["target_device_count"] == 1
    assert body["scheduled_for"] == "2031-01-01T00:00:00Z"
    assert body["operation_config"]["variables"] == [
        {
            "variable_name": "Device.ManagementServer.PeriodicInformInterval",
            "value": "600",
            "type": "xsd:int",
        }
    ]
    assert body["operation_config"]["organizations"] == [101]
    target = BulkJobTarget.objects.get(job_id=int(body["id"]))
    assert target.device_id == seed_fleet["RT101A"].pk


def test_transaction_over_a_list_of_serials(noc, seed_fleet):
    body = {
        **TRANSACTION,
        "serial_number": None,
        "serial_numbers": ["RT101A", "RT102A"],
        "operation": "get",
        "variables": [{"variable_name": "Device.DeviceInfo.UpTime"}],
    }
    response = noc.client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["target_device_count"] == 2
    assert response.json()["operation_config"]["organizations"] == [101, 102]


def test_id_and_name_twins(noc, seed_fleet):
    by_id = noc.client.post(
        ID_URL,
        {"operation": "reboot", "device_ids": [seed_fleet["RT101A"].pk, seed_fleet["SW102A"].pk]},
        format="json",
    )
    assert by_id.status_code == 201, by_id.json()
    assert by_id.json()["target_device_count"] == 2
    assert by_id.json()["monitoring_url"].startswith("/api/v1/inventory_device_headless_operation/")
    one = noc.client.post(
        ID_URL, {"operation": "sync", "device_id": seed_fleet["AP102A"].pk}, format="json"
    )
    assert one.status_code == 201 and one.json()["target_device_count"] == 1
    by_name = noc.client.post(
        NAME_URL, {"operation": "reconf", "names": ["dev-RT101B", "dev-SW103A"]}, format="json"
    )
    assert by_name.status_code == 201, by_name.json()
    assert by_name.json()["target_device_count"] == 2
    assert "inventory_device_name_headless_operation" in by_name.json()["monitoring_url"]
    unknown = noc.client.post(NAME_URL, {"operation": "reboot", "name": "nope"}, format="json")
    assert unknown.status_code == 422
    # One model: a job made through one twin is visible through every twin.
    job_id = by_id.json()["id"]
    for base in (URL, ID_URL, NAME_URL):
        assert noc.client.get(f"{base}?id={job_id}").json()["results"][0]["id"] == job_id


def test_detail_and_list_shapes(noc, seed_fleet):
    job_id = noc.client.post(
        URL, {"operation_type": "reboot", "target_organizations": [101, 102]}, format="json"
    ).json()["id"]
    detail = noc.client.get(f"{URL}{job_id}/")
    assert detail.status_code == 200
    item = detail.json()
    assert item["id"] == job_id and item["status"] == "scheduled"
    assert item["total_devices"] == 7
    assert item["pending_devices"] == 7
    assert item["operation_details"]["organization_ids"] == [101, 102]
    assert item["operation_details"]["device_types"] == ["access_point", "router", "switch"]
    assert item["devices_url"] == f"{URL}{job_id}/devices/"
    assert item["max_concurrency"] == 50 and item["priority"] == "normal"
    assert noc.client.get(f"{URL}abc/").status_code == 404
    assert noc.client.get(f"{URL}?id=abc").status_code == 404
    assert noc.client.get(f"{URL}?status=bogus").status_code == 400
    assert noc.client.get(f"{URL}?status=scheduled").json()["count"] == 1
    assert noc.client.get(f"{URL}?status=completed").json()["count"] == 0
    assert noc.client.get(f"{URL}?update_status=maybe").status_code == 400


def test_list_is_paginated(noc, seed_fleet):
    for _ in range(3):
        noc.client.post(URL, {"operation": "reboot", "serial_number": "RT101A"}, format="json")
    page = noc.client.get(f"{URL}?limit=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_jobs_of_foreign_organizations_are_invisible(noc, seed_orgs, seed_fleet):
    job_id = noc.client.post(
        URL, {"operation_type": "reboot", "target_organizations": [101, 102]}, format="json"
    ).json()["id"]
    only_101 = make_actor("only101", seed_orgs[0], "operator")
    assert only_101.client.get(f"{URL}?id={job_id}").status_code == 404
    assert only_101.client.get(f"{URL}{job_id}/devices/").status_code == 404
    assert only_101.client.delete(f"{URL}{job_id}/").status_code == 404
    assert only_101.client.get(URL).json()["count"] == 0


def test_cancel_a_scheduled_job(noc, seed_fleet):
    job_id = noc.client.post(
        URL,
        {
            "operation_type": "reboot",
            "target_organizations": [101],
            "schedule": {"execute_at": "2031-01-01T00:00:00Z"},
        },
        format="json",
    ).json()["id"]
    response = noc.client.delete(f"{URL}{job_id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["skipped_devices"] == 4 and body["processed_devices"] == 0
    assert body["completed_at"] is not None
    assert set(BulkJobTarget.objects.filter(job_id=job_id).values_list("state", flat=True)) == {
        "skipped"
    }
    again = noc.client.post(f"{URL}{job_id}/cancel/")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_cancel_needs_operator_and_a_finished_job_is_409(noc, seed_orgs, seed_fleet):
    job_id = noc.client.post(
        URL, {"operation_type": "inventory_audit", "target_organizations": [101]}, format="json"
    ).json()["id"]
    viewer = make_actor("v101", seed_orgs[0], "viewer")
    assert viewer.client.delete(f"{URL}{job_id}/").status_code == 403
    BulkJob.objects.filter(pk=job_id).update(status="completed", finished_at=timezone.now())
    response = noc.client.post(f"{URL}{job_id}/cancel/")
    assert response.status_code == 409


def test_devices_endpoint_filters_by_state(noc, seed_fleet):
    job_id = noc.client.post(
        URL, {"operation_type": "reboot", "target_organizations": [101]}, format="json"
    ).json()["id"]
    BulkJobTarget.objects.filter(job_id=job_id, serial_number="RT101B").update(
        state="failed", cause="connection_timeouts", error="no answer"
    )
    everything = noc.client.get(f"{URL}{job_id}/devices/").json()
    assert everything["count"] == 4
    first = everything["results"][0]
    assert set(first) >= {
        "device_id",
        "serial_number",
        "state",
        "cause",
        "operation_id",
        "result",
        "started_at",
        "finished_at",
    }
    failed = noc.client.get(f"{URL}{job_id}/devices/?outcome=failed").json()
    assert [r["serial_number"] for r in failed["results"]] == ["RT101B"]
    assert failed["results"][0]["cause"] == "connection_timeouts"
    both = noc.client.get(f"{URL}{job_id}/devices/?state=failed,pending").json()
    assert both["count"] == 4
    by_cause = noc.client.get(f"{URL}{job_id}/devices/?cause=connection_timeouts").json()
    assert by_cause["count"] == 1
    assert noc.client.get(f"{URL}{job_id}/devices/?state=weird").status_code == 400


def test_results_as_csv(noc, seed_fleet):
    job_id = noc.client.post(
        URL, {"operation_type": "reboot", "target_organizations": [101]}, format="json"
    ).json()["id"]
    response = noc.client.get(f"{URL}{job_id}/devices/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 4 and rows[0]["state"] == "pending"
    assert {r["serial_number"] for r in rows} == {"RT101A", "RT101B", "SW101A", "RT101DOWN"}
