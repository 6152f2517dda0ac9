"""Device log costs: on the Inform path, per written row, and of a filtered read.

    python bench/device_log.py [--devices 1000] [--rows 200000]

Runs against a fresh SQLite database in a temporary LINESMAN_HOME (or DATABASE_URL when
set): times the subscriber's work per Inform (building the row and queueing it for the
batch writer), the batched insert per row (time-ordered, as informs arrive), a filtered
read (one device, one day, a page of 50 and the bounded count) with its query plan, and
one retention pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    if "LINESMAN_HOME" not in os.environ:
        home = tempfile.TemporaryDirectory(prefix="linesman-bench-")
        os.environ["LINESMAN_HOME"] = home.name  # removed when the script ends
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from linesman.core.events import Event
    from linesman.devicelog import services, subscriber
    from linesman.devicelog.models import DeviceLogEntry
    from linesman.inventory.models import Device, DeviceType
    from linesman.tenancy.services import create_organization

    call_command("migrate", verbosity=0)
    org = create_organization(f"bench-{time.time()}")
    kind = DeviceType.objects.create(short_name=f"bench{int(time.time())}", name="Bench")
    Device.objects.bulk_create(
        Device(organization=org, type=kind, serial_number=f"B{org.pk}-{i}", name=f"b{i}")
        for i in range(args.devices)
    )
    ids = list(Device.objects.filter(organization=org).values_list("pk", flat=True))

    buffer = services.Buffer(3600)
    event = Event("session.inform", ids[0], org.pk, {"events": [["2 PERIODIC", ""]]})
    n = 100_000
    started = time.perf_counter()
    for _ in range(n):
        buffer.add(subscriber.entry_for(event))
    print(f"on the Inform path: {(time.perf_counter() - started) / n * 1e6:.1f} us")

    start = timezone.now() - timedelta(days=7)
    step = timedelta(days=7) / args.rows
    data = {"events": [["2 PERIODIC", ""]], "address": "10.0.0.1"}
    rows = [
        services.Row(ids[i % len(ids)], start + i * step, "inform", "ok", None, "", "", data)
        for i in range(args.rows)
    ]
    started = time.perf_counter()
    for first in range(0, len(rows), 1000):
        services.write(rows[first : first + 1000])
    per_row = (time.perf_counter() - started) / len(rows) * 1e6
    print(f"batched insert: {per_row:.1f} us/row ({len(rows)} rows, batches of 1000)")

    now = timezone.now()
    query = DeviceLogEntry.objects.filter(
        device_id=ids[len(ids) // 2], time__gte=now - timedelta(days=2), time__lte=now
    ).order_by("-time", "-id")
    sql, params = query[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN " + ("QUERY PLAN " if connection.vendor == "sqlite" else "") + sql, params
        )
        print("plan:", cursor.fetchall())
    started = time.perf_counter()
    for _ in range(200):
        list(query[:50])
        query[:1001].count()
    total = DeviceLogEntry.objects.count()
    print(f"filtered read over {total} rows: {(time.perf_counter() - started) / 200 * 1e3:.2f} ms")

    started = time.perf_counter()
    deleted = services.purge(
        now + timedelta(days=services.settings.LINESMAN_DEVICE_LOG_RETENTION_DAYS - 6)
    )
    print(f"retention pass: {deleted} rows in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
