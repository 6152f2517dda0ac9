"""GET /api/v1/ (the URL `linesman serve` prints as "API") says where to go next: the
docs, the schema and every resource, each a URL that answers; it shows no data."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_api_root_points_at_the_docs_the_schema_and_the_resources(admin_a):
    anonymous = APIClient()
    response = anonymous.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["docs"] == "http://testserver/api/v1/docs/"
    assert body["schema"] == "http://testserver/api/v1/schema/"
    assert anonymous.get(body["docs"]).status_code == 200
    assert anonymous.get(body["schema"]).status_code == 200
    devices = body["resources"]["inventory_device"]
    assert devices == "http://testserver/api/v1/inventory_device/"
    assert {"inventory_type", "webhook_endpoint"} <= set(body["resources"])
    assert anonymous.get(devices).status_code == 401  # the data still needs a token
    # Each resource it names exists for a user with a token: 200, or 400 saying which
    # filter a collection needs (settings are listed per device).
    statuses = {url: admin_a.client.get(url).status_code for url in body["resources"].values()}
    assert set(statuses.values()) <= {200, 400}, statuses
    assert statuses[devices] == 200


def test_the_root_is_not_a_resource_of_the_schema():
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/" not in schema["paths"]
