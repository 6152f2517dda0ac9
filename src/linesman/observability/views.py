"""`GET /metrics`: the Prometheus exposition of the platform's figures.

Access: from an address in ``LINESMAN_METRICS_ALLOWED_NETWORKS`` (default loopback only),
or from anywhere with ``Authorization: Bearer <LINESMAN_METRICS_TOKEN>`` when that token
is set. The address is the TCP peer (REMOTE_ADDR): behind a reverse proxy, every request
comes from the proxy, so there use the token, or block /metrics at the proxy.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from huey.contrib.djhuey import HUEY
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from linesman.inventory.models import Device
from linesman.observability import metrics
from linesman.operations.models import BulkJob
from linesman.tenancy.models import Organization

RECENT_BULK_JOBS = 20


class StateCollector:
    """Figures read from the database and the queue at scrape time."""

    def collect(self):
        devices = GaugeMetricFamily(
            "linesman_devices",
            "Devices by organization and status",
            labels=["organization", "status"],
        )
        names = dict(Organization.objects.values_list("id", "name"))
        rows = Device.objects.values("organization_id", "status").annotate(n=Count("id"))
        for row in rows.order_by("organization_id", "status"):
            org = names.get(row["organization_id"], str(row["organization_id"]))
            devices.add_metric([org, row["status"]], row["n"])
        yield devices

        jobs = GaugeMetricFamily(
            "linesman_bulk_job_devices",
            f"Devices of the {RECENT_BULK_JOBS} most recent bulk jobs, by state",
            labels=["job", "operation", "status", "state"],
        )
        fields = ("total", "running", "succeeded", "failed", "skipped")
        recent = BulkJob.objects.order_by("-id").values(
            "id", "operation_type", "status", *(f"{f}_devices" for f in fields)
        )[:RECENT_BULK_JOBS]
        for job in recent:
            for field in fields:
                labels = [str(job["id"]), job["operation_type"], job["status"], field]
                jobs.add_metric(labels, job[f"{field}_devices"])
        yield jobs

        queue = GaugeMetricFamily(
            "linesman_task_queue_depth", "Tasks waiting in the task queue", labels=["kind"]
        )
        queue.add_metric(["pending"], HUEY.pending_count())
        queue.add_metric(["scheduled"], HUEY.scheduled_count())
        yield queue


def allowed(request: HttpRequest) -> bool:
    token = settings.LINESMAN_METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    networks = settings.LINESMAN_METRICS_ALLOWED_NETWORKS
    return any(address.version == n.version and address in n for n in networks)


def exposition() -> bytes:
    state = CollectorRegistry()
    state.register(StateCollector())
    if metrics.multiproc_dir() is None:  # a single process: its own counters
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY) + generate_latest(state)
    MultiProcessCollector(state)
    return generate_latest(state)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return JsonResponse(
            {"detail": "Metrics are only served to allowed networks or with the metrics token."},
            status=403,
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
