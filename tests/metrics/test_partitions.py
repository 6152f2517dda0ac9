"""PostgreSQL only: the metric log's day partitions (migration 0003, metrics.partitions)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from linesman.metrics import partitions, services
from linesman.metrics.models import Metric, MetricLog
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("partitions exist on PostgreSQL only")
    partitions.forget()
    yield
    partitions.forget()


def _home(point: MetricLog) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM metrics_metriclog WHERE id = %s",
                       [point.pk])  # fmt: skip
        return cursor.fetchone()[0]


def test_days_get_partitions_and_expired_days_are_dropped_whole(org_a, device_type, settings):
    settings.LINESMAN_METRIC_RETENTION_DAYS = 7
    device = make_device(org_a, device_type, "PART0001")
    metric = Metric.objects.create(organization=org_a, name="temp", parameter_path="T")
    now = timezone.now()
    old_day = (now - dt.timedelta(days=10)).date()
    at_old = dt.datetime.combine(old_day, dt.time(12), tzinfo=dt.UTC)
    services.record(device.pk, [(metric.pk, "absolute", 1.0)], at_old, 1)
    old = MetricLog.objects.get(raw=1.0)
    assert _home(old) == partitions.DEFAULT  # no partition for that day yet

    partitions.create(old_day)  # takes the DEFAULT partition's rows of its day
    assert _home(old) == f"metrics_metriclog_p{old_day:%Y%m%d}"

    assert services.purge(now) == 0  # the old day is dropped whole, not deleted row by row
    assert old_day not in partitions.existing()
    assert not MetricLog.objects.filter(pk=old.pk).exists()
    today = now.astimezone(dt.UTC).date()
    assert {today + dt.timedelta(days=n) for n in (-1, 0, 1, 2)} <= set(partitions.existing())
    services.record(device.pk, [(metric.pk, "absolute", 2.0)], now, 1)
    assert _home(MetricLog.objects.get(raw=2.0)) == f"metrics_metriclog_p{today:%Y%m%d}"
