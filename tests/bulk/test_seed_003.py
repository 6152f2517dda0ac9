"""Seed 003, `inventory_device_serial_headless_operation/`: every curl example, as written."""

from __future__ import annotations

import json

import pytest

from linesman.operations.bulk.models import BulkJob, BulkJobTarget
from tests.bulk.conftest import URL

pytestmark = pytest.mark.django_db

#: The seed's POST body, byte for byte.
SEED_POST = """{
    "operation_type": "bulk_serial_sync",
    "target_organizations": [101, 102, 103],
    "device_filters": {
      "types": ["router", "switch"],
      "status": ["active", "pending"]
    },
    "schedule": {
      "execute_at": "2024-01-16T02:00:00Z",
      "priority": "normal"
    },
    "options": {
      "update_firmware_info": true,
      "validate_connectivity": true,
      "timeout_minutes": 120
    }
  }"""

CREATED_SHAPE = {
    "id": str,
    "operation_type": str,
    "status": str,
    "created_at": str,
    "scheduled_for": str,
    "estimated_duration_minutes": int,
    "target_device_count": int,
    "operation_config": dict,
    "monitoring_url": str,
}
ITEM_SHAPE = {
    "id": str,
    "operation_type": str,
    "status": str,
    "progress": int,
    "total_devices": int,
    "processed_devices": int,
    "failed_devices": int,
    "created_at": str,
    "updated_at": str,
    "estimated_completion": str,
    "operation_details": dict,
}


def shape(body: dict, expected: dict) -> None:
    for key, kind in expected.items():
        assert key in body, key
        assert isinstance(body[key], kind), (key, body[key])


def post_seed(actor):
    # The curl sends the raw body with Content-Type: application/json.
    return actor.client.post(URL, SEED_POST, content_type="application/json")


def test_post_seed_example(noc, seed_fleet):
    response = post_seed(noc)
    assert response.status_code == 201, response.json()
    body = response.json()
    shape(body, CREATED_SHAPE)
    assert body["id"].isdigit()
    assert body["operation_type"] == "bulk_serial_sync"
    assert body["status"] == "scheduled"
    assert body["scheduled_for"] == "2024-01-16T02:00:00Z"
    assert body["created_at"].endswith("Z")
    assert body["estimated_duration_minutes"] >= 1
    # Up routers and switches of the three organizations, plus the router with a pending
    # setting; not the Down ones, not the access point.
    expected = {"RT101A", "RT101B", "SW101A", "RT102A", "SW102A", "SW103A", "RT103PEND"}
    assert body["target_device_count"] == len(expected)
    config = body["operation_config"]
    assert config["organizations"] == [101, 102, 103]
    assert config["device_types"] == ["router", "switch"]
    assert config["options"]["update_firmware_info"] is True
    assert config["options"]["validate_connectivity"] is True
    assert config["options"]["timeout_minutes"] == 120
    assert (
        body["monitoring_url"]
        == f"/api/v1/inventory_device_serial_headless_operation/?id={body['id']}"
    )
    job = BulkJob.objects.get(pk=int(body["id"]))
    assert set(job.targets.values_list("serial_number", flat=True)) == expected
    assert BulkJobTarget.objects.filter(job=job, state="pending").count() == len(expected)


def test_get_seed_example_unknown_id_is_404(noc, seed_fleet):
    response = noc.client.get(f"{URL}?id=12345&update_status=true", content_type="application/json")
    assert response.status_code == 404


def test_get_seed_example_with_a_real_id(noc, seed_fleet):
    job_id = post_seed(noc).json()["id"]
    response = noc.client.get(
        f"{URL}?id={job_id}&update_status=true", content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    item = body["results"][0]
    shape(item, ITEM_SHAPE)
    assert item["id"] == job_id
    assert item["status"] == "scheduled"
    assert item["progress"] == 0
    assert item["total_devices"] == 7
    assert item["processed_devices"] == 0 and item["failed_devices"] == 0
    details = item["operation_details"]
    assert details["device_types"] == ["router", "switch"]
    assert details["organization_ids"] == [101, 102, 103]
    assert details["error_summary"] == {}


def test_get_without_id_lists_every_job(noc, seed_fleet):
    first = post_seed(noc).json()["id"]
    second = post_seed(noc).json()["id"]
    body = noc.client.get(URL).json()
    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [second, first]


def test_requests_without_a_token_are_401(anonymous):
    assert anonymous.client.get(URL).status_code == 401
    assert anonymous.client.post(URL, SEED_POST, content_type="application/json").status_code == 401


def test_seed_data_parameter_as_a_json_string(noc, seed_fleet):
    """The seed's parameter table names one body parameter, `data`, a JSON string."""
    response = noc.client.post(URL, {"data": SEED_POST}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["target_device_count"] == 7
    assert json.loads(SEED_POST)["operation_type"] == response.json()["operation_type"]
