"""The device page's metrics panel: one server-drawn SVG chart per metric and range."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from linesman.metrics import services
from linesman.metrics.models import Metric

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_static_finders")]


def _page(actor, device, **query) -> str:
    client = Client()
    client.force_login(actor.user)
    response = client.get(f"/ui/devices/{device.pk}/", query)
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    return response.content.decode()


def _chart(page: str, name: str) -> str:
    match = re.search(rf'<figure class="chart" data-metric="{name}">(.*?)</figure>', page, re.S)
    assert match, f"no chart of {name}"
    return match.group(1)


def test_charts_show_each_metric_over_the_chosen_range(viewer_a, device_a, org_a):
    temp = Metric.objects.create(organization=org_a, name="temp", parameter_path="T", unit="C")
    rx = Metric.objects.create(organization=org_a, name="rx", parameter_path="R", kind="counter")
    now = timezone.now()
    for minutes in range(0, 60 * 30, 60):  # 30 hours, hourly
        at = now - dt.timedelta(minutes=minutes)
        services.record(device_a.pk, [(temp.pk, "absolute", 40 + minutes % 7)], at, 1)
    services.record(device_a.pk, [(rx.pk, "counter", 5.0)], now - dt.timedelta(hours=2), 1)

    day = _page(viewer_a, device_a)
    assert "24 points" in _chart(day, "temp")
    coords = re.search(r'points="([^"]*)"', _chart(day, "temp")).group(1).split()
    assert len(coords) == 24
    assert all(0 <= float(x) <= 600 and 0 <= float(y) <= 140 for x, y in
               (c.split(",") for c in coords))  # fmt: skip
    assert 'data-metric="rx"' not in day  # a counter's first reading has no rate to draw

    hour = _page(viewer_a, device_a, range="1h")
    assert "1 points" in _chart(hour, "temp")
    assert "30 points" in _chart(_page(viewer_a, device_a, range="7d"), "temp")
    assert "24 points" in _chart(_page(viewer_a, device_a, range="bogus"), "temp")
    assert "style=" not in _chart(day, "temp")  # the strict CSP forbids inline styles


def test_no_points_no_charts(viewer_a, device_a):
    assert "No metric points in this range." in _page(viewer_a, device_a)


def test_another_organizations_device_page_is_404(viewer_a, device_b):
    client = Client()
    client.force_login(viewer_a.user)
    assert client.get(f"/ui/devices/{device_b.pk}/").status_code == 404
