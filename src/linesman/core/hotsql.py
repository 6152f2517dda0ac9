"""Database access on the hot paths: the ACS's per-session statements, and cheaper ORM
lookups for the session, engine and bulk paths.

A periodic inform runs three tiny statements; building them through the ORM (queryset,
lookups, compiler) costs several times what the database needs to run them. These helpers
write the same statements from the models' table and column names, once per shape, run
them prepared on PostgreSQL, and adapt values the way the ORM does (`get_db_prep_save`), so
they work on SQLite and PostgreSQL alike. `first()` and `recycle_connections()` trim the
ORM's and Django's per-request overheads. `Lookup` runs an ORM queryset's SQL compiled
once per thread, for the few lookups every CWMP request makes. Anything off these paths
should use the ORM as it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.utils import timezone

M = TypeVar("M", bound=Model)

_update_sql: dict[tuple[str, type[Model], tuple[str, ...], tuple[str, ...]], str] = {}


@contextmanager
def _cursor(conn: Any = None) -> Iterator[Any]:
    """A cursor whose statements PostgreSQL plans once per connection (prepared); a plain
    Django cursor elsewhere. Planning the Inform's device lookup costs PostgreSQL several
    times what running it does.

    On PostgreSQL one cursor serves every statement of its connection: making a psycopg
    cursor (and copying its adapters) cost more than running most of these statements.
    Sharing it is safe because every use here runs its statement and fetches its rows
    inside the `with` block, and a connection belongs to one thread.

    `conn` is the default database's wrapper when the caller has it: each attribute read
    through `django.db.connection` looks the wrapper up in a thread-local again (those
    lookups were 2.7 % of the ACS's CPU on the bulk path, most of them from here).
    """
    if conn is None:
        conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "postgresql":
        with conn.cursor() as cursor:
            yield cursor
        return
    conn.ensure_connection()
    conn.validate_no_broken_transaction()
    raw = conn.connection
    cursor = getattr(conn, "_hotsql_cursor", None)
    if cursor is None or cursor.closed or cursor.connection is not raw:
        import psycopg

        cursor = conn._hotsql_cursor = psycopg.Cursor(raw)
    # Django's own errors bookkeeping (errors_occurred, exception types) still applies.
    with conn.wrap_database_errors:
        yield cursor


def _execute(cursor: Any, sql: str, params: list[Any]) -> None:
    if isinstance(cursor, CursorWrapper):  # Django's cursor: not PostgreSQL
        cursor.execute(sql, params)
    else:
        cursor.execute(sql, params, prepare=True)


def _key_of(value: Any) -> Any:
    """A related instance is stored as its primary key (as `save()` does for a ForeignKey)."""
    return value.pk if isinstance(value, Model) else value


def update_fields(
    model: type[Model], pk: Any, values: dict[str, Any], where: dict[str, Any] | None = None
) -> int:
    """UPDATE one row's fields (by attribute name; a ForeignKey by its name takes an
    instance or None) without signals; returns rows changed. The model's `auto_now` fields
    are set to now, as `save()` sets them, unless `values` names them. `where` adds
    conditions (a compare-and-set: e.g. only if its state is still the old one): equality,
    or membership for a tuple of values (none: no row matches)."""
    if not values:
        return 0
    stamps = _auto_now_fields(model)
    if stamps:
        now = timezone.now()
        values = {**{name: now for name in stamps}, **values}
    return update_where(model, values, {model._meta.pk.name: pk, **(where or {})})


def update_where(model: type[Model], values: dict[str, Any], where: dict[str, Any]) -> int:
    """UPDATE the rows matching every condition of `where` (equality, or membership for a
    tuple of values: an empty one matches nothing) as `QuerySet.update()` would (no signals,
    no `auto_now` stamps); returns rows changed."""
    if not where:
        raise ValueError("update_where needs at least one condition")
    if any(isinstance(v, tuple) and not v for v in where.values()):
        return 0
    conn = connections[DEFAULT_DB_ALIAS]
    names = tuple(values)
    # A condition's shape: its field, and how many values it takes (0: one, by equality).
    conditions = tuple((n, len(v) if isinstance(v, tuple) else 0) for n, v in where.items())
    key = (conn.alias, model, names, conditions)
    sql = _update_sql.get(key)
    meta = model._meta
    if sql is None:
        quote = conn.ops.quote_name
        columns = ", ".join(f"{quote(meta.get_field(n).column)} = %s" for n in names)
        tests = " AND ".join(
            f"{quote(meta.get_field(n).column)} "
            + (f"IN ({', '.join(['%s'] * size)})" if size else "= %s")
            for n, size in conditions
        )
        sql = _update_sql[key] = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {tests}"
    params = [meta.get_field(n).get_db_prep_save(_key_of(values[n]), conn) for n in names]
    tested = [
        meta.get_field(n).get_db_prep_value(_key_of(value), conn)
        for n, size in conditions
        for value in (where[n] if size else (where[n],))
    ]
    with _cursor(conn) as cursor:
        _execute(cursor, sql, [*params, *tested])
        return cursor.rowcount


_auto_now: dict[type[Model], tuple[str, ...]] = {}


def _auto_now_fields(model: type[Model]) -> tuple[str, ...]:
    names = _auto_now.get(model)
    if names is None:
        names = _auto_now[model] = tuple(
            f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)
        )
    return names


_insert_sql: dict[tuple[str, type[Model], bool], tuple[str, list[Any]]] = {}


def insert(obj: Model, *, skip_on_conflict: bool = False) -> bool:
    """INSERT a new instance as `save()` would (defaults, `auto_now(_add)`, its new primary
    key set on it), without signals: one statement written once per model.

    With `skip_on_conflict`, a row that would break a unique constraint is not written
    (`ON CONFLICT DO NOTHING`: no IntegrityError, so the caller's transaction stays usable)
    and False is returned."""
    conn = connections[DEFAULT_DB_ALIAS]
    model, meta = type(obj), obj._meta
    key = (conn.alias, model, skip_on_conflict)
    cached = _insert_sql.get(key)
    if cached is None:
        quote = conn.ops.quote_name
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        columns = ", ".join(quote(f.column) for f in fields)
        holders = ", ".join(["%s"] * len(fields))
        skip = " ON CONFLICT DO NOTHING" if skip_on_conflict else ""
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({holders}){skip} "
            f"RETURNING {quote(meta.pk.column)}"
        )
        cached = _insert_sql[key] = (sql, fields)
    sql, fields = cached
    params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    with _cursor(conn) as cursor:
        _execute(cursor, sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = conn.alias
    return True


def insert_rows(model: type[Model], names: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT many rows of `model`, each a tuple of values for the fields `names` already
    adapted for the database (`get_db_prep_save`); no signals, no defaults filled in.

    On PostgreSQL the rows are streamed with one COPY, formatted by psycopg's C code (a
    multi-row INSERT through Django's client-side binding has every value quoted into the
    statement's text in Python); elsewhere one INSERT run by `executemany`."""
    if not rows:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    quote = conn.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(meta.get_field(n).column) for n in names)
    table = quote(meta.db_table)
    with _cursor(conn) as cursor:
        if isinstance(cursor, CursorWrapper):
            holders = ", ".join(["%s"] * len(names))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({holders})", rows)
            return
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


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


#: Stand-ins for a Lookup's arguments while its queryset is compiled: values no real row
#: holds (inside the 32-bit range, as Django drops lookups outside an integer column's
#: range at compile time), found again in the compiled parameters by value and type.
_INT_SENTINEL = 1_987_654_300
_STR_SENTINEL = "\x1ehotsql-argument-"


@dataclass
class _Compiled:
    wrapper: Any  # the thread's connection the SQL and converters were made for
    sql: str
    params: list[Any]
    slots: list[tuple[type, list[int]]]  # per argument: its type and positions in params
    compiler: Any
    converters: dict
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]


class Lookup(Generic[M]):
    """A SELECT of model instances (with their `select_related` rows) whose SQL the ORM
    compiles once per thread, then runs with each call's arguments.

    `build` makes the queryset from the arguments (ints and strings only, each used as a
    lookup value); it is called once with stand-in values to learn where each argument
    lands among the compiled parameters. Rows become instances exactly as the ORM's own
    iterator makes them (`from_db`, converters, related populators), so callers get the
    same objects `list(build(*args))` would give.

    Compiling a queryset costs the ORM several times what SQLite or PostgreSQL needs to
    run these lookups; they run on every CWMP request.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *arg_types: type) -> None:
        for kind in arg_types:
            if kind not in (int, str):
                raise TypeError(f"Lookup arguments are ints or strings, not {kind.__name__}")
        self._build = build
        self._arg_types = arg_types
        self._local = threading.local()

    def _sentinels(self) -> list[Any]:
        return [
            _INT_SENTINEL + i if kind is int else f"{_STR_SENTINEL}{i}"
            for i, kind in enumerate(self._arg_types)
        ]

    def _compile(self, wrapper: Any) -> _Compiled:
        sentinels = self._sentinels()
        queryset = self._build(*sentinels)
        compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = []
        for kind, sentinel in zip(self._arg_types, sentinels, strict=True):
            positions = [i for i, p in enumerate(params) if type(p) is kind and p == sentinel]
            if not positions:
                raise ValueError(f"{sentinel!r} is not a parameter of {sql}")
            slots.append((kind, positions))
        select, klass_info = compiler.select, compiler.klass_info
        fields = [column[0] for column in select[0 : compiler.col_count]]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            wrapper=wrapper,
            sql=sql,
            params=params,
            slots=slots,
            compiler=compiler,
            converters=compiler.get_converters(fields),
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, DEFAULT_DB_ALIAS),
        )

    def all(self, *args: Any) -> list[M]:
        """The matching instances, in the queryset's order."""
        wrapper = connections[DEFAULT_DB_ALIAS]
        compiled: _Compiled | None = getattr(self._local, "compiled", None)
        if compiled is None or compiled.wrapper is not wrapper:
            compiled = self._local.compiled = self._compile(wrapper)
        params = list(compiled.params)
        for (kind, positions), value in zip(compiled.slots, args, strict=True):
            for position in positions:
                params[position] = kind(value)
        with _cursor(wrapper) as cursor:
            _execute(cursor, compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found = []
        for row in rows:
            obj = compiled.model.from_db(
                DEFAULT_DB_ALIAS, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def first(self, *args: Any) -> M | None:
        """The first matching instance, or None (the queryset should be sliced to one)."""
        found = self.all(*args)
        return found[0] if found else None
