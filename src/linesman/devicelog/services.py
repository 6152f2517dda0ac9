"""Writing the device log in batches, and its retention.

A periodic Inform adds one row. Inserting it with its own statement and commit would add
a write to every session (the path that must carry 1,000 sessions/s), so each process
collects rows and inserts them every `LINESMAN_LAST_SEEN_BATCH` seconds in multi-row
statements, as cwmp/lastseen.py does for last-seen stamps. The trade is the same: a row
appears up to that long after its event, and rows of a process killed before its next
flush are lost. With the interval at 0 (the tests) rows are written at once.

Retention: rows older than the device type's connection profile's `log_retention_days`
(else `LINESMAN_DEVICE_LOG_RETENTION_DAYS`) are deleted by housekeeping in bounded chunks.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)

from linesman.connprofiles.models import LogLevel
from linesman.core import hotsql

log = logging.getLogger(__name__)

#: Rows per INSERT statement.
CHUNK = 500
#: Rows deleted per statement, and at most per sweep (the rest wait for the next sweep).
DELETE_CHUNK = 5000
DELETE_PER_SWEEP = 200_000
#: Seconds between retention passes of one process.
RETENTION_EVERY = 600.0


class Row(NamedTuple):
    device_id: int
    time: datetime
    action: str
    status: str
    code: int | None
    message: str
    operation: Any  # a public operation id (str), an Operation pk (int) or ""
    data: dict[str, Any]


def write(rows: list[Row]) -> int:
    """Insert the rows now; rows of devices deleted meanwhile are dropped. Returns rows
    written."""
    from linesman.devicelog.models import DeviceLogEntry
    from linesman.inventory.models import Device
    from linesman.operations.models import Operation

    if not rows:
        return 0
    # One query answers both: which devices still exist, and which types log nothing.
    existing = {
        pk
        for pk, level in Device.objects.filter(pk__in={r.device_id for r in rows}).values_list(
            "pk", "type__connection_profile__log_level"
        )
        if level != LogLevel.OFF
    }
    # As the ORM adapts it (text on SQLite, jsonb on PostgreSQL).
    data_field = DeviceLogEntry._meta.get_field("data")
    pks = {r.operation for r in rows if isinstance(r.operation, int)}
    public = dict(Operation.objects.filter(pk__in=pks).values_list("pk", "operation_id"))
    params = [
        (
            r.device_id,
            adapt_time(r.time),
            r.action,
            r.status,
            r.code,
            r.message,
            public.get(r.operation, "") if isinstance(r.operation, int) else r.operation or "",
            data_field.get_db_prep_save(r.data, connection),
        )
        for r in rows
        if r.device_id in existing
    ]
    try:
        _insert(params)
    except IntegrityError:
        # A device was deleted between the check and the insert: write the others.
        alive = set(
            Device.objects.filter(pk__in={p[0] for p in params}).values_list("pk", flat=True)
        )
        params = [p for p in params if p[0] in alive]
        _insert(params)
    return len(params)


#: The columns of a row, in the order `write` gives their values.
_FIELDS = ("device", "time", "action", "status", "code", "message", "operation_id", "data")


def _insert(params: list[tuple]) -> None:
    """Plain SQL, not the ORM: bulk_create spent ~170 us a row compiling the statement
    (measured on SQLite, 10,000 rows), several times the database's own work; on
    PostgreSQL one COPY (`hotsql.insert_rows`), where a multi-row INSERT quoting every value
    in Python cost 4 % of the ACS's CPU in a bulk job."""
    from linesman.devicelog.models import DeviceLogEntry

    with transaction.atomic():
        hotsql.insert_rows(DeviceLogEntry, _FIELDS, params)


def adapt_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


class Buffer:
    """The rows waiting in this process, and the thread that writes them."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._rows: list[Row] = []
        self._lock = threading.Lock()
        self._owner_pid = 0  # server workers are forked: each process starts its own thread

    def add(self, row: Row) -> None:
        with self._lock:
            self._rows.append(row)
            if self._owner_pid != os.getpid():
                self._owner_pid = os.getpid()
                threading.Thread(target=self._run, name="devicelog", daemon=True).start()
                atexit.register(self.flush)

    def pending(self) -> int:
        return len(self._rows)

    def flush(self) -> int:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            return write(rows)
        except DatabaseError:
            log.warning("could not write %d device log rows; retrying", len(rows), exc_info=True)
            with self._lock:
                self._rows[:0] = rows
                del self._rows[: max(0, len(self._rows) - 100_000)]  # bounded memory
            return 0

    def _run(self) -> None:
        while True:
            threading.Event().wait(self.interval)
            close_old_connections()
            self.flush()


_buffer: Buffer | None = None
_buffer_lock = threading.Lock()


def record(row: Row) -> None:
    """Add a row to the log (written at once if batching is off)."""
    global _buffer
    interval = settings.LINESMAN_LAST_SEEN_BATCH
    if interval <= 0:
        write([row])
        return
    if _buffer is None:
        with _buffer_lock:
            if _buffer is None:
                _buffer = Buffer(interval)
    _buffer.add(row)


def flush() -> int:
    """Write this process's waiting rows now (tests, shutdown)."""
    return _buffer.flush() if _buffer is not None else 0


# --- retention -------------------------------------------------------------------------


def _delete_chunked(queryset, budget: int) -> int:
    deleted = 0
    while deleted < budget:
        pks = list(queryset.values_list("pk", flat=True)[: min(DELETE_CHUNK, budget - deleted)])
        if not pks:
            break
        deleted += queryset.model.objects.filter(pk__in=pks).delete()[0]
    return deleted


def purge(now: datetime) -> int:
    """Delete the rows past their retention; returns how many were deleted."""
    from linesman.devicelog.models import DeviceLogEntry

    default_days = settings.LINESMAN_DEVICE_LOG_RETENTION_DAYS
    overrides = _profile_retention()
    budget = DELETE_PER_SWEEP
    deleted = 0
    for type_ids, days in overrides:
        old = DeviceLogEntry.objects.filter(
            time__lt=now - timedelta(days=days), device__type_id__in=type_ids
        )
        deleted += _delete_chunked(old, budget - deleted)
    old = DeviceLogEntry.objects.filter(time__lt=now - timedelta(days=default_days))
    overridden = [pk for type_ids, _ in overrides for pk in type_ids]
    if overridden:
        old = old.exclude(device__type_id__in=overridden)
    deleted += _delete_chunked(old, budget - deleted)
    return deleted


def _profile_retention() -> list[tuple[list[int], int]]:
    """[(device type ids, days)] for the types whose connection profile sets a retention."""
    from linesman.inventory.models import DeviceType

    by_days: dict[int, list[int]] = {}
    for pk, days in DeviceType.objects.filter(
        connection_profile__log_retention_days__isnull=False
    ).values_list("pk", "connection_profile__log_retention_days"):
        by_days.setdefault(days, []).append(pk)
    return [(pks, days) for days, pks in by_days.items()]


_last_purge = 0.0
_backlog = False


def purge_if_due(now: datetime) -> int:
    """`purge` at most every RETENTION_EVERY seconds in this process (housekeeping calls
    this every sweep), or at every sweep while a pass left rows behind: at 100,000 devices
    informing every 5 minutes about 330 rows a second fall out of retention, more than
    one bounded pass every 10 minutes would delete."""
    global _last_purge, _backlog
    stamp = now.timestamp()
    if not _backlog and stamp - _last_purge < RETENTION_EVERY:
        return 0
    _last_purge = stamp
    deleted = purge(now)
    _backlog = deleted >= DELETE_PER_SWEEP
    return deleted
