"""The device page's Diagnostics panel: run a ping, trace route or speed test, and see the
results as a table and, for pings and speed tests over time, small server-drawn charts.

The panel's form posts to `device_diagnose`; its results are a fragment the page polls
(fast while a diagnostic runs), so the page needs no script of its own (strict CSP).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from linesman.dashboard import access as visible
from linesman.dashboard.views import POLL_ACTIVE, login_required
from linesman.diagnostics import services
from linesman.inventory.models import Device
from linesman.operations import services as operations
from linesman.operations.models import ACTIVE_STATES

#: What the panel offers: kind -> (label, the parameter its target fills).
PANEL_KINDS = {
    "ipping": ("Ping", "host"),
    "traceroute": ("Trace route", "host"),
    "download": ("Speed test (download)", "download_url"),
    "upload": ("Speed test (upload)", "upload_url"),
}
CHART_WIDTH, CHART_HEIGHT, CHART_POINTS = 240, 60, 20


def _summary(op) -> str:
    results = services.results(op) or {}
    kind = op.params.get("diagnostic")
    if not results:
        return op.error or ""
    if kind in ("ipping", "udpecho"):
        if not results.get("reachable"):
            return f"unreachable, {results.get('sent')} sent, 100% loss"
        return (
            f"rtt {results['rtt_min_ms']}/{results['rtt_avg_ms']}/{results['rtt_max_ms']} ms, "
            f"{results['loss_percent']:g}% loss"
        )
    if kind == "traceroute":
        hops = results.get("hops", [])
        path = " → ".join(h["address"] or "*" for h in hops[:6])
        return f"{len(hops)} hops: {path}" + (" …" if len(hops) > 6 else "")
    if kind in ("download", "upload"):
        rate = results.get("throughput_kbps")
        return f"{results.get('bytes')} bytes" + (f", {rate:g} kbit/s" if rate else "")
    if kind == "nslookup":
        return ", ".join(" ".join(a["addresses"]) or a["status"] for a in results["answers"])
    if kind == "wifi_neighbor":
        return f"{len(results.get('neighbours', []))} neighbours"
    return ""


def _target(op) -> str:
    inputs = op.params.get("inputs", {})
    for key in ("host", "host_name", "download_url", "upload_url"):
        if inputs.get(key):
            return inputs[key]
    return "—"


def _chart(values: list[tuple[str, float]], unit: str) -> dict[str, Any] | None:
    """A polyline over the values (oldest first), scaled into the chart's box."""
    if len(values) < 2:
        return None
    top = max(v for _, v in values) or 1.0
    step = CHART_WIDTH / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{CHART_HEIGHT - 4 - (v / top) * (CHART_HEIGHT - 8):.1f}"
        for i, (_, v) in enumerate(values)
    )
    return {
        "points": points,
        "max": f"{top:g} {unit}",
        "last": f"{values[-1][1]:g} {unit}",
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "count": len(values),
    }


def diagnostics_context(request: HttpRequest, device: Device) -> dict[str, Any]:
    recent = list(services.diagnostics().filter(device=device)[:15])
    finished = services.diagnostics().filter(device=device, state="completed")
    pings, speeds = [], []
    for op in reversed(list(finished.filter(params__diagnostic="ipping")[:CHART_POINTS])):
        results = services.results(op) or {}
        if results.get("rtt_avg_ms") is not None:
            pings.append((op.operation_id, float(results["rtt_avg_ms"])))
    for op in reversed(list(finished.filter(params__diagnostic="download")[:CHART_POINTS])):
        rate = (services.results(op) or {}).get("throughput_kbps")
        if rate is not None:
            speeds.append((op.operation_id, float(rate)))
    running = any(op.state in ACTIVE_STATES for op in recent)
    return {
        "device": device,
        "rows": [(op, _target(op), _summary(op)) for op in recent],
        "ping_chart": _chart(pings, "ms"),
        "speed_chart": _chart(speeds, "kbit/s"),
        "diagnostics_poll": POLL_ACTIVE if running else 0,
    }


@login_required
def device_diagnostics(request: HttpRequest, pk: int) -> HttpResponse:
    """Live fragment: the device's diagnostics and their results."""
    device = visible.visible_device(request, pk)
    return render(
        request, "dashboard/fragments/diagnostics.html", diagnostics_context(request, device)
    )


@login_required
@require_POST
def device_diagnose(request: HttpRequest, pk: int) -> HttpResponse:
    device = visible.visible_device(request, pk)
    visible.require_operator(request, device)
    back = reverse("dashboard:device", args=[device.pk]) + "#diagnostics"
    kind = request.POST.get("diagnostic", "")
    if kind not in PANEL_KINDS:
        messages.error(request, f"Not started: unknown diagnostic {kind!r}.")
        return redirect(back)
    label, slot = PANEL_KINDS[kind]
    target = request.POST.get("target", "").strip()
    parameters = {slot: target} if target else {}
    try:
        op = services.start(device=device, name=kind, parameters=parameters, user=request.user)
    except operations.OperationError as exc:
        messages.error(request, f"Not started: {exc}")
        return redirect(back)
    messages.success(request, f"{label} queued as {op.operation_id}.")
    return redirect(back)
