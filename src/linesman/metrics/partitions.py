"""Day partitions of the metric log on PostgreSQL (see migration 0003); a no-op elsewhere.

`ensure(now)` makes sure the partitions of yesterday, today and the next AHEAD days exist
(each new one takes over the rows the DEFAULT partition held for its day); `drop_expired`
drops the partitions wholly older than the retention cutoff. Both run in housekeeping;
`ensure` remembers per process which days it has seen, so a sweep costs no statement
unless a day turned.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from django.db import DatabaseError, connection, transaction

TABLE = "metrics_metriclog"
DEFAULT = "metrics_metriclog_default"
AHEAD = 2
_NAME = re.compile(r"^metrics_metriclog_p(\d{8})$")
_COLUMNS = "id, time, raw, value, origin, device_id, metric_id"
_ensured: set[date] = set()


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def existing() -> dict[date, str]:
    """The day partitions that exist: day -> table name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            found[datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return found


def create(day: date) -> None:
    """Create one day's partition, moving in what the DEFAULT partition holds for it."""
    name, (start, end) = _name(day), _bounds(day)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE time >= %s AND time < %s "
            f"RETURNING {_COLUMNS}) INSERT INTO {name} ({_COLUMNS}) "
            f"SELECT {_COLUMNS} FROM moved",
            [start, end],
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )


def ensure(now: datetime) -> int:
    """Create the missing partitions from yesterday to AHEAD days on; returns how many."""
    if not enabled():
        return 0
    today = now.astimezone(UTC).date()
    wanted = [today + timedelta(days=n) for n in range(-1, AHEAD + 1)]
    if all(day in _ensured for day in wanted):
        return 0
    have = existing()
    created = 0
    for day in wanted:
        if day not in have:
            try:
                create(day)
                created += 1
            except DatabaseError:
                if day not in existing():  # not another node's sweep creating it too
                    raise
        _ensured.add(day)
    return created


def drop_expired(cutoff: datetime) -> int:
    """Drop the day partitions that end at or before `cutoff`; returns how many."""
    if not enabled():
        return 0
    dropped = 0
    for day, name in sorted(existing().items()):
        if _bounds(day)[1] <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            _ensured.discard(day)
            dropped += 1
    return dropped


def forget() -> None:
    """Forget which days this process has seen (tests that recreate the database)."""
    _ensured.clear()
