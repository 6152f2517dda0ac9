"""The last known parameter values of each device (one JSON document per device), and the
parameter catalogue (`inventory.Parameter`) that fills itself from what devices report.

The catalogue learns a parameter's path and writability from GetParameterNames answers
and its type from the values read later; each entry lists the device types that reported
it. One catalogue entry serves every type: a parameter writable on one type and not on
another is recorded as writable (`read_only` means "no device reported it writable").
Entries an administrator edited keep their name, group and flags; only new paths are
added and `read_only`/`data_type` refined.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from linesman.core import hotsql
from linesman.cwmp.models import DeviceParameters
from linesman.inventory.models import Device, Parameter

_ROW_FOR_UPDATE = hotsql.Lookup(
    lambda device_id: DeviceParameters.objects.select_for_update().filter(device_id=device_id)[:1],
    int,
)
_create_sql: dict[str, str] = {}


def _row_for_update(device_id: int) -> DeviceParameters:
    """The device's row, locked (created empty first if it has none: its first read).

    `INSERT ... ON CONFLICT DO NOTHING` rather than `get_or_create`: no savepoint, and a
    concurrent creator is not an error (SQLite 3.24+ and PostgreSQL share the syntax)."""
    row = _ROW_FOR_UPDATE.first(device_id)
    if row is not None:
        return row
    meta = DeviceParameters._meta
    empty = {"device": device_id, "values": {}, "object_writable": {}, "updated": timezone.now()}
    sql = _create_sql.get(connection.alias)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(n).column) for n in empty)
        holders = ", ".join(["%s"] * len(empty))
        sql = _create_sql[connection.alias] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({holders}) "
            f"ON CONFLICT ({quote(meta.pk.column)}) DO NOTHING"
        )
    hotsql.execute(
        sql, [meta.get_field(n).get_db_prep_save(v, connection) for n, v in empty.items()]
    )
    return _ROW_FOR_UPDATE.first(device_id)


# Inside a caller's transaction (a device's answer), no savepoint of their own: nobody
# recovers from their failure half-way, and a savepoint is two statements more per answer.
@transaction.atomic(savepoint=False)
def merge_values(device_id: int, parameters: list[dict[str, Any]]) -> None:
    """Store reported values: {name, value, type} each; writability is kept if known.

    On the path of every read a device answers (a first contact's tree read is several),
    hence a compiled lookup and a plain UPDATE of the two changed columns."""
    if not parameters:
        return
    row = _row_for_update(device_id)
    values = row.values
    for p in parameters:
        old = values.get(p["name"])
        writable = old[2] if old else None
        values[p["name"]] = [p.get("value", ""), p.get("type", "xsd:string"), writable]
    hotsql.update_fields(DeviceParameters, device_id, {"values": values})  # stamps `updated`
    _catalogue_types({p["name"]: p.get("type") or "xsd:string" for p in parameters})


@transaction.atomic(savepoint=False)
def merge_names(device_id: int, infos: list[dict[str, Any]]) -> None:
    """Store writability learned from GetParameterNames (of parameters and of objects);
    values come with the next read."""
    if not infos:
        return
    row = _row_for_update(device_id)
    values = row.values
    for info in infos:
        if info["name"].endswith("."):
            row.object_writable[info["name"]] = bool(info.get("writable"))
            continue
        old = values.get(info["name"], ["", "xsd:string", None])
        values[info["name"]] = [old[0], old[1], bool(info.get("writable"))]
    hotsql.update_fields(
        DeviceParameters, device_id, {"values": values, "object_writable": row.object_writable}
    )
    catalogue_names(device_id, infos)


@transaction.atomic
def forget_object(device_id: int, object_name: str) -> None:
    """A deleted object instance: drop what is stored under it (a refresh only adds)."""
    row = DeviceParameters.objects.select_for_update().filter(device_id=device_id).first()
    if row is None or not object_name.endswith("."):
        return
    row.values = {k: v for k, v in row.values.items() if not k.startswith(object_name)}
    row.object_writable = {
        k: v for k, v in row.object_writable.items() if not k.startswith(object_name)
    }
    row.save()


def clear_values(device_id: int) -> None:
    DeviceParameters.objects.filter(device_id=device_id).update(values={}, object_writable={})


def get_values(device_id: int) -> dict[str, list[Any]]:
    row = DeviceParameters.objects.filter(device_id=device_id).first()
    return row.values if row else {}


# --- the parameter catalogue --------------------------------------------------------------

#: Paths per IN (...) lookup: below SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


def _short_name(path: str) -> str:
    """`Device.WiFi.SSID.1.SSID` -> `SSID` (the last segment that is not an instance)."""
    for part in reversed(path.split(".")):
        if part and not part.isdecimal():
            return part[:100]
    return path[:100]


_TYPE_OF_DEVICE = f"SELECT type_id FROM {Device._meta.db_table} WHERE id = %s"


def catalogue_names(device_id: int, infos: list[dict[str, Any]]) -> int:
    """Add the leaves of a GetParameterNames answer to the catalogue for the device's type;
    returns how many entries were new."""
    writable = {i["name"]: bool(i.get("writable")) for i in infos if not i["name"].endswith(".")}
    writable = {name: w for name, w in writable.items() if len(name) <= 300}
    row = hotsql.fetchone(_TYPE_OF_DEVICE, [device_id])
    type_id = row[0] if row else None
    # Every device of a type reports the same names: after the first, none is looked up.
    writable = {n: w for n, w in writable.items() if (type_id, n, w) not in _catalogued}
    if not writable or type_id is None:
        return 0
    names = sorted(writable)
    created = 0
    link = Parameter.device_types.through
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        known = dict(
            Parameter.objects.filter(variable_name__in=chunk).values_list("variable_name", "pk")
        )
        fresh = [
            Parameter(
                variable_name=name,
                name=_short_name(name),
                short_name=_short_name(name),
                read_only=not writable[name],
            )
            for name in chunk
            if name not in known
        ]
        if fresh:
            Parameter.objects.bulk_create(fresh, ignore_conflicts=True)
            created += len(fresh)
        became_writable = [n for n in chunk if n in known and writable[n]]
        if became_writable:
            Parameter.objects.filter(variable_name__in=became_writable, read_only=True).update(
                read_only=False
            )
        pks = Parameter.objects.filter(variable_name__in=chunk).values_list("pk", flat=True)
        link.objects.bulk_create(
            [link(parameter_id=pk, devicetype_id=type_id) for pk in pks], ignore_conflicts=True
        )
        _catalogued.update((type_id, n, writable[n]) for n in chunk)
    return created


#: What this process already recorded in the catalogue: entries with a refined type, and
#: (type id, name, writable) linked. Every device of a type reports the same paths, so
#: after the first device only new paths cost a query. An entry an administrator deletes in
#: another process is re-created when a process that has not seen it meets it again.
_typed: set[str] = set()
_catalogued: set[tuple[int, str, bool]] = set()


def forget_catalogued(**_: Any) -> None:
    """A catalogue entry was edited or deleted in this process: look names up again."""
    _typed.clear()
    _catalogued.clear()


def connect() -> None:
    """Forget on every save and delete of a catalogue entry (AppConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    post_save.connect(forget_catalogued, sender=Parameter, dispatch_uid="catalogue-typed-save")
    post_delete.connect(forget_catalogued, sender=Parameter, dispatch_uid="catalogue-typed-delete")


def _catalogue_types(types: dict[str, str]) -> None:
    """Record the xsd types read for catalogue entries still at the default type."""
    names = [n for n, t in types.items() if t and t != "xsd:string" and n not in _typed]
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        for name, data_type in Parameter.objects.filter(variable_name__in=chunk).values_list(
            "variable_name", "data_type"
        ):
            if data_type == "xsd:string":
                Parameter.objects.filter(variable_name=name).update(data_type=types[name][:32])
            _typed.add(name)  # catalogued and typed: not looked up again
