"""The operation state machine, driven by what devices say in their CWMP sessions.

initiated -> dispatched (first RPC sent) -> in_progress (first answer) -> completed |
failed | timed_out | cancelled. An operation runs its steps in order (several PATCH flags
make several steps); each step queues RPCs (`plan_step`) and some then wait for an event
from the device (a boot, a bootstrap, a transfer completion) before the next step starts.
The ACS session engine calls the `on_*` functions; nothing here talks HTTP. An RPC the
device never answers (the session broke, as often as LINESMAN_RPC_MAX_ATTEMPTS allows)
fails its operation with that reason (`on_task_abandoned`). Whoever cares that an
operation ended (bulk jobs) subscribes with `subscribe_finished`; the engine imports none
of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from linesman.audit import services as audit
from linesman.audit.models import AuditAction
from linesman.core import events, hotsql
from linesman.cwmp import provisioning, queue
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.inventory.models import Device, Setting
from linesman.operations.models import ACTIVE_STATES, Operation, OperationKind, OperationState

log = logging.getLogger(__name__)

#: Parameters per SetParameterValues / GetParameterValues request: small enough for CPEs
#: with little memory, large enough to keep sessions short.
CHUNK = 50

AWAIT_BOOT = "awaiting_boot"
AWAIT_BOOTSTRAP = "awaiting_bootstrap"
AWAIT_TRANSFER = "awaiting_transfer"
AWAIT_VERSION = "awaiting_version"
AWAIT_INFORM = "awaiting_inform"
AWAIT_DIAGNOSTIC = "awaiting_diagnostic"
DIAGNOSTICS_COMPLETE = "8 DIAGNOSTICS COMPLETE"

RESULTS = {
    OperationState.COMPLETED: "success",
    OperationState.FAILED: "failure",
    OperationState.TIMED_OUT: "timeout",
    OperationState.CANCELLED: "cancelled",
}


#: Called on commit with each operation that reached a final state. Subscribers (bulk
#: jobs) register here, so the engine needs to import none of them.
_finished_subscribers: list[Callable[[Operation], None]] = []


def subscribe_finished(callback: Callable[[Operation], None]) -> None:
    """Call `callback(op)` after the commit of every operation's final state."""
    if callback not in _finished_subscribers:
        _finished_subscribers.append(callback)


def _announce_finished(op: Operation) -> None:
    events.announce(
        "operation.finished",
        device_id=op.device_id,
        organization_id=op.device.organization_id,
        operation_id=op.operation_id,
        kind=op.kind,
        state=op.state,
        result=op.result,
        error=op.error,
        cause=op.error_cause,
        bulk_job_id=op.bulk_job_id,
    )
    for callback in list(_finished_subscribers):
        try:
            callback(op)
        except Exception:  # a subscriber's failure must not break a device's session
            log.exception("operation %s: a finished-subscriber failed", op.operation_id)


# Lookups every session makes, compiled once (see `hotsql.Lookup`).
_OPERATION = hotsql.Lookup(
    lambda pk: Operation.objects.select_related("device", "device__type").filter(pk=pk)[:1], int
)
_ACTIVE_OPERATION = hotsql.Lookup(
    lambda device_id: (
        Operation.objects.select_related("device", "device__type")
        .filter(device_id=device_id, state__in=ACTIVE_STATES)
        .order_by()[:1]
    ),
    int,
)


_LOOK_UP = object()


def active_operation(device_id: int) -> Operation | None:
    """The device's operation still running, if any (the database allows one)."""
    return _ACTIVE_OPERATION.first(device_id)


def current_step(op: Operation) -> str:
    steps = op.params.get("steps") or [op.kind]
    return steps[min(op.params.get("step_index", 0), len(steps) - 1)]


def desired_configuration(device: Device) -> list[dict[str, str]]:
    """The device type's template overlaid with the device's own settings (what `reconf`
    and bootstrap provisioning apply); defined with the provisioning it belongs to."""
    return provisioning.desired_configuration(device)


def _enqueue_spv(op: Operation, parameters: list[dict[str, str]], handler: str) -> None:
    for start in range(0, len(parameters), CHUNK):
        queue.enqueue(
            op.device_id,
            "SetParameterValues",
            {"parameters": parameters[start : start + CHUNK], "parameter_key": op.operation_id},
            handler=handler,
            operation_id=op.pk,
        )


def _variables(op: Operation) -> list[dict[str, Any]]:
    return op.params.get("variables") or []


@transaction.atomic(savepoint=False)  # a failure ends the caller's transaction as well
def plan_step(op: Operation) -> None:
    """Queue the RPCs of the operation's current step, or mark what it waits for."""
    step = current_step(op)
    device = op.device
    if step == OperationKind.REBOOT:
        queue.enqueue(
            device.pk,
            "Reboot",
            {"command_key": op.operation_id},
            handler="reboot",
            operation_id=op.pk,
        )
    elif step in (OperationKind.FACTORY, OperationKind.DEVICE_FACTORY):
        queue.enqueue(device.pk, "FactoryReset", {}, handler="factory_reset", operation_id=op.pk)
    elif step in (OperationKind.SYNC, OperationKind.REFRESH):
        queue.enqueue(
            device.pk,
            "GetParameterNames",
            {"path": None, "next_level": False},
            handler="discover",
            operation_id=op.pk,
        )
    elif step == OperationKind.RECONF:
        # The management settings (inform interval, connection request credentials) are
        # part of what a device should have, so reconf re-asserts them too.
        from linesman.cwmp import provisioning

        provisioning.ensure_connection_request_credentials(device)
        _enqueue_spv(op, provisioning.management_parameters(device), "provision")
        _enqueue_spv(op, desired_configuration(device), "apply")
    elif step == OperationKind.FIRMWARE:
        from linesman.inventory.firmware import download_args

        queue.enqueue(
            device.pk, "Download", download_args(op), handler="download", operation_id=op.pk
        )
    elif step == OperationKind.GET:
        names = [v["variable_name"] for v in _variables(op)]
        if any(name.endswith(".") for name in names):
            # Partial paths: learn the names first, many CPEs fail partial-path GPV.
            for name in names:
                queue.enqueue(
                    device.pk,
                    "GetParameterNames",
                    {"path": name, "next_level": False},
                    handler="discover",
                    operation_id=op.pk,
                )
        else:
            queue.enqueue(
                device.pk,
                "GetParameterValues",
                {"names": names},
                handler="read",
                operation_id=op.pk,
            )
    elif step == OperationKind.SET:
        params = [
            {
                "name": v["variable_name"],
                "value": str(v.get("value", "")),
                "type": v.get("type") or "xsd:string",
            }
            for v in _variables(op)
        ]
        _enqueue_spv(op, params, "apply")
    elif step == OperationKind.ADD_OBJECT:
        for v in _variables(op):
            queue.enqueue(
                device.pk,
                "AddObject",
                {"object_name": v["variable_name"], "parameter_key": op.operation_id},
                handler="add_object",
                operation_id=op.pk,
            )
    elif step == OperationKind.DELETE_OBJECT:
        for v in _variables(op):
            queue.enqueue(
                device.pk,
                "DeleteObject",
                {"object_name": v["variable_name"], "parameter_key": op.operation_id},
                handler="delete_object",
                operation_id=op.pk,
            )
    elif step == OperationKind.STATUS:
        op.phase = AWAIT_INFORM
        op.save(update_fields=["phase"])
    elif step == OperationKind.DIAGNOSTIC:
        _plan_diagnostic(op)
    elif step == OperationKind.GET_ATTRIBUTES:
        _plan_get_attributes(op)
    elif step == OperationKind.SET_ATTRIBUTES:
        _plan_set_attributes(op)
    if step not in _ALWAYS_QUEUE:  # else an RPC was just queued: the step is not done
        _maybe_step_done(op)


#: Steps whose planning always queues an RPC.
_ALWAYS_QUEUE = frozenset(
    {
        OperationKind.REBOOT,
        OperationKind.FACTORY,
        OperationKind.DEVICE_FACTORY,
        OperationKind.SYNC,
        OperationKind.REFRESH,
    }
)


# --- parameter attributes (notifications, access lists) -----------------------------------


def _plan_get_attributes(op: Operation) -> None:
    names = [v["variable_name"] for v in _variables(op)]
    queue.enqueue(
        op.device_id,
        "GetParameterAttributes",
        {"names": names},
        handler="read_attributes",
        operation_id=op.pk,
    )


def _plan_set_attributes(op: Operation) -> None:
    attributes = op.params.get("attributes") or []
    for start in range(0, len(attributes), CHUNK):
        queue.enqueue(
            op.device_id,
            "SetParameterAttributes",
            provisioning.attribute_args(attributes[start : start + CHUNK]),
            handler="apply_attributes",
            operation_id=op.pk,
        )


def _read_attributes(op: Operation, response: dict[str, Any]) -> None:
    found = dict(op.output.get("attributes", {}))
    for item in response.get("parameters", []):
        found[item["name"]] = {
            "notification": item.get("notification", 0),
            "access_list": list(item.get("access_list") or []),
        }
    op.output = {**op.output, "attributes": found}
    op.save(update_fields=["output"])


# --- diagnostics -------------------------------------------------------------------------
# A diagnostic's request is prepared by the diagnostics service (which knows the TR-181 and
# TR-098 objects): params {"object": "Device.IP.Diagnostics.IPPing.", "set": [{name, value,
# type}], "diagnostic": kind}. The engine only carries out the CWMP exchange: set the inputs
# with DiagnosticsState=Requested, wait for `8 DIAGNOSTICS COMPLETE`, read the object back
# (GetParameterNames of the object, then GetParameterValues of its parameters).


def _plan_diagnostic(op: Operation) -> None:
    # Not "apply": a diagnostic trigger is not desired configuration, and the values it sets
    # are not stored as the device's parameters either (they are the test's inputs).
    queue.enqueue(
        op.device_id,
        "SetParameterValues",
        {"parameters": op.params.get("set", []), "parameter_key": op.operation_id},
        handler="diag_request",
        operation_id=op.pk,
    )


def _diagnostic_requested(op: Operation) -> None:
    op.phase = AWAIT_DIAGNOSTIC
    op.save(update_fields=["phase"])


def _diagnostic_complete(op: Operation) -> None:
    """The device says its diagnostic ran: learn the result object's names (its tables'
    rows vary), then read them; many CPEs fail a partial-path GetParameterValues."""
    op.phase = ""
    op.save(update_fields=["phase"])
    queue.enqueue(
        op.device_id,
        "GetParameterNames",
        {"path": op.params["object"], "next_level": False},
        handler="diag_names",
        operation_id=op.pk,
    )


def _diagnostic_names(op: Operation, response: dict[str, Any]) -> None:
    leaves = [p["name"] for p in response.get("parameters", []) if not p["name"].endswith(".")]
    if not leaves:
        finish(
            op,
            OperationState.FAILED,
            error=f"The device reported no parameters under {op.params['object']}.",
            cause="diagnostic_error",
        )
        return
    for start in range(0, len(leaves), CHUNK):
        queue.enqueue(
            op.device_id,
            "GetParameterValues",
            {"names": leaves[start : start + CHUNK]},
            handler="diag_read",
            operation_id=op.pk,
        )


def _diagnostic_read(op: Operation, response: dict[str, Any]) -> None:
    """Store the results (names relative to the diagnostic object); once all are read, a
    DiagnosticsState other than Complete fails the operation with the device's reason."""
    prefix = op.params["object"]
    values = dict((op.output.get("diagnostic") or {}).get("values", {}))
    values.update(
        {
            p["name"][len(prefix) :]: p.get("value", "")
            for p in response.get("parameters", [])
            if p["name"].startswith(prefix)
        }
    )
    state = values.get("DiagnosticsState", "")
    op.output = {**op.output, "diagnostic": {"state": state, "values": values}}
    op.save(update_fields=["output"])
    if DeviceTask.objects.filter(
        operation_id=op.pk, handler="diag_read", state__in=[TaskState.QUEUED, TaskState.SENT]
    ).exists():
        return
    if state != "Complete":
        reason = state or "no DiagnosticsState"
        finish(
            op,
            OperationState.FAILED,
            error=f"The device reported the diagnostic ended with {reason}.",
            cause="diagnostic_error",
        )


def _announce_diagnostic(op: Operation) -> None:
    if op.kind != OperationKind.DIAGNOSTIC:
        return
    events.announce(
        "diagnostic.finished",
        device_id=op.device_id,
        organization_id=op.device.organization_id,
        operation_id=op.operation_id,
        kind=op.params.get("diagnostic", ""),
        state=op.state,
        results=(op.output.get("diagnostic") or {}).get("values", {}),
    )


def _remaining_tasks(op: Operation) -> bool:
    return DeviceTask.objects.filter(
        operation_id=op.pk, state__in=[TaskState.QUEUED, TaskState.SENT]
    ).exists()


def _maybe_step_done(op: Operation) -> None:
    if op.state not in ACTIVE_STATES or op.phase.startswith("awaiting") or _remaining_tasks(op):
        return
    _step_done(op)


def _step_done(op: Operation) -> None:
    step = current_step(op)
    now = timezone.now()
    if step == OperationKind.SYNC:
        Device.objects.filter(pk=op.device_id).update(last_configuration=now, last_change=now)
    index = op.params.get("step_index", 0) + 1
    steps = op.params.get("steps") or [op.kind]
    if index >= len(steps):
        finish(op, OperationState.COMPLETED)  # clears the phase with the final state
        return
    op.params = {**op.params, "step_index": index}
    op.phase = ""
    op.save(update_fields=["params", "phase"])
    plan_step(op)


def finish(
    op: Operation,
    state: str,
    *,
    error: str = "",
    cause: str = "",
    user=None,
    only_from: Collection[str] = ACTIVE_STATES,
) -> Operation:
    """Move an operation to a final state, cancel what it still had queued, and record it.

    Only an operation in one of the `only_from` states (any active one by default) is
    ended; any other is returned as it is now in the database.
    """
    now = timezone.now()
    # No savepoint (a round trip each way on PostgreSQL): nobody goes on in a transaction
    # after a failure here.
    with transaction.atomic(savepoint=False):
        # One compare-and-set: of two finishers (a cancel and the device's answer), the
        # database lets the first end it and the other see no active row.
        end = {
            "state": state,
            "result": RESULTS[state],
            "error": error[:2000],
            "error_cause": cause,
            "completed_at": now,
            "phase": "",
        }
        ended = hotsql.update_fields(
            Operation,
            op.pk,
            end,
            {"state": tuple(s.value for s in ACTIVE_STATES if s in only_from)},
        )
        if not ended:
            # Already ended (or not in `only_from`): as it is now; gone with its device.
            return _OPERATION.first(op.pk) or op
        for name, value in end.items():
            setattr(op, name, value)
        queue.cancel_for_operation(op.pk, reason=state)
        if op.kind == OperationKind.FIRMWARE:
            from linesman.inventory.services import firmware_upgrade_finished

            firmware_upgrade_finished(
                op.device_id, succeeded=state == OperationState.COMPLETED, when=op.completed_at
            )
        audit.record(
            user=user,
            action=AuditAction.OPERATION,
            object_type="operations.operation",
            object_id=op.operation_id,
            object_repr=f"{op.kind} {op.operation_id}",
            device_id=op.device_id,
            organization_id=op.device.organization_id,
            changes={"state": ["active", state]},
            message=f"{op.operation_id} {state}" + (f": {error}" if error else ""),
        )
    transaction.on_commit(lambda: _announce_finished(op))
    _announce_diagnostic(op)
    return op


def _set_state(op: Operation, state: str, *also: str, **stamps) -> None:
    """Move `op` to `state`, stamping the `stamps` fields not set yet, and write them with
    the fields named in `also` (changed by the caller) in one statement."""
    fields = list(also)
    if op.state != state:
        op.state = state
        fields.append("state")
        for name, value in stamps.items():
            if getattr(op, name) is None:
                setattr(op, name, value)
                fields.append(name)
    if fields:
        hotsql.update_fields(Operation, op.pk, {name: getattr(op, name) for name in fields})


def on_task_sent(task: DeviceTask) -> None:
    """An operation's first RPC went out: the operation is dispatched."""
    if task.operation_id is None:
        return
    hotsql.execute(
        _DISPATCH_SQL,
        [
            OperationState.DISPATCHED.value,
            _DISPATCHED_AT.get_db_prep_save(timezone.now(), connection),
            task.operation_id,
            OperationState.INITIATED.value,
        ],
    )


_DISPATCHED_AT = Operation._meta.get_field("dispatched_at")
_DISPATCH_SQL = (
    f"UPDATE {Operation._meta.db_table} SET state = %s, dispatched_at = %s"
    " WHERE id = %s AND state = %s"
)


# --- answers -----------------------------------------------------------------------------


def _store_values(device_id: int, parameters: list[dict[str, Any]]) -> None:
    from linesman.cwmp.parameters import merge_values

    merge_values(device_id, parameters)


#: The most parameters a background tree read (after first contact) reads values of.
TREE_READ_LIMIT = 20000
#: Names per GetParameterValues of a whole-tree read (that one, and a sync's or refresh's):
#: each answer rewrites the device's stored values (and an operation's output), so 100 (not
#: `CHUNK`) halves both the round trips and the rewrites of a 700-parameter tree; still a
#: small request for a CPE.
TREE_READ_CHUNK = 100


def _discovered(
    device_id: int,
    response: dict[str, Any],
    operation_id: int | None,
    limit: int | None = None,
) -> None:
    """GetParameterNames answered: store writability, queue the values' reads in chunks."""
    from linesman.cwmp.parameters import merge_names

    leaves = [p["name"] for p in response.get("parameters", []) if not p["name"].endswith(".")]
    merge_names(device_id, response.get("parameters", []))
    for start in range(0, len(leaves[:limit]), TREE_READ_CHUNK):
        queue.enqueue(
            device_id,
            "GetParameterValues",
            {"names": leaves[:limit][start : start + TREE_READ_CHUNK]},
            handler="read",
            operation_id=operation_id,
        )


def _handle(op: Operation, task: DeviceTask, response: dict[str, Any]) -> None:
    handler = task.handler
    if handler == "discover":
        _discovered(op.device_id, response, operation_id=op.pk)
    elif handler == "read":
        parameters = response.get("parameters", [])
        _store_values(op.device_id, parameters)
        if current_step(op) == OperationKind.SYNC:
            _sync_settings(op, parameters)
        values = dict(op.output.get("values", {}))
        values.update({p["name"]: p["value"] for p in parameters})
        op.output = {**op.output, "values": values}
        op.save(update_fields=["output"])
    elif handler in ("apply", "provision"):
        _handle_unowned(task, response)
        if response.get("status") == 1:
            op.output = {**op.output, "reboot_required": True}
            op.save(update_fields=["output"])
    elif handler == "factory_reset":
        if current_step(op) == OperationKind.FACTORY:
            # `factory` wipes what we store: the device falls back to its type's template.
            Setting.objects.filter(device_id=op.device_id).delete()
            from linesman.cwmp.parameters import clear_values

            clear_values(op.device_id)
        op.phase = AWAIT_BOOTSTRAP
        op.save(update_fields=["phase"])
    elif handler == "read_attributes":
        _read_attributes(op, response)
    elif handler == "diag_request":
        _diagnostic_requested(op)
    elif handler == "diag_names":
        _diagnostic_names(op, response)
    elif handler == "diag_read":
        _diagnostic_read(op, response)
    elif handler in ("add_object", "delete_object"):
        if handler == "delete_object":
            from linesman.cwmp.parameters import forget_object

            forget_object(op.device_id, task.args.get("object_name") or "")
        results = list(op.output.get("objects", []))
        results.append({"object_name": task.args.get("object_name"), **response})
        op.output = {**op.output, "objects": results}
        op.save(update_fields=["output"])


_BOOLEAN = {"1": True, "true": True, "0": False, "false": False}


def _same_value(a: str, b: str) -> bool:
    """Equal as a device means them: exactly, or as the same xsd:boolean (`1`, `true`)."""
    if a == b:
        return True
    left, right = _BOOLEAN.get(a.strip().lower()), _BOOLEAN.get(b.strip().lower())
    return left is not None and left == right


def _sync_settings(op: Operation, parameters: list[dict[str, Any]]) -> None:
    """`sync`: hold what the device reports against the desired configuration.

    A confirmed setting takes the device's value (the device was changed by other means;
    the stored configuration follows it). A pending setting, one an operator asked for and
    the device has not confirmed, is never overwritten: it stays pending until `reconf` or
    the next provisioning applies it, unless the device already reports exactly that value,
    which confirms it. Every place the device differs from the desired configuration (a
    pending setting, an adopted value, a template value) goes into the operation's output
    as `differences`, so nothing a sync decides is silent.
    """
    from linesman.inventory.services import is_managed_parameter

    reported = {p["name"]: p for p in parameters}
    now = timezone.now()
    differences = list(op.output.get("differences", []))
    own = set()
    for setting in Setting.objects.filter(device_id=op.device_id, variable_name__in=list(reported)):
        own.add(setting.variable_name)
        value = str(reported[setting.variable_name].get("value", ""))
        if _same_value(value, setting.value):
            if setting.pending:
                setting.pending, setting.applied = False, now
                setting.save(update_fields=["pending", "applied", "updated"])
            continue
        differences.append(
            {
                "variable_name": setting.variable_name,
                "desired": setting.value,
                "device": value,
                "source": "setting",
                "resolution": "pending" if setting.pending else "adopted",
            }
        )
        if not setting.pending:
            setting.value = value
            setting.type = reported[setting.variable_name].get("type") or setting.type
            setting.applied = now
            setting.save(update_fields=["value", "type", "applied", "updated"])
    template = op.device.type.settings_template or {}
    for name, desired in template.items():
        if name in own or name not in reported or is_managed_parameter(name):
            continue
        value = str(reported[name].get("value", ""))
        if not _same_value(value, str(desired)):
            differences.append(
                {
                    "variable_name": name,
                    "desired": str(desired),
                    "device": value,
                    "source": "template",
                    "resolution": "reconf",
                }
            )
    op.output = {**op.output, "differences": differences}


# Asked at every answered SetParameterValues (usually none pending): compiled once.
_PENDING_SETTINGS = hotsql.Lookup(
    lambda device_id: Setting.objects.filter(device_id=device_id, pending=True), int
)


def _handle_unowned(task: DeviceTask, response: dict[str, Any]) -> None:
    """Answers to SetParameterValues, whoever asked (an operation, or bootstrap
    provisioning): the device confirmed the values sent, so a setting whose desired value
    is the one sent is applied. A setting changed since the RPC was queued, or a one-shot
    variables write of another value, leaves it pending. Also the background tree read
    after first contact (`provisioning.read_tree`): names, then values, stored."""
    if task.handler == "discover":
        _discovered(
            task.device_id,
            response,
            operation_id=None,
            limit=TREE_READ_LIMIT,
        )
        return
    if task.handler == "read":
        _store_values(task.device_id, response.get("parameters", []))
        return
    if task.handler in ("apply", "provision"):
        parameters = task.args.get("parameters", [])
        sent = {p["name"]: str(p.get("value", "")) for p in parameters}
        now = timezone.now()
        for setting in _PENDING_SETTINGS.all(task.device_id):
            if sent.get(setting.variable_name) == setting.value:
                Setting.objects.filter(pk=setting.pk, value=setting.value).update(
                    pending=False, applied=now
                )
        from linesman.cwmp.rpc import SECRET_REF

        _store_values(task.device_id, [p for p in parameters if p.get("value") != SECRET_REF])


#: What an operation waits for once the device has answered these RPCs (written with the
#: operation's state, in one statement).
_PHASE_AFTER_ANSWER = {"reboot": AWAIT_BOOT, "download": AWAIT_TRANSFER}


@transaction.atomic(savepoint=False)  # within the answer's transaction: no savepoint
def on_task_response(task: DeviceTask, response: dict[str, Any]) -> None:
    """The device answered `task`; advance its operation."""
    if task.operation_id is None:
        _handle_unowned(task, response)
        return
    op = _OPERATION.first(task.operation_id)
    if op is None or op.state not in ACTIVE_STATES:
        return
    changed = []
    if task.handler in _PHASE_AFTER_ANSWER:
        op.phase = _PHASE_AFTER_ANSWER[task.handler]
        changed.append("phase")
    _set_state(op, OperationState.IN_PROGRESS, *changed, started_at=timezone.now())
    _handle(op, task, response)
    _maybe_step_done(op)


@transaction.atomic
def on_task_fault(task: DeviceTask, code: int, message: str) -> None:
    if task.operation_id is None:
        return
    op = task.operation
    if op.state in ACTIVE_STATES:
        if code:
            # Kept apart from the text so a job can count its failures by fault.
            op.output = {
                **op.output,
                "fault": {"method": task.method, "code": code, "message": message},
            }
            op.save(update_fields=["output"])
        finish(
            op,
            OperationState.FAILED,
            error=f"{task.method}: fault {code} {message}",
            cause="device_faults",
        )


@transaction.atomic
def on_task_abandoned(task: DeviceTask, reason: str) -> None:
    """The device broke the session around `task` as often as allowed: its operation fails
    with `reason` (e.g. "the device dropped the session 3 times while executing Reboot")."""
    if task.operation_id is None:
        return
    op = task.operation
    if op.state in ACTIVE_STATES:
        finish(op, OperationState.FAILED, error=reason, cause="session_dropped")


def on_late_answer(task: DeviceTask, answered: bool) -> None:
    """An answer (or fault) arrived for an RPC withdrawn when its operation ended (e.g. it
    was cancelled while the RPC was on the wire): the operation's output says so."""
    if task.operation_id is None:
        return
    with transaction.atomic():
        op = Operation.objects.select_for_update().filter(pk=task.operation_id).first()
        if op is None or op.state in ACTIVE_STATES:
            return
        late = list(op.output.get("answered_after_end", []))
        late.append({"method": task.method, "result": "answered" if answered else "fault"})
        op.output = {**op.output, "answered_after_end": late}
        op.save(update_fields=["output"])


def _lost_answer(op: Operation, method: str) -> bool:
    """Settle a `method` RPC the device acted on although its answer never reached us
    (the session broke, or the server died, after sending it): mark it done so it is not
    sent again. Returns whether there was one."""
    settled = DeviceTask.objects.filter(
        operation_id=op.pk,
        method=method,
        state__in=[TaskState.QUEUED, TaskState.SENT],
        attempts__gt=0,
    ).update(state=TaskState.DONE, finished_at=timezone.now(), fault_string="answer lost")
    return settled > 0


@transaction.atomic(savepoint=False)  # within the Inform's transaction
def recover_lost_answers(op: Operation | None, events: list[tuple[str, str]]) -> None:
    """Events proving the device carried out an RPC whose answer we never read.

    A reboot that comes back with `M Reboot` and this operation's CommandKey, or a
    bootstrap after a FactoryReset, must neither be sent again nor left waiting. `op` is
    the device's active operation (`active_operation`), loaded once for the Inform.
    """
    if op is None:
        return
    codes = {code for code, _ in events}
    keys = {code: key for code, key in events}
    step = current_step(op)
    if (
        step == OperationKind.REBOOT
        and keys.get("M Reboot") == op.operation_id
        and op.phase != AWAIT_BOOT
        and _lost_answer(op, "Reboot")
    ):
        op.phase = AWAIT_BOOT
        op.save(update_fields=["phase"])
    elif (
        step in (OperationKind.FACTORY, OperationKind.DEVICE_FACTORY)
        and "0 BOOTSTRAP" in codes
        and op.phase != AWAIT_BOOTSTRAP
        and _lost_answer(op, "FactoryReset")
    ):
        if step == OperationKind.FACTORY:
            # As when the answer arrives (`_handle`): settings and stored values go; the
            # bootstrap's tree read stores the reset device's values again.
            Setting.objects.filter(device_id=op.device_id).delete()
            from linesman.cwmp.parameters import clear_values

            clear_values(op.device_id)
        op.phase = AWAIT_BOOTSTRAP
        op.save(update_fields=["phase"])


@transaction.atomic(savepoint=False)  # within the Inform's transaction
def on_inform(
    device: Device, events: list[tuple[str, str]], op: Operation | None | object = _LOOK_UP
) -> None:
    """Events of a new session: boots, bootstraps and version changes complete operations.

    `op`: the device's active operation if the caller has it (as `recover_lost_answers`
    left it), else it is looked up."""
    if op is _LOOK_UP:
        op = _ACTIVE_OPERATION.first(device.pk)
    if op is None or op.state not in ACTIVE_STATES:
        return
    codes = {code for code, _ in events}
    keys = {code: key for code, key in events}
    if op.phase == AWAIT_BOOT and (keys.get("M Reboot") == op.operation_id or "1 BOOT" in codes):
        _step_done(op)  # which writes the phase cleared, with the next step or the end
    elif op.phase == AWAIT_BOOTSTRAP and "0 BOOTSTRAP" in codes:
        # The session queued the bootstrap provisioning, linked to this operation: the
        # type's template, plus for `device_factory` the stored settings it kept.
        op.phase = ""
        op.save(update_fields=["phase"])
        _maybe_step_done(op)
    elif op.phase == AWAIT_VERSION:
        _check_version(op, device)
    elif op.phase == AWAIT_INFORM:
        _step_done(op)
    elif op.phase == AWAIT_DIAGNOSTIC and DIAGNOSTICS_COMPLETE in codes:
        _diagnostic_complete(op)


def _check_version(op: Operation, device: Device, *, final: bool = True) -> None:
    """Complete the upgrade when the device informs the new version.

    Called at TransferComplete (`final=False`: a device may send it before it reboots into
    the new image) and at each Inform after it (`final=True`): an Inform that still carries
    another version means the device did not apply the image it said it installed.
    """
    expected = op.params.get("version")
    reported = device.software_version
    if reported == expected:
        _step_done(op)
        return
    if not final:
        return
    before = op.output.get("from_version")
    if before is not None and reported == before:
        what = f"still reports the old version {reported!r}"
    else:
        what = f"reports version {reported!r}"
    finish(
        op,
        OperationState.FAILED,
        cause="firmware_not_applied",
        error=f"TransferComplete succeeded but the device {what}, not {expected!r}.",
    )


@transaction.atomic
def on_transfer_complete(
    device: Device, command_key: str, fault_code: int, fault_string: str
) -> None:
    op = (
        Operation.objects.select_related("device")
        .filter(device_id=device.pk, operation_id=command_key, state__in=ACTIVE_STATES)
        .first()
    )
    if op is None:
        return
    if fault_code:
        from linesman.cwmp.faults import describe

        op.output = {
            **op.output,
            "fault": {"code": fault_code, "string": fault_string, "meaning": describe(fault_code)},
        }
        op.save(update_fields=["output"])
        finish(
            op,
            OperationState.FAILED,
            cause="device_faults",
            error=f"TransferComplete fault {fault_code} {describe(fault_code)}: {fault_string}",
        )
        return
    op.phase = AWAIT_VERSION
    op.save(update_fields=["phase"])
    _check_version(op, device, final=False)


def expire(op_pk: int) -> None:
    """End an operation past its deadline `timed_out`, saying what it was waiting for."""
    op = hotsql.first(
        Operation.objects.select_related("device").filter(pk=op_pk, state__in=ACTIVE_STATES)
    )
    if op is None or op.deadline is None or op.deadline > timezone.now():
        return
    if op.dispatched_at is None and op.device.last_connection is None:
        error = "The device never contacted the ACS before the operation's deadline."
    elif op.dispatched_at is None:
        last = op.device.last_connection.strftime("%Y-%m-%dT%H:%M:%SZ")
        error = (
            f"The device did not contact the ACS before the operation's deadline (last "
            f"contact {last}); nothing was sent to it."
        )
    elif op.phase:
        waited = {
            AWAIT_BOOT: "its reboot",
            AWAIT_BOOTSTRAP: "its bootstrap after the reset",
            AWAIT_TRANSFER: "the end of its download",
            AWAIT_VERSION: "the new firmware version",
            AWAIT_INFORM: "its next inform",
            AWAIT_DIAGNOSTIC: "the end of its diagnostic (8 DIAGNOSTICS COMPLETE)",
        }.get(op.phase, op.phase)
        error = f"The device did not complete the operation in time (waiting for {waited})."
    else:
        error = "The device did not complete the operation in time."
    # The cause stays the category (a time-out); the error says what it waited for.
    finish(op, OperationState.TIMED_OUT, error=error, cause="operation_timeouts")
