"""`last_connection` stamps of plain periodic informs, written in batches.

Most sessions change nothing about a device but when it was last seen. Writing that stamp
as its own committed UPDATE is the most expensive statement of such a session (on
PostgreSQL, over half of the database's work for it), so each server process collects
the stamps and writes them every `LINESMAN_LAST_SEEN_BATCH` seconds in one statement.

What this trades: a stamp reaches the database up to that long after the Inform, and the
stamps of a process that is killed before its next flush are lost (the device's next
Inform writes a new one). Anything else an Inform changes (status, versions, address) is
still written at once by `inform.apply`. A device that the status sweep marked Down in the
meantime is marked Up again by the flush, as its Inform would have.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from linesman.inventory.models import Device, DeviceStatus

log = logging.getLogger(__name__)

#: Rows per statement (SQLite binds two parameters per row).
CHUNK = 2000

_PG_SQL = (
    "UPDATE inventory_device AS d SET last_connection = v.t "
    "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, t) "
    "WHERE d.id = v.id AND (d.last_connection IS NULL OR d.last_connection < v.t) "
    "RETURNING d.id, d.status"
)


def _sqlite_sql(rows: int) -> str:
    values = ", ".join(["(%s, %s)"] * rows)
    return (
        "UPDATE inventory_device SET last_connection = v.column2 "
        f"FROM (VALUES {values}) AS v WHERE inventory_device.id = v.column1 "
        "AND (inventory_device.last_connection IS NULL "
        "OR inventory_device.last_connection < v.column2) "
        "RETURNING inventory_device.id, inventory_device.status"
    )


def write(stamps: dict[int, datetime]) -> int:
    """Write the stamps (device id -> time) now; returns how many rows changed. Devices
    found Down are marked Up, as the Inform behind the stamp would have done."""
    ids = sorted(stamps)  # one lock order for every writer: no deadlocks between batches
    found_down: list[int] = []
    changed = 0
    field = Device._meta.get_field("last_connection")
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            if connection.vendor == "postgresql":
                cursor.execute(_PG_SQL, [chunk, [stamps[i] for i in chunk]])
            else:
                params: list = []
                for pk in chunk:
                    params += [pk, field.get_db_prep_save(stamps[pk], connection)]
                cursor.execute(_sqlite_sql(len(chunk)), params)
            rows = cursor.fetchall()
            changed += len(rows)
            found_down += [pk for pk, status in rows if status != DeviceStatus.UP]
    if found_down:
        from linesman.inventory.services import set_status

        for device in Device.objects.filter(pk__in=found_down):
            set_status(device, True, now=stamps[device.pk])
    return changed


class Buffer:
    """The stamps waiting in this process, and the thread that writes them."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stamps: dict[int, datetime] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._owner_pid = 0  # the process whose thread flushes (server workers are forked)

    def add(self, device_id: int, when: datetime) -> None:
        with self._lock:
            self._stamps[device_id] = when
            if self._owner_pid != os.getpid():
                self._owner_pid = os.getpid()
                threading.Thread(target=self._run, name="lastseen", daemon=True).start()
                atexit.register(self.flush)

    def pending(self) -> int:
        return len(self._stamps)

    def flush(self) -> int:
        with self._lock:
            stamps, self._stamps = self._stamps, {}
        if not stamps:
            return 0
        try:
            return write(stamps)
        except DatabaseError:
            log.warning("could not write %d last-seen stamps; retrying", len(stamps), exc_info=True)
            with self._lock:
                for pk, when in stamps.items():
                    if self._stamps.get(pk, when) <= when:
                        self._stamps[pk] = when
            return 0

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            close_old_connections()
            self.flush()


_buffer: Buffer | None = None
_buffer_lock = threading.Lock()


def stamp(device_id: int, when: datetime) -> None:
    """Record that the device was seen at `when` (written at once if batching is off)."""
    global _buffer
    interval = settings.LINESMAN_LAST_SEEN_BATCH
    if interval <= 0:
        write({device_id: when})
        return
    if _buffer is None:
        with _buffer_lock:
            if _buffer is None:
                _buffer = Buffer(interval)
    _buffer.add(device_id, when)
