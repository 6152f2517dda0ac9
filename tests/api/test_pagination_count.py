"""Large lists: `count` is exact up to a bound, then estimated (PostgreSQL), and `next`
still leads on while pages come back full."""

from __future__ import annotations

import pytest
from django.db import connection

from linesman.core import pagination
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


def test_count_is_exact_below_the_bound(admin_a, org_a, device_type):
    for i in range(3):
        make_device(org_a, device_type, f"C{i}")
    response = admin_a.client.get("/api/v1/inventory_device/", {"limit": 2})
    assert response.json()["count"] == 3
    assert "X-Count-Estimated" not in response


def test_count_above_the_bound(admin_a, org_a, device_type, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    for i in range(8):
        make_device(org_a, device_type, f"C{i}")
    body = admin_a.client.get("/api/v1/inventory_device/", {"limit": 2})
    if connection.vendor == "postgresql":
        assert body["X-Count-Estimated"] == "true"
        assert body.json()["count"] >= 6
    else:  # no planner estimate: the exact count
        assert body.json()["count"] == 8
    assert "offset=2" in body.json()["next"]
    last = admin_a.client.get("/api/v1/inventory_device/", {"limit": 2, "offset": 6}).json()
    assert len(last["results"]) == 2
    assert (
        admin_a.client.get("/api/v1/inventory_device/", {"limit": 2, "offset": 8}).json()["results"]
        == []
    )
