"""Prometheus metrics counted from platform events, shared by every server process.

Counters and histograms use prometheus-client's multi-process mode: settings.py points
``PROMETHEUS_MULTIPROC_DIR`` at ``$LINESMAN_HOME/prometheus`` before the library is
imported, each process writes its own files there, and a scrape adds them up. The server
removes the files of processes that are gone when it starts (`fresh_dir`), so figures of
an earlier run do not linger. Figures that are state rather than happenings (devices by
status, bulk job progress, the task queue) are read from the database at scrape time
(`linesman.observability.views`).
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter, Histogram

from linesman.core import events
from linesman.core.events import Event

SESSIONS = Counter("linesman_sessions", "CWMP sessions opened (Informs received)")
SESSION_DURATION = Histogram(
    "linesman_session_duration_seconds",
    "CWMP session duration, Inform to the end, of sessions that ran RPCs",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
INFORM_EVENTS = Counter("linesman_inform_events", "Inform event codes received", ["code"])
RPCS = Counter("linesman_rpcs", "RPCs answered by devices", ["method", "outcome"])
FAULTS = Counter("linesman_faults", "CWMP faults answered by devices", ["method", "code"])
OPERATIONS = Counter("linesman_operations", "Operations finished", ["kind", "state"])
DEVICE_STATUS = Counter("linesman_device_status_changes", "Devices going Up or Down", ["to"])
VALUE_CHANGES = Counter(
    "linesman_value_changes", "Parameter values reported by 4 VALUE CHANGE Informs"
)
BULK_JOBS = Counter("linesman_bulk_jobs_finished", "Bulk jobs finished", ["status"])
CONNECTION_REQUESTS = Counter(
    "linesman_connection_requests", "Connection requests sent", ["method", "outcome"]
)
SESSIONS_SHED = Counter(
    "linesman_sessions_shed",
    "New CWMP sessions refused (503) because the server process was saturated",
)
WEBHOOK_DELIVERIES = Counter(
    "linesman_webhook_deliveries", "Webhook delivery attempts", ["event_type", "outcome"]
)


def multiproc_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def fresh_dir() -> None:
    """Remove the files of processes that are gone (at server start). This process's own
    files stay: its counters were created (and their files opened) at import."""
    directory = multiproc_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def webhook_delivery(event_type: str, outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(event_type, outcome).inc()


def session_shed() -> None:
    SESSIONS_SHED.inc()


def connection_request(method: str, outcome: str) -> None:
    CONNECTION_REQUESTS.labels(method, outcome).inc()


def on_event(event: Event) -> None:
    """Count a platform event (subscribed to the names in `COUNTED`)."""
    data = event.data
    name = event.name
    if name == "session.inform":
        SESSIONS.inc()
        for code, _key in data.get("events") or ():
            INFORM_EVENTS.labels(code).inc()
    elif name == "session.ended" and data.get("duration") is not None:
        SESSION_DURATION.observe(float(data["duration"]))
    elif name == "rpc.answered":
        RPCS.labels(data.get("method") or "", "ok").inc()
    elif name == "rpc.fault":
        RPCS.labels(data.get("method") or "", "fault").inc()
        FAULTS.labels(data.get("method") or "", str(data.get("code") or "")).inc()
    elif name == "operation.finished":
        OPERATIONS.labels(data.get("kind") or "", data.get("state") or "").inc()
    elif name in ("device.up", "device.down"):
        DEVICE_STATUS.labels(name.removeprefix("device.")).inc()
    elif name == "parameter.changed":
        VALUE_CHANGES.inc(len(data.get("values") or ()))
    elif name == "bulk_job.finished":
        BULK_JOBS.labels(data.get("status") or "").inc()
    elif name == "connection_request.sent":
        connection_request(data.get("method") or "http", data.get("outcome") or "")


#: The event names counted (not every event: an unheard name costs its announcer nothing).
COUNTED = (
    "session.inform",
    "session.ended",
    "rpc.answered",
    "rpc.fault",
    "operation.finished",
    "device.up",
    "device.down",
    "parameter.changed",
    "bulk_job.finished",
    "connection_request.sent",
)


def subscribe() -> None:
    events.subscribe(on_event, COUNTED)
