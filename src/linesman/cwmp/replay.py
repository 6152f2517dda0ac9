"""Digest replay protection: a nonce's count must grow, seen by every server process.

One statement per authenticated request, on the Inform's hot path: an upsert that stores
the new count only where it is higher than the stored one. It returns a row when it
inserted or raised the count, and none when the count was not higher (a replay). Written
in SQL (SQLite 3.35+ and PostgreSQL share the syntax) because the ORM has no conditional
upsert; it runs through `core.hotsql` like the ACS's other per-session statements.
"""

from __future__ import annotations

import time

from django.db import connection

from linesman.core import hotsql
from linesman.cwmp.models import DigestNonce

_sql: dict[str, str] = {}


def _claim_sql() -> str:
    sql = _sql.get(connection.alias)
    if sql is None:
        quote = connection.ops.quote_name
        table = quote(DigestNonce._meta.db_table)
        nonce, nc, expires = (quote(n) for n in ("nonce", "nc", "expires"))
        sql = (
            f"INSERT INTO {table} ({nonce}, {nc}, {expires}) VALUES (%s, %s, %s) "
            f"ON CONFLICT ({nonce}) DO UPDATE SET {nc} = excluded.{nc} "
            f"WHERE {table}.{nc} < excluded.{nc} RETURNING {nc}"
        )
        _sql[connection.alias] = sql
    return sql


def claim(nonce: str, nc: int, expires: int) -> bool:
    """Record that `nonce` was used with count `nc`; False if it was used with `nc` or a
    higher count before (a replayed or reordered request)."""
    return hotsql.fetchone(_claim_sql(), [nonce, nc, expires]) is not None


def purge(now: float | None = None) -> int:
    """Delete the rows of expired nonces (housekeeping); returns how many."""
    cutoff = int(time.time() if now is None else now)
    deleted, _ = DigestNonce.objects.filter(expires__lt=cutoff).delete()
    return deleted
