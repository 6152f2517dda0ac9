"""Digest replay protection: a nonce's count must grow, seen by every server process.

One check per authenticated request, on the Inform's hot path. With Redis configured (the
production set-up: every node shares it), a short script keeps each nonce's highest
count under a key that expires with the nonce. Without it, the database: an upsert that
stores the new count only where it is higher than the stored one, returning a row when it
inserted or raised the count and none when the count was not higher (a replay); written
in SQL (SQLite 3.35+ and PostgreSQL share the syntax) because the ORM has no conditional
upsert, and run through `core.hotsql` like the ACS's other per-session statements.

Redis rather than the database where it can: the upsert ran in a transaction of its own,
a commit (and on PostgreSQL a WAL flush) for every session, and the database is what a
busy ACS runs short of first.
"""

from __future__ import annotations

import time

from django.core.cache import caches
from django.db import connection

from linesman.core import hotsql
from linesman.core.rediscache import SharedClientRedisCache
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


#: KEYS[1] the nonce's key; ARGV: the count, the nonce's expiry (Unix seconds).
_CLAIM_SCRIPT = """
local seen = redis.call('GET', KEYS[1])
if seen and tonumber(seen) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
return 1
"""


def claim(nonce: str, nc: int, expires: int) -> bool:
    """Record that `nonce` was used with count `nc`; False if it was used with `nc` or a
    higher count before (a replayed or reordered request)."""
    backend = caches["default"]
    if isinstance(backend, SharedClientRedisCache):
        key = backend.make_key(f"digest-nonce:{nonce}")
        return backend.script(_CLAIM_SCRIPT)(keys=[key], args=[nc, expires]) == 1
    return hotsql.fetchone(_claim_sql(), [nonce, nc, expires]) is not None


def purge(now: float | None = None) -> int:
    """Delete the rows of expired nonces (housekeeping); returns how many. (Redis's keys
    expire by themselves.)"""
    cutoff = int(time.time() if now is None else now)
    deleted, _ = DigestNonce.objects.filter(expires__lt=cutoff).delete()
    return deleted
