"""Diagnostics as operations: validate a request, start it, read its results.

A diagnostic is an operation of kind `diagnostic` (one per device at a time, in the history,
can time out, fail or be cancelled like the others). This module turns a request
({"operation": "ipping", "parameters": {"host": ...}}) into the engine's parameters for the
device's data model, and the values the device reported into results people read. Nothing
here is stored as desired configuration: no Setting rows, the inputs live on the operation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db.models import QuerySet

from linesman.diagnostics.kinds import KINDS, UINT, Kind
from linesman.inventory.models import Device
from linesman.operations import services as operations
from linesman.operations.models import FINAL_STATES, Operation, OperationKind

#: Bytes of the ACS's own speed-test file when a download test names no URL.
DEFAULT_DOWNLOAD_BYTES = 1_000_000
#: Bytes a device sends in an upload test that names no length.
DEFAULT_UPLOAD_BYTES = 1_000_000


class DiagnosticInputError(operations.OperationError):
    """Bad input: {field: [message]} for a 400."""

    status_code = 400

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class NotSupported(operations.NotApplicable):
    """The device's data model has no such diagnostic (422)."""


def speedtest_url(size: int | None = None) -> str:
    """The ACS's file server: GET .../speedtest/N sends N bytes, PUT/POST counts them."""
    base = settings.LINESMAN_PUBLIC_URL.rstrip("/")
    return f"{base}/diagnostics/speedtest/{size}" if size else f"{base}/diagnostics/speedtest/"


def kind_of(name: Any) -> Kind:
    if not isinstance(name, str) or name not in KINDS:
        raise DiagnosticInputError(
            {"operation": [f"Unknown diagnostic {name!r}; use one of: {', '.join(KINDS)}."]}
        )
    return KINDS[name]


def _validated_inputs(kind: Kind, parameters: Any) -> dict[str, str]:
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise DiagnosticInputError({"parameters": ["A JSON object is required."]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(parameters) - set(kind.inputs))
    for name in unknown:
        allowed = ", ".join(kind.inputs) or "none"
        errors[name] = [f"Not a parameter of {kind.name} (allowed: {allowed})."]
    values: dict[str, str] = {}
    for name, spec in kind.inputs.items():
        raw = parameters.get(name)
        if raw is None or raw == "":
            if spec.required:
                errors[name] = ["This parameter is required."]
            continue
        if spec.type == UINT:
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                errors[name] = ["A whole number is required."]
                continue
            text = str(raw).strip()
            if not text.isascii() or not text.isdigit():
                errors[name] = ["A whole number is required."]
                continue
            number = int(text)
            if spec.minimum is not None and number < spec.minimum:
                errors[name] = [f"At least {spec.minimum}."]
            elif spec.maximum is not None and number > spec.maximum:
                errors[name] = [f"At most {spec.maximum}."]
            else:
                values[name] = str(number)
        else:
            if not isinstance(raw, str):
                errors[name] = ["A string is required."]
            elif len(raw) > spec.max_length:
                errors[name] = [f"At most {spec.max_length} characters."]
            elif any(ord(c) < 32 or c == "\x7f" for c in raw) or raw != raw.strip():
                errors[name] = ["No control characters or surrounding spaces."]
            elif name.endswith("_url") and urlparse(raw).scheme not in ("http", "https"):
                errors[name] = ["An http:// or https:// URL is required."]
            else:
                values[name] = raw
    if errors:
        raise DiagnosticInputError(errors)
    if kind.name == "download" and "download_url" not in values:
        values["download_url"] = speedtest_url(DEFAULT_DOWNLOAD_BYTES)
    if kind.name == "upload":
        values.setdefault("upload_url", speedtest_url())
        values.setdefault("test_file_length", str(DEFAULT_UPLOAD_BYTES))
    return values


def plan(device: Device, name: Any, parameters: Any) -> dict[str, Any]:
    """The operation's params for this device: its diagnostic object and what to set."""
    kind = kind_of(name)
    inputs = _validated_inputs(kind, parameters)
    root = device.data_model_root or "Device."
    obj = kind.object_for(root)
    if obj is None:
        raise NotSupported(
            f"The {kind.label} diagnostic does not exist in the device's data model ({root})."
        )
    to_set = [
        {"name": obj + kind.inputs[key].parameter, "value": value, "type": kind.inputs[key].type}
        for key, value in inputs.items()
    ]
    to_set.append({"name": obj + "DiagnosticsState", "value": "Requested", "type": "xsd:string"})
    return {"diagnostic": kind.name, "object": obj, "inputs": inputs, "set": to_set}


def start(
    *, device: Device, name: Any, parameters: Any = None, user=None, timeout: int | None = None
) -> Operation:
    """Start a diagnostic on the device (409 if another operation is active there)."""
    params = plan(device, name, parameters)
    return operations.start_operation(
        device=device,
        kind=OperationKind.DIAGNOSTIC,
        user=user,
        params=params,
        timeout=timeout,
    )


def diagnostics(queryset: QuerySet[Device] | None = None) -> QuerySet[Operation]:
    """Diagnostic operations (of the given devices), newest first."""
    ops = Operation.objects.filter(kind=OperationKind.DIAGNOSTIC).select_related("device")
    if queryset is not None:
        ops = ops.filter(device__in=queryset)
    return ops.order_by("-id")


def results(op: Operation) -> dict[str, Any] | None:
    """What the device measured, interpreted per kind; None until it has reported."""
    report = op.output.get("diagnostic")
    kind = KINDS.get(op.params.get("diagnostic", ""))
    if not report or kind is None:
        return None
    return kind.results(report.get("values", {}))


def device_reason(op: Operation) -> str:
    """The device's own DiagnosticsState (e.g. Error_CannotResolveHostName), if it sent one."""
    return (op.output.get("diagnostic") or {}).get("state", "")


def last_ping(device: Device) -> Operation | None:
    """The device's newest finished ping that the device reported on (a cancelled or
    timed-out one has no results and does not hide the one before it)."""
    return (
        diagnostics()
        .filter(device=device, params__diagnostic="ipping", state__in=FINAL_STATES)
        .filter(output__has_key="diagnostic")
        .first()
    )


def active_ping(device: Device) -> Operation | None:
    current = operations.active_operation(device)
    if current is not None and current.params.get("diagnostic") == "ipping":
        return current
    return None


def default_ping_host() -> str:
    """Where a ping goes when none is named: this server, as devices reach it."""
    return urlparse(settings.LINESMAN_PUBLIC_URL).hostname or "127.0.0.1"
