"""The sample Grafana dashboard queries only metrics that `/metrics` defines."""

from __future__ import annotations

import json
import re
from pathlib import Path

from linesman.observability import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
GAUGES = {"linesman_devices", "linesman_bulk_job_devices", "linesman_task_queue_depth"}


def test_every_panel_queries_a_known_metric():
    known = set(GAUGES)
    for value in vars(metrics).values():
        name = getattr(value, "_name", None)
        if isinstance(name, str) and name.startswith("linesman_"):
            known |= {name, f"{name}_total", f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert panels
    for panel in panels:
        for target in panel["targets"]:
            used = set(re.findall(r"linesman_[a-z_]+", target["expr"]))
            assert used and used <= known, (panel["title"], used - known)
