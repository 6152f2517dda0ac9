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


@pytest.mark.parametrize("params", [{}, {"status": "0"}, {"organization": None}])
def test_deep_pages_hold_the_same_rows_as_shallow_ones(
    admin_a, org_a, device_type, monkeypatch, params
):
    """Past DEEP_OFFSET a page is read by its primary keys first: same rows, same order."""
    for i in range(12):
        make_device(org_a, device_type, f"D{i:02d}")
    if "organization" in params:
        params = {"organization": org_a.pk}

    def page(offset: int) -> list[int]:
        query = {"limit": 4, "offset": offset, **params}
        response = admin_a.client.get("/api/v1/inventory_device/", query)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    shallow = [page(offset) for offset in (0, 3, 9, 11)]
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 0)
    assert [page(offset) for offset in (0, 3, 9, 11)] == shallow
    assert len(shallow[2]) == 3 and shallow[2] == sorted(shallow[2])
