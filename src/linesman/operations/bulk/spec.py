"""Reading a headless operation request: both body shapes, validation, target resolution.

Two shapes describe the same thing, a job over one or many devices:

- the seed's bulk job: `operation_type`, `target_organizations`, `device_filters`
  (`types` by id or short name, `status`, `serial_numbers`, `locations`, `device_ids`,
  `names`), `schedule` (`execute_at`, `priority`) and `options`;
- a scheduled transaction: `serial_number` (or `serial_numbers`, `device_id(s)`,
  `name(s)`), `operation` (`get`, `set`, `add.obj`, `del.obj`, ...), `variables` and
  `execute_at`.

`parse` returns a `JobSpec` with the targets resolved, or raises `BadRequest` (400: not a
JSON object, missing or unknown operation type), `Forbidden` (403: an organization the
caller may not act in) or `Invalid` (422: every other problem, each named under its field).

`device_filters.status` values: `active`/`up`/`1`/`true` select Up devices,
`inactive`/`down`/`0`/`false` Down ones, and `pending` devices with something pending (an
active operation, an unconfirmed setting, or a firmware upgrade); several values select
their union.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from linesman.core import textcheck
from linesman.inventory.models import Device, DeviceStatus, DeviceType, FirmwareImage, Location
from linesman.operations.bulk.models import (
    OPERATION_TYPE_ALIASES,
    BulkOperationType,
    BulkPriority,
)
from linesman.tenancy.models import Organization, Role

DEFAULT_MAX_CONCURRENCY = 50
MAX_CONCURRENCY_LIMIT = 1000
MAX_TIMEOUT_MINUTES = 7 * 24 * 60
#: The shortest per-device time-out (minutes); fractions are allowed for tests and labs.
MIN_TIMEOUT_MINUTES = 0.05
MAX_VARIABLES = 1000

VARIABLE_TYPES = ("get", "set", "add.obj", "del.obj", "get.attr", "set.attr")
#: Operation types that only read what the platform already knows: a viewer may run them.
READ_ONLY_TYPES = ("inventory_audit",)

TOP_LEVEL_KEYS = {
    "operation_type",
    "operation",
    "target_organizations",
    "organization_id",
    "device_filters",
    "schedule",
    "options",
    "variables",
    "firmware_image",
    "execute_at",
    "priority",
    "serial_number",
    "serial_numbers",
    "device_id",
    "device_ids",
    "name",
    "names",
}
FILTER_KEYS = {"types", "status", "serial_numbers", "locations", "device_ids", "names"}
SCHEDULE_KEYS = {"execute_at", "priority"}
OPTION_KEYS = {
    "timeout_minutes",
    "validate_connectivity",
    "update_firmware_info",
    "max_concurrency",
}

STATUS_WORDS = {
    "active": DeviceStatus.UP,
    "up": DeviceStatus.UP,
    "1": DeviceStatus.UP,
    "true": DeviceStatus.UP,
    "online": DeviceStatus.UP,
    "inactive": DeviceStatus.DOWN,
    "down": DeviceStatus.DOWN,
    "0": DeviceStatus.DOWN,
    "false": DeviceStatus.DOWN,
    "offline": DeviceStatus.DOWN,
    "pending": "pending",
}

#: Variable types as clients write them -> the xsd type sent in SetParameterValues.
TYPE_ALIASES = {
    "string": "xsd:string",
    "str": "xsd:string",
    "int": "xsd:int",
    "integer": "xsd:int",
    "long": "xsd:long",
    "unsignedint": "xsd:unsignedInt",
    "uint": "xsd:unsignedInt",
    "unsignedlong": "xsd:unsignedLong",
    "boolean": "xsd:boolean",
    "bool": "xsd:boolean",
    "datetime": "xsd:dateTime",
    "base64": "xsd:base64",
    "hexbinary": "xsd:hexBinary",
}
INTEGER_TYPES = {"xsd:int", "xsd:long", "xsd:unsignedInt", "xsd:unsignedLong"}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


class SpecError(Exception):
    status_code = 422

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class BadRequest(SpecError):
    status_code = 400


class Invalid(SpecError):
    status_code = 422


class Forbidden(SpecError):
    status_code = 403


@dataclass(frozen=True)
class Target:
    device_id: int
    serial_number: str
    name: str
    organization_id: int
    type_short_name: str


@dataclass
class JobSpec:
    operation_type: str
    addressing: str
    organization_ids: list[int]
    filters: dict[str, Any]
    requested_types: list[Any]
    execute_at: datetime
    priority: str
    options: dict[str, Any]
    params: dict[str, Any]
    targets: list[Target] = field(default_factory=list)

    @property
    def max_concurrency(self) -> int:
        return self.options["max_concurrency"]


class _Errors:
    """Collects problems per field so one 422 names all of them."""

    def __init__(self) -> None:
        self.items: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.items.setdefault(key, []).append(message)

    def raise_if_any(self, kind: type[SpecError] = Invalid) -> None:
        if self.items:
            raise kind(self.items)


def unwrap(body: Any) -> dict[str, Any]:
    """The request body as a dict; the seed's `data` parameter may carry it as a string."""
    if isinstance(body, dict) and set(body) == {"data"} and isinstance(body["data"], str):
        try:
            body = json.loads(body["data"])
        except ValueError as exc:
            raise BadRequest({"data": [f"Malformed JSON: {exc}"]}) from None
    if not isinstance(body, dict):
        raise BadRequest({"detail": ["The body must be a JSON object."]})
    return body


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_like(value: Any) -> int | None:
    """An id given as a JSON number or as digits ("²" and 2**70 are not ids)."""
    return textcheck.parse_id(value.strip() if isinstance(value, str) else value)


def operation_type_of(body: dict[str, Any]) -> str:
    given = {
        k: OPERATION_TYPE_ALIASES.get(body[k], body[k]) if isinstance(body[k], str) else body[k]
        for k in ("operation_type", "operation")
        if body.get(k) is not None
    }
    if not given:
        raise BadRequest({"operation_type": ["This field is required."]})
    values = set(map(str, given.values()))
    if len(values) > 1:
        raise BadRequest({"operation_type": ["operation and operation_type disagree."]})
    value = next(iter(given.values()))
    if not isinstance(value, str) or value not in BulkOperationType.values:
        raise BadRequest(
            {
                "operation_type": [
                    f"Unknown operation type {value!r}; use one of: "
                    + ", ".join(BulkOperationType.values)
                    + "."
                ]
            }
        )
    return value


def _execute_at(raw: Any, errors: _Errors) -> datetime:
    if raw in (None, ""):
        return timezone.now()
    if not isinstance(raw, str):
        errors.add("schedule.execute_at", "An ISO 8601 date-time string is required.")
        return timezone.now()
    try:
        parsed = parse_datetime(raw.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        errors.add("schedule.execute_at", f"{raw!r} is not an ISO 8601 date-time.")
        return timezone.now()
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _priority(raw: Any, errors: _Errors) -> str:
    if raw in (None, ""):
        return BulkPriority.NORMAL
    if raw not in BulkPriority.values:
        errors.add("schedule.priority", f"Use one of: {', '.join(BulkPriority.values)}.")
        return BulkPriority.NORMAL
    return raw


def _options(raw: Any, errors: _Errors) -> dict[str, Any]:
    options: dict[str, Any] = {
        "timeout_minutes": None,
        "validate_connectivity": False,
        "update_firmware_info": True,
        "max_concurrency": DEFAULT_MAX_CONCURRENCY,
    }
    if raw is None:
        return options
    if not isinstance(raw, dict):
        errors.add("options", "An object is required.")
        return options
    for key in sorted(set(raw) - OPTION_KEYS):
        errors.add(f"options.{key}", f"Unknown option; known: {', '.join(sorted(OPTION_KEYS))}.")
    timeout = raw.get("timeout_minutes")
    if timeout is not None:
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not MIN_TIMEOUT_MINUTES <= timeout <= MAX_TIMEOUT_MINUTES
        ):
            errors.add(
                "options.timeout_minutes",
                f"A number of minutes from {MIN_TIMEOUT_MINUTES} to {MAX_TIMEOUT_MINUTES}.",
            )
        else:
            options["timeout_minutes"] = timeout
    for key in ("validate_connectivity", "update_firmware_info"):
        if key in raw and raw[key] is not None:
            if not isinstance(raw[key], bool):
                errors.add(f"options.{key}", "true or false.")
            else:
                options[key] = raw[key]
    concurrency = raw.get("max_concurrency")
    if concurrency is not None:
        if not _is_int(concurrency) or not 1 <= concurrency <= MAX_CONCURRENCY_LIMIT:
            errors.add(
                "options.max_concurrency", f"A whole number from 1 to {MAX_CONCURRENCY_LIMIT}."
            )
        else:
            options["max_concurrency"] = concurrency
    return options


def _variable(index: int, raw: Any, op_type: str, errors: _Errors) -> dict[str, str] | None:
    where = f"variables[{index}]"
    if not isinstance(raw, dict):
        errors.add(where, "An object with variable_name is required.")
        return None
    name = raw.get("variable_name")
    if not isinstance(name, str) or not name.strip() or len(name) > 300:
        errors.add(f"{where}.variable_name", "A parameter path (at most 300 characters).")
        return None
    name = name.strip()
    if op_type in ("add.obj", "del.obj") and not name.endswith("."):
        errors.add(f"{where}.variable_name", "An object path ending with '.' is required.")
        return None
    if op_type == "set.attr":
        return _attribute(where, name, raw, errors)
    if op_type == "get":
        return {"variable_name": name}
    if op_type != "set":
        return {"variable_name": name}
    if "value" not in raw or raw["value"] is None or isinstance(raw["value"], dict | list):
        errors.add(f"{where}.value", "A value (string, number or boolean) is required.")
        return None
    value = raw["value"]
    value = ("true" if value else "false") if isinstance(value, bool) else str(value)
    raw_type = raw.get("type")
    xsd = "xsd:string"
    if raw_type not in (None, ""):
        key = str(raw_type).strip()
        xsd = TYPE_ALIASES.get(key.lower().removeprefix("xsd:")) or ""
        if not xsd:
            errors.add(
                f"{where}.type",
                f"Unknown type {raw_type!r}; use one of: {', '.join(sorted(TYPE_ALIASES))}.",
            )
            return None
    if xsd in INTEGER_TYPES:
        # ASCII only: int() also reads "٣" and "1_000", which no device would.
        if _INTEGER_TEXT.fullmatch(value.strip()) is None:
            errors.add(f"{where}.value", f"{value!r} is not a whole number.")
            return None
        number = int(value)
        if xsd.startswith("xsd:unsigned") and number < 0:
            errors.add(f"{where}.value", f"{value!r} must not be negative.")
            return None
    if xsd == "xsd:boolean" and value.lower() not in ("true", "false", "0", "1"):
        errors.add(f"{where}.value", f"{value!r} is not a boolean.")
        return None
    return {"variable_name": name, "value": value, "type": xsd}


def _attribute(where: str, name: str, raw: dict[str, Any], errors: _Errors) -> dict | None:
    """A `set.attr` variable: notification (off, passive, active) and an optional access
    list (omitted: the device keeps its own)."""
    from linesman.operations.attributes import parse_notification

    if name.endswith("."):
        errors.add(f"{where}.variable_name", "A parameter path, not an object, is required.")
        return None
    notification = parse_notification(raw.get("notification"))
    if notification is None:
        errors.add(f"{where}.notification", "off, passive or active is required.")
        return None
    access_list = raw.get("access_list")
    if access_list is not None and (
        not isinstance(access_list, list)
        or len(access_list) > 16
        or not all(isinstance(a, str) and 0 < len(a) <= 64 for a in access_list)
    ):
        errors.add(f"{where}.access_list", 'A list of names, e.g. ["Subscriber"], is required.')
        return None
    return {"variable_name": name, "notification": notification, "access_list": access_list}


def _variables(body: dict[str, Any], op_type: str, errors: _Errors) -> list[dict[str, str]]:
    raw = body.get("variables")
    if op_type not in VARIABLE_TYPES:
        if raw not in (None, []):
            errors.add("variables", f"Only {', '.join(VARIABLE_TYPES)} take variables.")
        return []
    if not isinstance(raw, list) or not raw:
        errors.add("variables", "A non-empty list of {variable_name, value, type} is required.")
        return []
    if len(raw) > MAX_VARIABLES:
        errors.add("variables", f"At most {MAX_VARIABLES} variables per job.")
        return []
    parsed = [_variable(i, item, op_type, errors) for i, item in enumerate(raw)]
    return [v for v in parsed if v is not None]


def _filters(body: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    raw = body.get("device_filters")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        errors.add("device_filters", "An object is required.")
        raw = {}
    for key in sorted(set(raw) - FILTER_KEYS):
        errors.add(
            f"device_filters.{key}", f"Unknown filter; known: {', '.join(sorted(FILTER_KEYS))}."
        )
    filters = {key: _as_list(raw.get(key)) for key in FILTER_KEYS if raw.get(key) is not None}
    # The transaction shape names its devices at the top level; both add up.
    for single, plural in (
        ("serial_number", "serial_numbers"),
        ("device_id", "device_ids"),
        ("name", "names"),
    ):
        extra = _as_list(body.get(single)) + _as_list(body.get(plural))
        if extra:
            filters[plural] = filters.get(plural, []) + extra
    for key in ("serial_numbers", "names"):
        for value in filters.get(key, []):
            if not isinstance(value, str) or not value.strip():
                errors.add(f"device_filters.{key}", f"{value!r} is not a non-empty string.")
    for value in filters.get("device_ids", []):
        if _int_like(value) is None:
            errors.add("device_filters.device_ids", f"{value!r} is not a device id.")
    for value in filters.get("types", []):
        if not isinstance(value, str | int) or isinstance(value, bool):
            errors.add("device_filters.types", f"{value!r} is not a type id or short name.")
    for value in filters.get("locations", []):
        if not isinstance(value, str | int) or isinstance(value, bool):
            errors.add("device_filters.locations", f"{value!r} is not a location id or name.")
    for value in filters.get("status", []):
        if str(value).strip().lower() not in STATUS_WORDS:
            errors.add(
                "device_filters.status",
                f"{value!r} is not a status; use active, inactive, pending, up, down, 1 or 0.",
            )
    return filters


def _organizations(body: dict[str, Any], errors: _Errors) -> list[int] | None:
    raw = body.get("target_organizations")
    if raw is None and body.get("organization_id") is not None:
        raw = [body["organization_id"]]
    if raw is None:
        return None
    raw = _as_list(raw)
    ids = []
    for value in raw:
        number = _int_like(value)
        if number is None:
            errors.add("target_organizations", f"{value!r} is not an organization id.")
        else:
            ids.append(number)
    if not raw:
        errors.add("target_organizations", "Name at least one organization, or leave it out.")
    return sorted(set(ids))


def _resolve_types(values: list[Any], access, errors: _Errors) -> list[int]:
    visible = access.restrict(DeviceType.objects.all(), allow_shared=True)
    ids = []
    for value in values:
        number = _int_like(value)
        found = (
            visible.filter(pk=number).first()
            if number is not None
            else (
                visible.filter(short_name=value).first()
                or visible.filter(short_name__iexact=value).first()
            )
        )
        if found is None:
            errors.add("device_filters.types", f"Unknown device type {value!r}.")
        else:
            ids.append(found.pk)
    return ids


def _resolve_locations(values: list[Any], access, errors: _Errors) -> list[int]:
    visible = access.restrict(Location.objects.all())
    ids = []
    for value in values:
        number = _int_like(value)
        matches = list(
            visible.filter(pk=number)
            if number is not None
            else visible.filter(Q(short_name=value) | Q(name=value))
        )
        if not matches:
            errors.add("device_filters.locations", f"Unknown location {value!r}.")
        ids.extend(m.pk for m in matches)
    return ids


def pending_condition() -> Q:
    """Devices with something pending: an active operation, a setting, a firmware upgrade."""
    from linesman.inventory.models import Setting
    from linesman.operations.models import ACTIVE_STATES, Operation

    active_op = Operation.objects.filter(device=OuterRef("pk"), state__in=ACTIVE_STATES)
    pending_setting = Setting.objects.filter(device=OuterRef("pk"), pending=True)
    return Q(Exists(active_op)) | Q(Exists(pending_setting)) | Q(firmware_image_is_pending=True)


def _status_condition(values: list[Any]) -> Q | None:
    if not values:
        return None
    condition = Q()
    for value in values:
        meaning = STATUS_WORDS[str(value).strip().lower()]
        condition |= pending_condition() if meaning == "pending" else Q(status=meaning)
    return condition


def _explicit(filters: dict[str, Any], visible, errors: _Errors) -> Q | None:
    """Devices named one by one (serials, ids, names); each must exist and be visible."""
    condition = Q()
    named = False
    serials = [s.strip() for s in filters.get("serial_numbers", []) if isinstance(s, str)]
    if serials:
        named = True
        found = set(
            visible.filter(serial_number__in=serials).values_list("serial_number", flat=True)
        )
        missing = [s for s in serials if s not in found]
        if missing:
            errors.add("serial_numbers", "Unknown serial numbers: " + ", ".join(missing[:50]))
        condition |= Q(serial_number__in=serials)
    ids = [n for n in (_int_like(v) for v in filters.get("device_ids", [])) if n is not None]
    if ids:
        named = True
        found_ids = set(visible.filter(pk__in=ids).values_list("pk", flat=True))
        missing_ids = [str(n) for n in ids if n not in found_ids]
        if missing_ids:
            errors.add("device_ids", "Unknown device ids: " + ", ".join(missing_ids[:50]))
        condition |= Q(pk__in=ids)
    names = [n.strip() for n in filters.get("names", []) if isinstance(n, str)]
    if names:
        named = True
        found_names = set(visible.filter(name__in=names).values_list("name", flat=True))
        missing_names = [n for n in names if n not in found_names]
        if missing_names:
            errors.add("names", "Unknown device names: " + ", ".join(missing_names[:50]))
        condition |= Q(name__in=names)
    return condition if named else None


def _firmware(body: dict[str, Any], op_type: str, access, errors: _Errors) -> FirmwareImage | None:
    raw = body.get("firmware_image")
    if op_type != BulkOperationType.FIRMWARE_UPGRADE:
        if raw is not None:
            errors.add("firmware_image", "Only firmware_upgrade takes a firmware image.")
        return None
    number = _int_like(raw)
    if number is None:
        errors.add("firmware_image", "The id of a firmware image is required.")
        return None
    image = (
        access.restrict(FirmwareImage.objects.select_related("device_type"), allow_shared=True)
        .filter(pk=number)
        .first()
    )
    if image is None:
        errors.add("firmware_image", f"Unknown firmware image {raw!r}.")
    return image


def _needed_role(op_type: str) -> str:
    return Role.VIEWER if op_type in READ_ONLY_TYPES else Role.OPERATOR


def parse(body: Any, *, access, addressing: str = "serial") -> JobSpec:
    """Validate a request body and resolve its targets (see the module docstring)."""
    body = unwrap(body)
    # Every string may reach a device (variables) or the database: what XML 1.0 cannot
    # carry is refused here too, for the dashboard, the CLI and a body sent as `data` text.
    bad_text = _Errors()
    for where, message in textcheck.problems_in(body):
        bad_text.add(where, f"The value {message}")
    bad_text.raise_if_any(BadRequest)
    op_type = operation_type_of(body)
    errors = _Errors()
    for key in sorted(set(body) - TOP_LEVEL_KEYS):
        errors.add(key, "Unknown field.")
    schedule = body.get("schedule")
    if schedule is not None and not isinstance(schedule, dict):
        errors.add("schedule", "An object is required.")
        schedule = {}
    schedule = dict(schedule or {})
    for key in sorted(set(schedule) - SCHEDULE_KEYS):
        errors.add(f"schedule.{key}", "Unknown field; known: execute_at, priority.")
    for key in SCHEDULE_KEYS:
        if body.get(key) is not None:
            schedule.setdefault(key, body[key])
    execute_at = _execute_at(schedule.get("execute_at"), errors)
    priority = _priority(schedule.get("priority"), errors)
    options = _options(body.get("options"), errors)
    variables = _variables(body, op_type, errors)
    filters = _filters(body, errors)
    org_ids = _organizations(body, errors)
    errors.raise_if_any()

    role = _needed_role(op_type)
    if org_ids is not None:
        refused = [o for o in org_ids if not access.has_role(o, role)]
        if refused:
            raise Forbidden(
                {
                    "target_organizations": [
                        f"You need the {role} role in organization {o}." for o in refused
                    ]
                }
            )
        known = set(Organization.objects.filter(pk__in=org_ids).values_list("pk", flat=True))
        for missing in [o for o in org_ids if o not in known]:
            errors.add("target_organizations", f"Unknown organization {missing}.")
    image = _firmware(body, op_type, access, errors)
    type_ids = _resolve_types(filters.get("types", []), access, errors)
    location_ids = _resolve_locations(filters.get("locations", []), access, errors)

    visible = access.restrict(Device.objects.all())
    if org_ids is not None:
        visible = visible.filter(organization_id__in=org_ids)
    explicit = _explicit(filters, visible, errors)
    errors.raise_if_any()

    devices = visible
    if explicit is not None:
        devices = devices.filter(explicit)
    if filters.get("types"):
        devices = devices.filter(type_id__in=type_ids)
    if filters.get("locations"):
        devices = devices.filter(location_id__in=location_ids)
    status = _status_condition(filters.get("status", []))
    if status is not None:
        devices = devices.filter(status)
    if org_ids is None and explicit is None and not access.is_superuser:
        # No organization named: every organization where the caller may run this.
        allowed = [o for o in access.org_ids if access.has_role(o, role)]
        if not allowed:
            raise Forbidden({"target_organizations": [f"You hold the {role} role nowhere."]})
        devices = devices.filter(organization_id__in=allowed)
    rows = list(
        devices.order_by("id").values_list(
            "pk", "serial_number", "name", "organization_id", "type__short_name", "type_id"
        )
    )
    if org_ids is None:
        org_ids = sorted({row[3] for row in rows})
        refused = [o for o in org_ids if not access.has_role(o, role)]
        if refused:
            raise Forbidden(
                {"devices": [f"You need the {role} role in organization {o}." for o in refused]}
            )
    if not rows:
        errors.add("device_filters", "No device matches the targets and filters.")
    if image is not None:
        others = sum(1 for row in rows if row[5] != image.device_type_id)
        if others:
            errors.add(
                "firmware_image",
                f"The image is for type {image.device_type.short_name}; {others} of the "
                "targeted devices are of other types (filter by type).",
            )
    if explicit is not None and filters.get("names"):
        names = [n.strip() for n in filters["names"] if isinstance(n, str)]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row[2]] = counts.get(row[2], 0) + 1
        for name in sorted({n for n in names if counts.get(n, 0) > 1}):
            errors.add(
                "names", f"{name!r} names devices in several organizations; name the organization."
            )
    errors.raise_if_any()

    params: dict[str, Any] = {}
    if variables:
        params["variables"] = variables
    if image is not None:
        params["firmware_image"] = image.pk
        params["firmware_version"] = image.version
    return JobSpec(
        operation_type=op_type,
        addressing=addressing,
        organization_ids=org_ids,
        filters=filters,
        requested_types=filters.get("types", []),
        execute_at=execute_at,
        priority=priority,
        options=options,
        params=params,
        targets=[Target(row[0], row[1], row[2], row[3], row[4]) for row in rows],
    )
