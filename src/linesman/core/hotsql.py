"""Database access on the hot paths: the ACS's per-session statements, and cheaper ORM
lookups for the session, engine and bulk paths.

A periodic inform runs three tiny statements; building them through the ORM (queryset,
lookups, compiler) costs several times what the database needs to run them. These helpers
write the same statements from the models' table and column names, once per shape, run
them prepared on PostgreSQL, and adapt values the way the ORM does (`get_db_prep_save`), so
they work on SQLite and PostgreSQL alike. `first()` and `recycle_connections()` trim the
ORM's and Django's per-request overheads. Anything off these paths should use the ORM as
it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

_update_sql: dict[tuple[str, type[Model], tuple[str, ...]], str] = {}


@contextmanager
def _cursor() -> Iterator[Any]:
    """A cursor whose statements PostgreSQL plans once per connection (prepared); a plain
    Django cursor elsewhere. Planning the Inform's device lookup costs PostgreSQL several
    times what running it does."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    # Django's own errors bookkeeping (errors_occurred, exception types) still applies.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _execute(cursor: Any, sql: str, params: list[Any]) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(sql, params, prepare=True)
    else:
        cursor.execute(sql, params)


def update_fields(model: type[Model], pk: Any, values: dict[str, Any]) -> int:
    """UPDATE one row's fields (by attribute name) without signals; returns rows changed."""
    if not values:
        return 0
    names = tuple(values)
    key = (connection.alias, model, names)
    sql = _update_sql.get(key)
    meta = model._meta
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(f"{quote(meta.get_field(n).column)} = %s" for n in names)
        sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"
        _update_sql[key] = sql
    params = [meta.get_field(n).get_db_prep_save(values[n], connection) for n in names]
    with _cursor() as cursor:
        _execute(cursor, sql, [*params, pk])
        return cursor.rowcount


def execute(sql: str, params: list[Any]) -> int:
    """Run a write statement (prepared on PostgreSQL); returns the rows it changed."""
    with _cursor() as cursor:
        _execute(cursor, sql, params)
        return cursor.rowcount


def fetchone(sql: str, params: list[Any]) -> tuple | None:
    """The first row of a SELECT, or None."""
    with _cursor() as cursor:
        _execute(cursor, sql, params)
        return cursor.fetchone()


def exists(sql: str, params: list[Any]) -> bool:
    """Whether a SELECT returns a row."""
    return fetchone(sql, params) is not None


def recycle_connections() -> None:
    """Django's per-request connection care (close broken or expired connections), minus
    the health check's extra `SELECT 1` round trip per request.

    The ACS answers thousands of small requests a second, so that round trip is a large
    share of each one. A connection that broke while idle (the database restarted) fails
    the one request that finds it, which the device retries at its next session; Django
    marks it and this closes it before the next request.
    """
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()
        if conn.connection is not None and not conn.errors_occurred:
            conn.health_check_done = True


def first(queryset: QuerySet[M]) -> M | None:
    """The row of a lookup that matches at most one (by primary or unique key), without the
    ORDER BY that `QuerySet.first()` adds: compiling that ordering costs the ORM about as
    much as the rest of the query, on paths that run several such lookups per request."""
    return next(iter(queryset.order_by()[:1]), None)
