"""Server-rendered charts of a device's metrics for the dashboard (SVG, no script).

Each metric of the device over a chosen range becomes one small line chart: the points'
coordinates are computed here and the template draws them as an SVG polyline, so the page
needs no chart library and stays within the dashboard's strict CSP (no inline script or
style: colours come from dashboard.css classes). A long range is thinned to at most
MAX_POINTS per chart by keeping every n-th point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from linesman.metrics.models import Metric, MetricLog

RANGES = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1),
          "7d": timedelta(days=7), "30d": timedelta(days=30)}  # fmt: skip
DEFAULT_RANGE = "24h"
MAX_POINTS = 400
#: Bounds what one page load reads, whatever the range: 10 metrics' worth of a week of
#: 5-minute points is 20,160 rows.
MAX_ROWS = 25_000
WIDTH, HEIGHT, PAD = 600, 140, 4


@dataclass
class Chart:
    name: str
    unit: str
    kind: str
    points: str  # SVG polyline "x,y x,y ..."
    count: int
    low: float
    high: float
    last: float | None
    start: datetime
    end: datetime


def range_of(key: str | None) -> str:
    return key if key in RANGES else DEFAULT_RANGE


def for_device(device_id: int, key: str | None, now: datetime | None = None) -> list[Chart]:
    """One chart per metric the device has points for within the range."""
    now = now or timezone.now()
    start = now - RANGES[range_of(key)]
    rows = (
        MetricLog.objects.filter(device_id=device_id, time__gte=start, time__lte=now)
        .exclude(value__isnull=True)
        .order_by("time", "id")
        .values_list("metric_id", "time", "value")[:MAX_ROWS]
    )
    series: dict[int, list[tuple[datetime, float]]] = {}
    for metric_id, time, value in rows:
        series.setdefault(metric_id, []).append((time, value))
    metrics = Metric.objects.in_bulk(list(series))
    charts = []
    span = (now - start).total_seconds()
    for metric_id, points in sorted(series.items(), key=lambda item: metrics[item[0]].name):
        metric = metrics[metric_id]
        stride = max(1, -(-len(points) // MAX_POINTS))
        shown = points[::stride]
        values = [v for _, v in shown]
        low, high = min(values), max(values)
        spread = (high - low) or 1.0
        coords = " ".join(
            f"{PAD + (t - start).total_seconds() / span * (WIDTH - 2 * PAD):.1f},"
            f"{HEIGHT - PAD - (v - low) / spread * (HEIGHT - 2 * PAD):.1f}"
            for t, v in shown
        )
        charts.append(
            Chart(
                metric.name,
                metric.unit,
                metric.kind,
                coords,
                len(points),
                low,
                high,
                points[-1][1],
                start,
                now,
            )  # fmt: skip
        )
    return charts
