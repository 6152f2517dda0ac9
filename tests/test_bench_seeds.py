"""The benchmarks' set-wise SQL seeds still fit the schema.

`bench/api.py` and the Inform and bulk benchmarks insert their fleets with plain SQL (a
million devices in under a minute), which no migration updates: a new NOT NULL column
breaks them silently until the next benchmark run. These run the same statements in the
test database and read the rows back through the models. PostgreSQL only, as the seeds are.
"""

from __future__ import annotations

import pytest
from bench import api, fixtures
from django.db import connection

from linesman.inventory.models import Device, DeviceType
from linesman.tenancy.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmarks seed with PostgreSQL's generate_series")


def test_api_bench_seed_spreads_devices_over_organizations_types_and_status(org_a, device_type):
    with connection.cursor() as cursor:
        cursor.execute(api.ORGS_SQL)
        cursor.execute(api.TYPES_SQL)
        cursor.execute(api.SEED_SQL, {"orgs": 10, "types": 5, "count": 40})
    assert Organization.objects.count() == 10
    assert DeviceType.objects.count() == 5
    devices = list(Device.objects.select_related("type").order_by("serial_number"))
    assert len(devices) == 40
    assert devices[0].serial_number == "SN000000001"
    assert {d.organization_id for d in devices} == set(
        Organization.objects.values_list("id", flat=True)
    )
    assert {d.status for d in devices} == {"Up", "Down"}
    assert len({d.type_id for d in devices}) == 5


def test_inform_bench_seed_gives_provisioned_devices_with_their_password(org_a, device_type):
    with connection.cursor() as cursor:
        cursor.execute(
            fixtures.PG_INSERT,
            {
                "org": org_a.pk,
                "type": device_type.pk,
                "prefix": "BENCH",
                "secret": "encrypted",
                "seen": "2026-01-01T00:00:00Z",
                "count": 3,
            },
        )
    devices = list(Device.objects.order_by("serial_number"))
    assert [d.serial_number for d in devices] == ["BENCH0000000", "BENCH0000001", "BENCH0000002"]
    assert devices[1].username == "BENCH0000001"
    assert devices[1].password_encrypted == "encrypted"
    assert devices[1].last_connection is not None
