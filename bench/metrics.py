"""Metric log costs: recording an Inform's metric values, and reading one device's week.

    python bench/metrics.py [--devices 200] [--metrics 10] [--informs 2000] [--days 7]

1. Insert cost per Inform: the Inform hook (`metrics.services.on_inform`) for a device
   whose Inform carries `--metrics` values (half of them counters, so the rate lookup is
   included), timed over `--informs` Informs 5 minutes apart, with the statements counted.
2. One device, one week: `--devices` devices with `--days` of 5-minute points each (the
   table the read has to find its rows in), then one device's week read through the API
   (`GET inventory_metric_log/?device=..&datetime__gte=..`, cursor pages of 1,000) and
   through the dashboard's chart query.

Runs on a fresh SQLite file; set DATABASE_URL=postgres://... to measure on PostgreSQL (a
fresh database is created). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup(home: str) -> None:
    from bench import fixtures

    os.environ["LINESMAN_HOME"] = home
    os.environ["DATABASE_URL"] = fixtures.fresh_database(Path(home))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--informs", type=int, default=2000)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    setup(tempfile.mkdtemp(prefix="linesman-bench-metrics-"))

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    from linesman.inventory.models import Device, DeviceType
    from linesman.metrics import services
    from linesman.metrics.models import Metric, MetricLog, Origin
    from linesman.tenancy import services as tenancy
    from linesman.tenancy.models import Role

    org = tenancy.create_organization("Bench")
    dtype = DeviceType.objects.create(short_name="bench", name="Bench")
    metrics = [
        Metric.objects.create(
            organization=org,
            name=f"m{i}",
            parameter_path=f"Device.Bench.Stats.{i}",
            kind="counter" if i % 2 else "absolute",
        )
        for i in range(args.metrics)
    ]
    plan = [(m.pk, m.kind, m.parameter_path) for m in metrics]
    devices = Device.objects.bulk_create(
        Device(organization=org, type=dtype, serial_number=f"B{i:07d}", name=f"b{i}")
        for i in range(args.devices)
    )
    print(f"{connection.vendor}: {args.devices} devices, {args.metrics} metrics", flush=True)

    # 1. insert cost per Inform
    device = devices[0]
    start = timezone.now() - timedelta(days=args.days + 1)
    services.plan_for(device.type_id, device.organization_id)
    timings, statements = [], 0
    for n in range(args.informs):
        at = start + timedelta(minutes=5 * n)
        params = {path: str(n * 1000 + i) for i, (_, _, path) in enumerate(plan)}
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            services.on_inform(device, params, "Device.", at)
            timings.append(time.perf_counter() - began)
        statements += len(queries)
    print(
        f"insert per Inform ({args.metrics} values): median "
        f"{statistics.median(timings) * 1e6:.0f} us, p95 "
        f"{sorted(timings)[int(len(timings) * 0.95)] * 1e6:.0f} us, "
        f"{statements / args.informs:.2f} statements",
        flush=True,
    )

    # 2. a week of points for every device, then one device's week
    MetricLog.objects.all().delete()
    now = timezone.now()
    per_device = args.days * 24 * 12
    began = time.perf_counter()
    for n in range(per_device):
        at = now - timedelta(minutes=5 * (per_device - n))
        MetricLog.objects.bulk_create(
            MetricLog(
                time=at, device=d, metric_id=m, raw=float(n), value=float(n), origin=Origin.INFORM
            )  # fmt: skip
            for d in devices
            for m, _, _ in plan
        )
    total = MetricLog.objects.count()
    print(f"filled {total} points in {time.perf_counter() - began:.1f} s", flush=True)

    user = tenancy.create_user("bench", organization=org, role=Role.VIEWER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenancy.create_token(user).clear}")
    target = devices[len(devices) // 2]
    since = (now - timedelta(days=7)).isoformat()
    for attempt in ("cold", "warm"):
        began = time.perf_counter()
        query = urlencode({"device": target.pk, "datetime__gte": since, "limit": 1000})
        url = f"/api/v1/inventory_metric_log/?{query}"
        rows = pages = 0
        while url:
            page = client.get(url).json()
            rows += len(page["results"])
            pages += 1
            url = page["next"]
        api = time.perf_counter() - began
        print(f"one device, one week via the API ({attempt}): {rows} points in {pages} pages, "
              f"{api * 1000:.0f} ms", flush=True)  # fmt: skip
    from linesman.metrics import charts

    began = time.perf_counter()
    drawn = charts.for_device(target.pk, "7d")
    print(
        f"one device, one week as dashboard charts: {len(drawn)} charts in "
        f"{(time.perf_counter() - began) * 1000:.0f} ms",
        flush=True,
    )


if __name__ == "__main__":
    main()
