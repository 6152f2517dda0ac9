"""The ACS session engine: one HTTP request of a CWMP session in, one HTTP reply out.

A session (TR-069 3.7) is: the device POSTs an Inform, the ACS answers InformResponse;
the device sends its own requests (TransferComplete, GetRPCMethods, ...); the device POSTs
an empty body; the ACS then sends queued RPCs one per HTTP response and reads each answer
in the next request; an empty 204 ends the session. All state is in the database
(CwmpSession, DeviceTask), so consecutive requests may reach different server processes.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from linesman.core import crypto, hotsql, textcheck
from linesman.core.events import announce, wanted
from linesman.cwmp import digest, inform, provisioning, queue, replay, rpc, soap
from linesman.cwmp.faults import describe
from linesman.cwmp.handlers import answered
from linesman.cwmp.models import CwmpSession, DeviceTask, TaskState
from linesman.cwmp.parameters import merge_values
from linesman.inventory.models import Device
from linesman.operations import engine
from linesman.operations.models import ACTIVE_STATES, Operation

log = logging.getLogger(__name__)

COOKIE = "lsm_session"
#: A session idle this long is abandoned (housekeeping clears it).
SESSION_TIMEOUT = timedelta(seconds=60)
#: A device opens a session only with an Inform, so an Inform arriving after this much
#: silence in its previous session (a crash, a dropped link) takes that session over.
TAKEOVER_AFTER = timedelta(seconds=5)


def max_attempts() -> int:
    """How often an RPC is sent without an answer (in one session or across broken ones)
    before its operation fails: LINESMAN_RPC_MAX_ATTEMPTS."""
    return settings.CONFIG.rpc_max_attempts


ACS_RPC_METHODS = ["Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete"]
CWMP_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")
#: The largest body a request may send before it has shown a live session's cookie or
#: credentials: it bounds what an unauthenticated request costs (reading and parsing).
UNAUTHENTICATED_BODY = 64 * 1024


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cookie: str | None = None
    #: The request presented credentials (an Authorization header) that are wrong for the
    #: device, or for any device; not set when none were presented, when the nonce was
    #: merely stale, or when a right header was replayed. What brute-force limits count.
    auth_failed: bool = False


@dataclass
class Request:
    body: bytes
    cookie: str | None
    authorization: str
    address: str
    method: str = "POST"
    #: The request target (path and query) a Digest `uri` must name.
    path: str = "/cwmp/"
    #: The device whose credentials this request's header proved before its body was read
    #: (`admit_large_body`); its nonce count is claimed, so it is not checked again.
    verified_device: int | None = None


def _soap(envelope: soap.Envelope, cookie: str | None = None) -> Reply:
    return _xml(soap.serialize(envelope), cookie)


def _xml(body: bytes, cookie: str | None = None) -> Reply:
    return Reply(200, body, {"Content-Type": "text/xml; charset=utf-8"}, cookie=cookie)


#: Nothing refers to a session row, so it goes without the ORM's cascade collector.
_DELETE_SESSION_SQL = f"DELETE FROM {CwmpSession._meta.db_table} WHERE id = %s"


def _end(session: CwmpSession) -> Reply:
    hotsql.execute(_DELETE_SESSION_SQL, [session.pk])
    # Only sessions that had work have a row (and so a start time) to measure.
    announce(
        "session.ended",
        device_id=session.device_id,
        duration=(timezone.now() - session.started).total_seconds(),
        rpcs=session.rpc_count,
    )
    return Reply(204)


_NS_CODES = {ns: version for version, ns in soap.NS_CWMP.items()}


def _sign(text: str) -> str:
    return crypto.sign("cwmp-session", text, 24)


def stateless_cookie(device_id: int, cwmp_ns: str) -> str:
    """A session cookie that needs no database row: for sessions with nothing to do.

    Most sessions are periodic informs of devices with nothing queued; they cost one SELECT
    and one UPDATE and no session row. Should work appear before the empty POST, the row is
    created then.
    """
    text = f"d.{device_id}.{_NS_CODES.get(cwmp_ns, '1.0')}.{int(timezone.now().timestamp())}"
    return f"{text}.{_sign(text)}"


def parse_stateless_cookie(cookie: str | None) -> tuple[int, str] | None:
    """(device id, cwmp namespace) of a valid, fresh stateless cookie, else None."""
    if not cookie or not cookie.startswith("d."):
        return None
    text, _, signature = cookie.rpartition(".")
    parts = text.split(".")
    if len(parts) != 5 or not secrets.compare_digest(signature, _sign(text)):
        return None
    # Signed, so written by `stateless_cookie`: integers and a known version.
    device_id, version, stamp = int(parts[1]), f"{parts[2]}.{parts[3]}", int(parts[4])
    if timezone.now().timestamp() - stamp > SESSION_TIMEOUT.total_seconds():
        return None
    return device_id, soap.NS_CWMP[version]


def _negotiate(supported: str | None) -> str | None:
    if not supported:
        return None
    offered = {v.strip() for v in supported.split(",")}
    common = [v for v in CWMP_VERSIONS if v in offered]
    return common[-1] if common else None


def _authenticate(device: Device, request: Request) -> digest.Outcome:
    """Whether this request proves the device's credentials; a Digest nonce count is
    claimed (one statement) so that the same header never proves anything twice."""
    if not device.username and not device.password_encrypted:
        return digest.Outcome.OK  # a device recorded without credentials is not asked for any
    if request.verified_device == device.pk:
        return digest.Outcome.OK
    verdict = digest.verify(
        request.authorization,
        request.method,
        request.path,
        device.username,
        device.password,
        allow_basic=device.type.allow_basic_auth,
    )
    claimed = verdict.outcome is not digest.Outcome.OK or not verdict.nonce
    if not claimed and not replay.claim(verdict.nonce, verdict.nc, verdict.expires):
        return digest.Outcome.REPLAY
    return verdict.outcome


def _refused(request: Request, outcome: digest.Outcome | None = None) -> Reply:
    """The one answer to a request that did not authenticate: the same bytes (apart from
    the nonce) for an unknown serial, missing or wrong credentials, so that answers do not
    tell which serials are registered. `outcome` None: no device to check the header
    against, so any header presented counts as wrong."""
    stale = outcome is digest.Outcome.STALE
    failed = outcome is digest.Outcome.WRONG or (outcome is None and bool(request.authorization))
    return Reply(401, b"", {"WWW-Authenticate": digest.challenge(stale)}, auth_failed=failed)


def _devices_by_username(username: str) -> list[Device]:
    return list(Device.objects.select_related("type").filter(username=username)[:2])


def _prove_any(request: Request, devices: list[Device]) -> tuple[Device | None, Reply | None]:
    """The device among `devices` whose credentials the request proves, or the refusal."""
    outcome: digest.Outcome | None = None
    for device in devices:
        outcome = _authenticate(device, request)
        if outcome is digest.Outcome.OK:
            return device, None
        if outcome is not digest.Outcome.WRONG:
            break  # right password, but stale or replayed: no other device can do better
    return None, _refused(request, outcome)


def admit_large_body(request: Request) -> Reply | None:
    """Whether a request may send a body over UNAUTHENTICATED_BODY; None if so, else the
    refusal (401 with a challenge), decided before the body is read.

    Admitted: a request of a live session (its cookie), or one whose Authorization header
    proves a device's credentials. The header's username names the device (Digest and
    Basic both carry it), so a wrong header is refused before the body is read or parsed.
    """
    if request.cookie and (
        parse_stateless_cookie(request.cookie) or _session_by_cookie(request.cookie)
    ):
        return None
    username = digest.claimed_username(request.authorization)
    if not username:
        return _refused(request)
    device, refusal = _prove_any(request, _devices_by_username(username))
    if device is not None:
        request.verified_device = device.pk
    return refusal


def _auto_register(message: soap.Inform) -> Device | None:
    org_ref, type_ref = settings.LINESMAN_AUTO_REGISTER_ORG, settings.LINESMAN_AUTO_REGISTER_TYPE
    if not org_ref or not type_ref:
        return None
    from linesman.inventory.models import DeviceType
    from linesman.tenancy.models import Organization

    org = Organization.objects.filter(
        **({"pk": int(org_ref)} if (org_ref.isascii() and org_ref.isdigit()) else {"name": org_ref})
    ).first()
    dtype = DeviceType.objects.filter(
        **(
            {"pk": int(type_ref)}
            if (type_ref.isascii() and type_ref.isdigit())
            else {"short_name": type_ref}
        )
    ).first()
    serial = message.device_id.serial_number
    if org is None or dtype is None or not serial:
        return None
    from linesman.inventory import services

    return services.create_device(
        user=None,
        data={"organization_id": org.pk, "type": dtype, "serial_number": serial, "name": serial},
    )


def _open_session(device: Device, envelope: soap.Envelope) -> CwmpSession | None:
    """Create the session row (the per-device lock); None if another live session holds it.
    Called in a transaction."""
    now = timezone.now()
    session = CwmpSession(
        key=secrets.token_urlsafe(24),
        device=device,
        cwmp_ns=envelope.cwmp_ns,
        stage="cpe_requests",
        last_activity=now,
    )
    # Runs in the Inform's transaction. A concurrent Inform of the device that got there
    # first holds the session: its uncommitted row makes the INSERT wait for its commit,
    # then skip (no IntegrityError to spoil the transaction).
    if getattr(device, "has_session", True):
        # The Inform's lookup saw a row (or did not look): a live session, or one
        # abandoned half-way, whose sent but unanswered RPCs go back in the queue.
        existing = _SESSION_FOR_UPDATE.first(device.pk)
        if existing is not None:
            if now - existing.last_activity < TAKEOVER_AFTER:
                return None
            queue.requeue_unanswered(device.pk)
            existing.delete()
    return session if hotsql.insert(session, skip_on_conflict=True) else None


def _start(request: Request, envelope: soap.Envelope) -> Reply:
    message: soap.Inform = envelope.body
    device = inform.find_device(message) or _auto_register(message)
    if device is None:
        log.info("refused Inform from unknown serial %r", message.device_id.serial_number)
        return _refused(request)
    outcome = _authenticate(device, request)
    if outcome is not digest.Outcome.OK:
        return _refused(request, outcome)

    events = [(e.code, e.command_key) for e in message.events]
    codes = {code for code, _ in events}
    first_contact = device.last_connection is None
    params = inform.reported(message)
    provision = provisioning.needs_provisioning(device, codes, first_contact, params)
    busy = getattr(device, "has_active_operation", True)
    queued = getattr(device, "has_queued", True)
    open_session = getattr(device, "has_session", True)
    use = _negotiate(envelope.supported_cwmp_versions)
    reply = soap.Envelope(
        soap.InformResponse(1),
        cwmp_id=envelope.cwmp_id,
        cwmp_ns=envelope.cwmp_ns,
        use_cwmp_version=use,
    )
    if not (provision or busy or queued or open_session):
        inform.apply(device, message, envelope, request.address, params)
        _store_changed_values(device, message, codes)
        _announce_inform(device, events, request.address, params)
        _debug(device, "in", request.body)
        return _out(device, _soap(reply, cookie=stateless_cookie(device.pk, envelope.cwmp_ns)))

    # One transaction, the session's row with it: a crash must not leave the device's
    # events half applied, and one commit a session's Inform is all the path affords.
    with transaction.atomic():
        session = _open_session(device, envelope)
        if session is None:
            return Reply(503, b"another session of this device is open", {"Retry-After": "10"})
        inform.apply(device, message, envelope, request.address, params)
        _store_changed_values(device, message, codes)
        # Loaded once: recovery, provisioning and the events all look at it.
        active = engine.active_operation(device.pk) if busy else None
        engine.recover_lost_answers(active, events)
        if provision:
            # Only a device with an active operation has one waiting on its bootstrap.
            waiting = active if active and active.phase == engine.AWAIT_BOOTSTRAP else None
            bootstrap = waiting is not None and "0 BOOTSTRAP" in codes
            provisioning.provision(device, waiting.pk if bootstrap else None)
            if first_contact or "0 BOOTSTRAP" in codes:
                provisioning.read_tree(device)
        engine.on_inform(device, events, active)
        _announce_inform(device, events, request.address, params)
        cookie = session.key
        if _settled_by_inform(device, active):
            # The session goes on as one that had nothing to do, without a row: its empty
            # POST costs an EXISTS instead of the session's lookup and a DELETE in a
            # transaction of its own (and, like such sessions, it announces no end).
            hotsql.execute(_DELETE_SESSION_SQL, [session.pk])
            cookie = stateless_cookie(device.pk, envelope.cwmp_ns)
    _debug(device, "in", request.body)
    return _out(device, _soap(reply, cookie=cookie))


def _settled_by_inform(device: Device, active: Operation | None) -> bool:
    """Whether the Inform ended the device's operation and left nothing for the session
    (the boot that completes a reboot: a bulk reboot's every device). Provisioning, if the
    Inform needed it, has queued its RPCs by now."""
    return (
        active is not None
        and active.state not in ACTIVE_STATES
        and not queue.has_pending(device.pk)
    )


def _store_changed_values(device: Device, message: soap.Inform, codes: set[str]) -> None:
    """A `4 VALUE CHANGE` Inform carries the changed values: store them with the device's
    live values (periodic Informs skip this, to stay cheap)."""
    if "4 VALUE CHANGE" not in codes:
        return
    merge_values(
        device.pk, [{"name": p.name, "value": p.value, "type": p.type} for p in message.parameters]
    )


def _announce_inform(
    device: Device, events: list[tuple[str, str]], address: str, params: dict[str, str]
) -> None:
    """Tell subscribers (device log, webhooks, metrics) what this Inform said."""
    where = {"device_id": device.pk, "organization_id": device.organization_id}
    codes = {code for code, _ in events}
    announce("session.inform", events=[list(e) for e in events], address=address, **where)
    if "0 BOOTSTRAP" in codes:
        announce("device.bootstrapped", events=[list(e) for e in events], **where)
    if "1 BOOT" in codes:
        announce("device.booted", events=[list(e) for e in events], **where)
    if "4 VALUE CHANGE" in codes and wanted("parameter.changed"):
        announce("parameter.changed", values=dict(params), **where)


def _sessions():
    return CwmpSession.objects.select_related("device", "device__type", "current_task")


_SESSION_BY_KEY = hotsql.Lookup(lambda key: _sessions().filter(key=key)[:1], str)
_SESSION_OF_DEVICE = hotsql.Lookup(
    lambda device_id: _sessions().filter(device_id=device_id)[:1], int
)
# Sessions of the devices sharing a username (one a device: few rows), live or not yet swept.
_SESSIONS_OF_USERNAME = hotsql.Lookup(
    lambda username: _sessions().filter(device__username=username), str
)
_DEVICE_WITH_TYPE = hotsql.Lookup(
    lambda pk: Device.objects.select_related("type").filter(pk=pk)[:1], int
)
_SESSION_FOR_UPDATE = hotsql.Lookup(
    lambda device_id: CwmpSession.objects.select_for_update().filter(device_id=device_id)[:1],
    int,
)


def _fresh(session: CwmpSession | None) -> CwmpSession | None:
    """The session if it is still live (the one rule: `SESSION_TIMEOUT` since its last
    request)."""
    if session is None or session.last_activity < timezone.now() - SESSION_TIMEOUT:
        return None
    return session


def _session_by_cookie(cookie: str) -> CwmpSession | None:
    return _fresh(_SESSION_BY_KEY.first(cookie))


def _session_by_credentials(request: Request) -> tuple[CwmpSession | None, Reply | None]:
    """For CPEs that drop cookies: the live session of the device whose credentials this
    very request proves (never the address: devices behind a NAT or CGNAT share one).
    Returns the session, or the refusal of a header that proves nothing."""
    username = digest.claimed_username(request.authorization)
    if not username:
        return None, _refused(request)
    sessions = [s for s in _SESSIONS_OF_USERNAME.all(username) if _fresh(s) is not None][:2]
    # Without a live session the header is still checked (a session that had nothing to
    # do has no row), so that the answer never tells whether a session is open.
    devices = [s.device for s in sessions] or _devices_by_username(username)
    device, refusal = _prove_any(request, devices)
    if device is None:
        return None, refusal
    return next((s for s in sessions if s.device_id == device.pk), None), None


def _touch(session: CwmpSession, **fields) -> None:
    # The in-memory row is not updated: every caller answers right after, and the next
    # request reads the row afresh.
    fields["last_activity"] = timezone.now()
    hotsql.update_fields(CwmpSession, session.pk, fields)


def _cpe_request(device: Device, cwmp_ns: str, envelope: soap.Envelope) -> Reply:
    message = envelope.body
    if isinstance(message, soap.TransferComplete):
        engine.on_transfer_complete(
            device, message.command_key, message.fault_code, message.fault_string
        )
        answer = soap.TransferCompleteResponse()
    elif isinstance(message, soap.AutonomousTransferComplete):
        answer = soap.AutonomousTransferCompleteResponse()
    else:  # GetRPCMethods
        answer = soap.GetRPCMethodsResponse(ACS_RPC_METHODS)
    return _soap(soap.Envelope(answer, cwmp_id=envelope.cwmp_id, cwmp_ns=cwmp_ns))


@transaction.atomic(savepoint=False)  # within the request's transaction: no savepoint
def _finish_task(task: DeviceTask, envelope: soap.Envelope) -> None:
    message = envelope.body
    now = timezone.now()
    if isinstance(message, soap.Fault):
        task.state = TaskState.FAILED
        task.fault_code = message.fault_code
        detail = "; ".join(
            f"{f.name}: {f.code} {f.string or describe(f.code)}"
            for f in message.set_parameter_value_faults
        )
        task.fault_string = (message.fault_string or describe(message.fault_code)) + (
            f" ({detail})" if detail else ""
        )
        task.finished_at = now
        task.save(update_fields=["state", "fault_code", "fault_string", "finished_at"])
        announce(
            "rpc.fault",
            device_id=task.device_id,
            method=task.method,
            code=task.fault_code,
            message=task.fault_string,
            task_id=task.pk,
            operation_pk=task.operation_id,
        )
        engine.on_task_fault(task, message.fault_code, task.fault_string)
        return
    task.state = TaskState.DONE
    task.response = rpc.flatten(message)
    task.finished_at = now
    hotsql.update_fields(
        DeviceTask,
        task.pk,
        {"state": task.state, "response": task.response, "finished_at": now},
    )
    announce(
        "rpc.answered",
        device_id=task.device_id,
        method=task.method,
        task_id=task.pk,
        operation_pk=task.operation_id,
    )
    engine.on_task_response(task, task.response)
    answered(task, task.response)


def _next_rpc(session: CwmpSession) -> Reply:
    device = session.device
    while True:
        task = queue.next_task(device.pk)
        if task is None:
            return _out(device, _end(session))
        if task.attempts >= max_attempts():
            # Sent that often and every time the session broke before the answer: the
            # device cannot do it, and sending it again would only break it once more.
            _give_up(task)
            continue
        try:
            message = rpc.build_request(device, task.method, task.args)
            # Serialized before it is marked sent: a stored value XML cannot carry (one
            # that reached the database before the API refused such values) fails this
            # task and its operation, never the session; so do stored args of the wrong
            # shape (a list where an object belongs: AttributeError on `.get`).
            body = soap.serialize(
                soap.Envelope(message, cwmp_id=str(task.pk), cwmp_ns=session.cwmp_ns)
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            task.state, task.fault_string = TaskState.FAILED, f"not sent: {_unsendable(exc, task)}"
            task.save(update_fields=["state", "fault_string"])
            engine.on_task_fault(task, 0, task.fault_string)
            continue
        task.state = TaskState.SENT
        task.session_key = session.key
        task.sent_at = timezone.now()
        task.attempts += 1
        hotsql.update_fields(
            DeviceTask,
            task.pk,
            {
                "state": task.state,
                "session_key": task.session_key,
                "sent_at": task.sent_at,
                "attempts": task.attempts,
            },
        )
        engine.on_task_sent(task)
        _touch(session, stage="acs_requests", current_task=task, rpc_count=session.rpc_count + 1)
        return _out(device, _xml(body))


def _unsendable(exc: Exception, task: DeviceTask) -> str:
    """Why a task cannot be sent: the parameter whose value XML cannot carry, if that is it."""
    args = task.args if isinstance(task.args, dict) else {}
    for item in args.get("parameters") or ():
        if not isinstance(item, dict):
            continue
        for key in ("name", "value"):
            text = item.get(key)
            found = textcheck.problem(text) if isinstance(text, str) else None
            if found:
                return f"the {key} of {str(item.get('name'))!r} {found}"
    return f"cannot build request: {exc}"


def _give_up(task: DeviceTask) -> None:
    """A requeued RPC reached the attempt limit: it fails, and its operation with it."""
    how = "did not answer" if task.fault_string == queue.NOT_ANSWERED else "dropped the session"
    task.state = TaskState.FAILED
    task.fault_string = f"the device {how} {task.attempts} times while executing {task.method}"
    task.finished_at = timezone.now()
    task.save(update_fields=["state", "fault_string", "finished_at"])
    engine.on_task_abandoned(task, task.fault_string)


def _unanswered(task: DeviceTask) -> None:
    """The device moved on without answering the RPC we sent: resend later, or give up."""
    if task.attempts >= max_attempts():
        task.fault_string = queue.NOT_ANSWERED
        _give_up(task)
    else:
        DeviceTask.objects.filter(pk=task.pk, state=TaskState.SENT).update(
            state=TaskState.QUEUED, session_key="", fault_string=queue.NOT_ANSWERED
        )


_CPE_REQUESTS = (soap.TransferComplete, soap.AutonomousTransferComplete, soap.GetRPCMethods)


def _continue_stateless(
    request: Request, device_id: int, cwmp_ns: str, envelope: soap.Envelope | None
) -> Reply:
    """A request of a session that had nothing to do when it started."""
    message = envelope.body if envelope is not None else None
    if isinstance(message, _CPE_REQUESTS):
        device = _DEVICE_WITH_TYPE.first(device_id)
        if device is None:
            return Reply(204)
        return _out(device, _cpe_request(device, cwmp_ns, envelope))
    if not queue.has_pending(device_id):
        return Reply(204)  # the common case: nothing to do, nothing written
    promoted = _fresh(_SESSION_OF_DEVICE.first(device_id))
    if promoted is not None:
        # Promoted to a database session earlier, and the device kept the first cookie.
        return _continue_session(request, promoted, envelope)
    if queue.next_task(device_id) is None:
        return Reply(204)
    # Work was queued since the Inform: take the device's session lock and send it now.
    device = _DEVICE_WITH_TYPE.first(device_id)
    if device is None:
        return Reply(204)
    with transaction.atomic():
        session = _open_session(device, soap.Envelope(None, cwmp_ns=cwmp_ns))
        if session is None:
            return Reply(204)
        session.device = device
        reply = _next_rpc(session)
    reply.cookie = session.key
    return reply


def _continue(request: Request, envelope: soap.Envelope | None) -> Reply:
    stateless = parse_stateless_cookie(request.cookie)
    if stateless is not None:
        return _continue_stateless(request, *stateless, envelope)
    session = _session_by_cookie(request.cookie) if request.cookie else None
    if session is None and request.authorization:
        session, refusal = _session_by_credentials(request)
        if refusal is not None:
            return refusal
    if session is None:
        if envelope is None:
            return Reply(204)  # nothing to do for a stray empty POST
        return Reply(400, b"no CWMP session: start with an Inform")
    return _continue_session(request, session, envelope)


def _continue_session(
    request: Request, session: CwmpSession, envelope: soap.Envelope | None
) -> Reply:
    _debug(session.device, "in", request.body)
    # One transaction a request: the answer's effects, the next RPC marked sent, its
    # operation dispatched and the session's stage commit together (one commit, one WAL
    # flush, where autocommit made three), and a failure half-way leaves none of them.
    with transaction.atomic():
        return _step(session, envelope)


def _step(session: CwmpSession, envelope: soap.Envelope | None) -> Reply:
    message = envelope.body if envelope is not None else None
    if isinstance(message, _CPE_REQUESTS):
        _touch(session)
        return _out(session.device, _cpe_request(session.device, session.cwmp_ns, envelope))
    task = session.current_task
    if task is not None and task.state == TaskState.SENT:
        if message is None:
            _unanswered(task)
        elif isinstance(message, soap.Fault) or rpc.response_matches(task.method, message):
            _finish_task(task, envelope)
        else:
            log.warning(
                "device %s answered %s to %s", session.device_id, message.METHOD, task.method
            )
            _unanswered(task)
    elif (
        task is not None
        and task.state == TaskState.CANCELLED
        and message is not None
        and (isinstance(message, soap.Fault) or rpc.response_matches(task.method, message))
    ):
        # Withdrawn while on the wire (its operation was cancelled or ended): the answer
        # changes nothing, but the operation's record says it came.
        engine.on_late_answer(task, answered=not isinstance(message, soap.Fault))
    return _next_rpc(session)


def _out(device: Device, reply: Reply) -> Reply:
    _debug(device, "out", reply.body)
    return reply


def _debug(device: Device, direction: str, body: bytes) -> None:
    if device.debug and body:
        from linesman.cwmp.debuglog import record_exchange

        record_exchange(device, direction, body)


def handle(request: Request) -> Reply:
    """Serve one HTTP request of a CWMP session."""
    try:
        envelope = soap.parse(request.body)
    except soap.UnknownMethodError as exc:
        fault = soap.Fault(8000, f"Method not supported: {exc.method}")
        return _soap(soap.Envelope(fault, cwmp_id=exc.cwmp_id, cwmp_ns=exc.cwmp_ns))
    except soap.SoapParseError as exc:
        return Reply(400, f"malformed CWMP message: {exc}"[:500].encode())
    if envelope is not None and isinstance(envelope.body, soap.Inform):
        return _start(request, envelope)
    return _continue(request, envelope)
