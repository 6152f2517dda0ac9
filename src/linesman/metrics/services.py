"""Metrics: defining them, recording points from Informs and collections, retention.

On the ACS's hot path (`on_inform`, run after every Inform is applied):
- which parameters are metrics is cached per process and (device type, organization), so
  an Inform of a device whose type has no metrics, or whose Inform carries none and needs
  no collection, costs no statement at all;
- the values an Inform carries are stored in one INSERT ... SELECT that also computes a
  counter's rate from the series' previous point (`_insert_sql`): one statement per Inform
  that carries metric values, whatever their number;
- a collection is due when the device's last session and this one fall in different
  collection intervals (aligned per device, so a fleet spreads out) — decided from the
  device row already loaded, so deciding costs nothing. A due collection queues one
  GetParameterValues for the metrics the Inform did not carry; the device gets it in
  this same session, after its empty POST (no connection request).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from linesman.core import hotsql
from linesman.inventory.models import Device, Parameter
from linesman.metrics.models import Metric, MetricKind, MetricLog, Origin, TypeCollection

log = logging.getLogger(__name__)

HANDLER = "metrics"
ROOTS = ("Device.", "InternetGatewayDevice.")


# --- definitions ---------------------------------------------------------------------------


def full_path(path: str, root: str) -> str:
    """A metric's path on a device whose data model root is `root`."""
    return path if path.startswith(ROOTS) else (root or "Device.") + path


def _catalogue_entry(metric: Metric) -> Parameter:
    """The parameter catalogue's entry for the metric's path, flagged as a metric."""
    parameter, created = Parameter.objects.get_or_create(
        variable_name=metric.parameter_path,
        defaults={
            "name": metric.name,
            "short_name": metric.parameter_path.rstrip(".").rsplit(".", 1)[-1][:100],
            "group": metric.group,
            "metric": True,
        },
    )
    if not created and not parameter.metric:
        Parameter.objects.filter(pk=parameter.pk).update(metric=True)
        parameter.metric = True
    return parameter


@transaction.atomic
def save_metric(*, user, instance: Metric, data: dict[str, Any]) -> Metric:
    """Create or update a metric definition (audited), linking its catalogue parameter."""
    from linesman.inventory import services as inventory

    data = dict(data)
    data.pop("parameter", None)
    instance = inventory.save_reference(user=user, instance=instance, data=data)
    link_catalogue(instance)
    return instance


def link_catalogue(instance: Metric) -> None:
    """Point the metric at its path's catalogue entry (created, flagged `metric`)."""
    parameter = _catalogue_entry(instance)
    if instance.parameter_id != parameter.pk:
        Metric.objects.filter(pk=instance.pk).update(parameter=parameter)
        instance.parameter = parameter
    forget()


@transaction.atomic
def delete_metric(*, user, instance: Metric) -> None:
    """Delete a definition and its series (the series means nothing without it)."""
    from linesman.inventory import services as inventory

    MetricLog.objects.filter(metric_id=instance.pk).delete()
    inventory.delete_reference(user=user, instance=instance)
    forget()


# --- the per-type plan (cached) ----------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    metrics: tuple[tuple[int, str, str], ...]  # (metric id, kind, path)
    interval: int  # seconds between collections; 0 none


TTL = 10.0
_lock = threading.Lock()
_plans: dict[tuple[int, int], tuple[float, Plan]] = {}


def plan_for(type_id: int, org_id: int) -> Plan:
    """The metrics of devices of this type and organization, and their collection interval;
    cached for a few seconds per process (definitions change rarely, Informs are many)."""
    key = (type_id, org_id)
    now = time.monotonic()
    hit = _plans.get(key)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    rows = Metric.objects.filter(
        Q(device_type_id=type_id) | Q(device_type__isnull=True),
        Q(organization_id=org_id) | Q(organization__isnull=True),
    ).values_list("id", "kind", "parameter_path")
    metrics = tuple(rows.order_by("id"))
    interval = settings.LINESMAN_METRIC_COLLECTION_INTERVAL
    if metrics:
        own = TypeCollection.objects.filter(device_type_id=type_id).values_list(
            "interval", flat=True
        )
        interval = next(iter(own), interval)
    plan = Plan(metrics, interval)
    with _lock:
        _plans[key] = (now, plan)
    return plan


def forget() -> None:
    """Drop the cached plans (this process), e.g. after a definition changed."""
    with _lock:
        _plans.clear()


def _on_change(sender, **kwargs) -> None:
    forget()


def connect() -> None:
    """Subscribe to the ACS (Informs, answers) and to definition changes."""
    from django.db.models.signals import post_delete, post_save

    from linesman.cwmp import handlers

    handlers.subscribe_inform(on_inform)
    handlers.handle_answers(HANDLER, on_collection_answer)
    # An operation's reads (sync, refresh) carry metric values too.
    handlers.handle_answers("read", on_operation_read)
    for model in (Metric, TypeCollection):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"metrics-plan-{model.__name__}")
        post_delete.connect(
            _on_change, sender=model, dispatch_uid=f"metrics-plan-del-{model.__name__}"
        )


# --- recording -----------------------------------------------------------------------------


def number(text: Any) -> float | None:
    """A reported value as a number: xsd int/unsignedInt/long/double/boolean; else None."""
    if isinstance(text, bool):
        return float(text)
    if isinstance(text, int | float):
        return float(text)
    if not isinstance(text, str):
        return None
    text = text.strip()
    if text in ("true", "false"):
        return 1.0 if text == "true" else 0.0
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _seconds_since(column: str) -> str:
    """SQL for the seconds from `column` to the bound time."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM (CAST(%s AS timestamptz) - {column}))"
    return f"((julianday(%s) - julianday({column})) * 86400.0)"


_sql_cache: dict[tuple[str, tuple[str, ...]], str] = {}


def _insert_sql(kinds: tuple[str, ...]) -> str:
    """One INSERT for a device's points at one time, one SELECT per point joined by UNION
    ALL. A counter's value is its rate since the series' previous point (found through the
    (device, time) index); a reading lower than the previous one is a reset (the device
    rebooted, or the counter wrapped): no rate, never a negative one."""
    key = (connection.vendor, kinds)
    sql = _sql_cache.get(key)
    if sql is not None:
        return sql
    quote = connection.ops.quote_name
    table = quote(MetricLog._meta.db_table)
    selects = []
    for kind in kinds:
        if kind == MetricKind.COUNTER:
            value = (
                "(SELECT CASE WHEN %s < p.raw THEN NULL ELSE (%s - p.raw) / "
                f"NULLIF({_seconds_since('p.time')}, 0) END FROM "
                f"(SELECT raw, time FROM {table} WHERE device_id = %s AND metric_id = %s "
                "AND time < %s ORDER BY time DESC, id DESC LIMIT 1) p)"
            )
        else:
            value = "%s"
        selects.append(f"SELECT %s, %s, %s, %s, {value}, %s")
    sql = (
        f"INSERT INTO {table} (time, device_id, metric_id, raw, value, origin) "
        + " UNION ALL ".join(selects)
    )
    _sql_cache[key] = sql
    return sql


def record(device_id: int, points: list[tuple[int, str, float]], at: datetime, origin: int) -> int:
    """Store (metric id, kind, raw) points of one device at one time: one statement."""
    if not points:
        return 0
    field = MetricLog._meta.get_field("time")
    stamp = field.get_db_prep_save(at, connection)
    params: list[Any] = []
    for metric_id, kind, raw in points:
        params += [stamp, device_id, metric_id, raw]
        if kind == MetricKind.COUNTER:
            params += [raw, raw, stamp, device_id, metric_id, stamp]
        else:
            params.append(raw)
        params.append(origin)
    # Prepared on PostgreSQL (core.hotsql): planning the counters' subqueries costs about
    # as much as running them, and a type's Informs repeat the same statement.
    hotsql.execute(_insert_sql(tuple(kind for _, kind, _ in points)), params)
    return len(points)


def collection_due(device_pk: int, previous: datetime | None, now: datetime, interval: int) -> bool:
    """Whether a collection interval boundary passed since the device's last session.
    Boundaries are offset per device so that a fleet's collections spread out."""
    if interval <= 0:
        return False
    if previous is None:
        return True
    offset = device_pk % interval
    return int(now.timestamp() + offset) // interval != int(previous.timestamp() + offset) // (
        interval
    )


def on_inform(device: Device, params: dict[str, str], root: str, now: datetime) -> None:
    """Record the metric values an Inform carries and queue a due collection.

    Costs nothing for a device without metrics (cached plan), one INSERT when the Inform
    carries metric values, two more (is one still waiting? queue it) when a collection
    falls due, once per interval.
    """
    plan = plan_for(device.type_id, device.organization_id)
    if not plan.metrics:
        return
    root = root or device.data_model_root or "Device."
    points, missing = [], []
    for metric_id, kind, path in plan.metrics:
        name = full_path(path, root)
        raw = number(params.get(name)) if name in params else None
        if raw is not None:
            points.append((metric_id, kind, raw))
        elif name not in params:
            missing.append(name)
    record(device.pk, points, now, Origin.INFORM)
    # `device` is as it was before this Inform: last_connection is the previous session's.
    if missing and collection_due(device.pk, device.last_connection, now, plan.interval):
        from linesman.cwmp import queue
        from linesman.cwmp.models import DeviceTask, TaskState

        waiting = DeviceTask.objects.filter(
            device_id=device.pk, handler=HANDLER, state__in=[TaskState.QUEUED, TaskState.SENT]
        )
        if not waiting.exists():  # a device that never fetched the last one gets no pile
            names = list(dict.fromkeys(missing))
            queue.enqueue(device.pk, "GetParameterValues", {"names": names}, handler=HANDLER)


def record_values(device: Device, values: dict[str, Any], at: datetime, origin: int) -> int:
    """Record the metric values among `values` (path -> value) read from a device."""
    plan = plan_for(device.type_id, device.organization_id)
    root = device.data_model_root or "Device."
    points = []
    for metric_id, kind, path in plan.metrics:
        raw = number(values.get(full_path(path, root)))
        if raw is not None:
            points.append((metric_id, kind, raw))
    return record(device.pk, points, at, origin)


_DEVICE = hotsql.Lookup(lambda pk: Device.objects.filter(pk=pk)[:1], int)


def on_collection_answer(task: Any, response: dict[str, Any]) -> None:
    """The device answered a collection's GetParameterValues."""
    device = _DEVICE.first(task.device_id)
    if device is None:
        return
    values = {p["name"]: p.get("value") for p in response.get("parameters", []) if "name" in p}
    record_values(device, values, timezone.now(), Origin.COLLECTION)


def on_operation_read(task: Any, response: dict[str, Any]) -> None:
    """An operation read parameter values: the metrics among them join the series."""
    values = {p["name"]: p.get("value") for p in response.get("parameters", []) if "name" in p}
    if not values:
        return
    device = _DEVICE.first(task.device_id)
    if device is not None:
        record_values(device, values, timezone.now(), Origin.OPERATION)


# --- retention -------------------------------------------------------------------------------


def purge(now: datetime | None = None) -> int:
    """Enforce LINESMAN_METRIC_RETENTION_DAYS; returns the points deleted row by row.

    On PostgreSQL the log is partitioned by day (migration 0003, `partitions`): expired
    days are dropped whole, tomorrow's partitions are created ahead, and only the DEFAULT
    partition (rows no day partition covered) is deleted from by range. A dropped day is
    whole: retention is rounded up to the day. Elsewhere one range delete on time, which
    the time index serves; housekeeping runs it every sweep, so in the steady state each
    call deletes one sweep interval's worth of the oldest points, never a day at once.
    """
    from linesman.metrics import partitions

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.LINESMAN_METRIC_RETENTION_DAYS)
    if not partitions.enabled():
        deleted, _ = MetricLog.objects.filter(time__lt=cutoff).delete()
        return deleted
    partitions.ensure(now)
    dropped = partitions.drop_expired(cutoff)
    if dropped:
        log.info("dropped %d expired metric log partitions", dropped)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {partitions.DEFAULT} WHERE time < %s", [cutoff])
        return cursor.rowcount
