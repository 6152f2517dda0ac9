"""One simulated CPE: its data model, how it answers each ACS RPC, and what it remembers.

`SimulatedDevice` is synchronous and knows nothing about HTTP: `handle()` takes a request
message from the codec and returns the response message (or a Fault) a real CPE would send.
Work a CPE does after the session (reboot, factory reset, download, scheduled inform,
diagnostics) is only recorded here; the device's agent (runner.py) carries it out.

Tests read ``journal`` (every RPC received: method, key arguments, time) and ``counters``.
"""

from __future__ import annotations

import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from linesman.cwmp import soap
from linesman.cwmp.faults import describe
from linesman.simulator.datamodel import (
    INVALID_ARGUMENTS,
    NOTIFICATION_REJECTED,
    RESOURCES_EXCEEDED,
    DataModel,
    ModelFault,
    Tree,
    parse_bool,
)
from linesman.simulator.identity import Identity, Profile

METHOD_NOT_SUPPORTED = 9000
UNSUPPORTED_PROTOCOL = 9013

SUPPORTED_METHODS = (
    "GetRPCMethods",
    "GetParameterNames",
    "GetParameterValues",
    "SetParameterValues",
    "GetParameterAttributes",
    "SetParameterAttributes",
    "AddObject",
    "DeleteObject",
    "Reboot",
    "FactoryReset",
    "Download",
    "ScheduleInform",
)
FIRMWARE_IMAGE = "1 Firmware Upgrade Image"
FILE_TYPES = frozenset(
    {FIRMWARE_IMAGE, "2 Web Content", "3 Vendor Configuration File", "4 Tone File", "5 Ringer File"}
)
MAX_PENDING_DOWNLOADS = 3
# Events of which an Inform carries at most one (TR-069 table 7); "M ..." events repeat per key.
_SINGLE_EVENTS = frozenset(
    {
        "0 BOOTSTRAP",
        "1 BOOT",
        "2 PERIODIC",
        "3 SCHEDULED",
        "4 VALUE CHANGE",
        "6 CONNECTION REQUEST",
        "7 TRANSFER COMPLETE",
        "8 DIAGNOSTICS COMPLETE",
    }
)


_SHARED_EVENTS: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}


def now_iso() -> str:
    """Current UTC time as CWMP dateTime."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One RPC the device received: method name, its key arguments, wall-clock time."""

    method: str
    args: dict[str, Any]
    at: float


@dataclass(slots=True)
class Counters:
    """What happened to one device since it was created."""

    sessions: int = 0  # sessions attempted
    sessions_ok: int = 0
    sessions_failed: int = 0
    informs: int = 0  # InformResponses received
    rpcs: int = 0  # requests received from the ACS
    faults: int = 0  # faults answered
    reboots: int = 0
    factory_resets: int = 0
    downloads: int = 0  # successful
    downloads_failed: int = 0
    connection_requests: int = 0  # accepted
    connection_requests_rejected: int = 0  # failed authentication
    transfer_completes: int = 0  # TransferCompleteResponses received


@dataclass(slots=True)
class PendingDownload:
    request: soap.Download
    due: float  # time.monotonic() at which to start


@dataclass(slots=True)
class PendingTransfer:
    """A TransferComplete to deliver, kept until the ACS acknowledges it."""

    command_key: str
    fault_code: int = 0
    fault_string: str = ""
    start_time: str = soap.UNKNOWN_TIME
    complete_time: str = soap.UNKNOWN_TIME


@dataclass(frozen=True, slots=True)
class InformRecord:
    """An Inform the ACS acknowledged: its events as (code, command key), and when."""

    events: tuple[tuple[str, str], ...]
    at: float
    retry_count: int = 0


@dataclass(frozen=True, slots=True)
class Quirks:
    """How a device misbehaves, for tests of what the ACS does about it (all off by default).

    - ``crash_on``: RPC names on which the device drops the session without answering
      (nothing applied, the connection closed); it comes back with a new session later.
    - ``drop_on_reboot``: the device reboots on a Reboot but never sends the answer.
    - ``hang_on``: RPC names the device never answers; it sits silent in the session for
      ``hang_seconds`` (until the ACS gives up), then abandons it.
    - ``answer_delay``: seconds the device waits before answering ``delay_on`` RPCs (every
      RPC if ``delay_on`` is empty).
    - ``wrong_id_on``: RPC names answered with another cwmp:ID than the request's.
    - ``fault_on``: RPC name -> fault code the device answers instead of acting.
    - ``version_after_transfer``: the SoftwareVersion reported after a firmware download that
      succeeded (e.g. the old one: "TransferComplete but still the old version"); None is
      the downloaded image's version.
    - ``ignore_connreq``: connection requests are answered 200 but no session follows.
    - ``never_connect``: registered but silent: never informs, connection requests unanswered.
    """

    crash_on: frozenset[str] = frozenset()
    drop_on_reboot: bool = False
    hang_on: frozenset[str] = frozenset()
    hang_seconds: float = 3600.0
    answer_delay: float = 0.0
    delay_on: frozenset[str] = frozenset()
    wrong_id_on: frozenset[str] = frozenset()
    fault_on: dict[str, int] = field(default_factory=dict)
    version_after_transfer: str | None = None
    ignore_connreq: bool = False
    never_connect: bool = False

    def delay_for(self, method: str) -> float:
        if self.answer_delay <= 0 or (self.delay_on and method not in self.delay_on):
            return 0.0
        return self.answer_delay


#: The well-behaved device's quirks, shared by every device that has none.
NO_QUIRKS = Quirks()


@dataclass(slots=True)
class _Pending:
    """Post-session work. Kept apart so a device with nothing pending costs one pointer."""

    reboot: str | None = None  # CommandKey of an accepted Reboot
    factory_reset: bool = False
    downloads: list[PendingDownload] = field(default_factory=list)
    scheduled: list[tuple[float, str]] = field(default_factory=list)  # (due, CommandKey)
    diagnostics: list[str] = field(default_factory=list)  # diagnostics objects requested
    transfers: list[PendingTransfer] = field(default_factory=list)


class SimulatedDevice:
    """A CWMP device: answers RPCs from its data model and records what it received.

    Misbehaviour for tests, changeable at any time: ``unreachable`` (never contacts the ACS
    and leaves connection requests unanswered), ``fail_methods`` (RPC names answered with
    fault 9000), ``reject_auth`` (connection requests always get 401, whatever credentials),
    and ``quirks`` (a `Quirks`: crashes, dropped sessions, late or wrong answers, ...).
    """

    __slots__ = (
        "serial",
        "identity",
        "model",
        "firmware",
        "boot_at",
        "boot_count",
        "online",
        "bootstrapped",
        "in_session",
        "connreq_url",
        "connreq_path",
        "udp_address",
        "xmpp_jid",
        "events",
        "counters",
        "unreachable",
        "fail_methods",
        "reject_auth",
        "quirks",
        "wake",
        "_journal",
        "_journal_size",
        "_informs",
        "_pending",
        "_changed",
        "_cwmp_id",
    )

    def __init__(
        self,
        serial: str,
        index: int,
        profile: Profile,
        tree: Tree,
        *,
        journal_size: int = 32,
        bootstrapped: bool = False,
    ) -> None:
        self.serial = serial
        self.identity = Identity(serial, index, profile)
        self.model = DataModel(tree, self.identity, self._dynamic)
        self.firmware = profile.software_version
        self.boot_at = time.monotonic()
        self.boot_count = 0
        self.online = False  # powered on and not rebooting
        self.bootstrapped = bootstrapped  # has completed a session with "0 BOOTSTRAP"
        self.in_session = False
        self.connreq_url = ""
        self.connreq_path = serial
        self.udp_address = ""  # behind NAT: the public binding STUN reported (host:port)
        self.xmpp_jid = ""  # behind NAT: the full JID of its XMPP connection
        self.events: list[tuple[str, str]] = []  # pending Inform events (code, command key)
        self.counters = Counters()
        self.unreachable = False
        self.fail_methods: frozenset[str] = frozenset()
        self.reject_auth = False
        self.quirks: Quirks = NO_QUIRKS
        self.wake: Callable[[], None] | None = None  # set by the agent: "something to do"
        # Created on first use: an empty deque is ~600 bytes, 6 MB over 10,000 devices.
        self._journal: deque[JournalEntry] | None = None
        self._journal_size = journal_size
        self._informs: deque[InformRecord] | None = None
        self._pending: _Pending | None = None
        self._changed: set[str] | None = None  # parameters with a pending value-change notice
        self._cwmp_id = 0

    def __repr__(self) -> str:
        return f"<SimulatedDevice {self.serial} {self.model.tree.flavour}>"

    # ------------------------------------------------------------------ convenience

    @property
    def flavour(self) -> str:
        return self.model.tree.flavour

    @property
    def root(self) -> str:
        return self.model.tree.root

    def ms(self, name: str) -> str:
        """Full path of a ManagementServer parameter for this flavour."""
        return f"{self.model.tree.root}ManagementServer.{name}"

    def get(self, path: str) -> str:
        """A parameter's real value (passwords included), for tests and the agent."""
        return self.model.get(path)

    @property
    def journal(self) -> list[JournalEntry]:
        """RPCs received, oldest first (bounded: the oldest are dropped)."""
        return list(self._journal or ())

    def received(self, method: str) -> list[JournalEntry]:
        """Journal entries of one RPC method."""
        return [entry for entry in self._journal or () if entry.method == method]

    @property
    def informs(self) -> list[InformRecord]:
        """Informs the ACS acknowledged, oldest first (bounded like the journal)."""
        return list(self._informs or ())

    def sent_event(self, code: str, command_key: str | None = None) -> bool:
        """Whether an acknowledged Inform carried ``code`` (and ``command_key`` if given)."""
        return any(
            c == code and (command_key is None or k == command_key)
            for record in self._informs or ()
            for c, k in record.events
        )

    @property
    def pending(self) -> _Pending:
        if self._pending is None:
            self._pending = _Pending()
        return self._pending

    def has_pending_work(self) -> bool:
        p = self._pending
        return p is not None and (p.reboot is not None or p.factory_reset or bool(p.diagnostics))

    def next_cwmp_id(self) -> str:
        self._cwmp_id += 1
        return f"{self.serial}-{self._cwmp_id}"

    def credentials(self) -> tuple[str, str]:
        """(username, password) the device uses towards the ACS."""
        return self.model.get(self.ms("Username")), self.model.get(self.ms("Password"))

    def connreq_credentials(self) -> tuple[str, str]:
        """(username, password) the device expects on connection requests."""
        return (
            self.model.get(self.ms("ConnectionRequestUsername")),
            self.model.get(self.ms("ConnectionRequestPassword")),
        )

    def acs_url(self) -> str:
        return self.model.get(self.ms("URL"))

    def uptime(self) -> int:
        return int(time.monotonic() - self.boot_at)

    def _dynamic(self, key: str, path: str) -> str:
        if key == "uptime":
            return str(self.uptime())
        if key == "software_version":
            return self.firmware
        if key == "connreq_url":
            return self.connreq_url
        if key == "udp_address":
            return self.udp_address
        if key == "xmpp_jid":
            return self.xmpp_jid
        if key == "localtime":
            return now_iso()
        if key == "boot_count":
            return str(self.boot_count)
        if key == "traffic":
            # Grows with uptime at a per-parameter rate, like real counters.
            return str(self.uptime() * (500 + zlib.crc32(path.encode()) % 20000))
        return ""

    # ------------------------------------------------------------------ lifecycle

    def boot(self) -> None:
        """Power on or come back from a reboot: UpTime restarts, BOOT (and BOOTSTRAP on first
        contact or after a factory reset) is queued."""
        self.boot_at = time.monotonic()
        self.boot_count += 1
        self.online = True
        if not self.bootstrapped:
            self.add_event("0 BOOTSTRAP")
        self.add_event("1 BOOT")

    def factory_reset(self) -> None:
        """Back to factory state: every override, row and attribute dropped; must bootstrap."""
        self.model.reset()
        self.bootstrapped = False
        self.events.clear()
        self._changed = None
        if self._pending is not None:
            self._pending.factory_reset = False
            self._pending.reboot = None
            self._pending.downloads.clear()
            self._pending.scheduled.clear()
            self._pending.diagnostics.clear()
        self.counters.factory_resets += 1

    def add_event(self, code: str, command_key: str = "") -> None:
        if code in _SINGLE_EVENTS:
            if any(c == code for c, _k in self.events):
                return
        elif (code, command_key) in self.events:
            return
        self.events.append((code, command_key))

    def has_events(self) -> bool:
        return bool(self.events) or bool(self._pending and self._pending.transfers)

    def inform_events(self) -> list[tuple[str, str]]:
        """The events of the next Inform: pending ones plus those of undelivered transfers."""
        events = list(self.events)
        if self._changed and not any(c == "4 VALUE CHANGE" for c, _k in events):
            events.append(("4 VALUE CHANGE", ""))  # passive changes ride along
        for transfer in self._pending.transfers if self._pending else ():
            if not any(c == "7 TRANSFER COMPLETE" for c, _k in events):
                events.append(("7 TRANSFER COMPLETE", ""))
            if ("M Download", transfer.command_key) not in events:
                events.append(("M Download", transfer.command_key))
        return events

    def build_inform(self, retry_count: int = 0) -> soap.Inform:
        """The Inform this device would send now."""
        model = self.model
        params = []
        changed = self._changed or set()
        for path in dict.fromkeys((*model.tree.inform_params, *sorted(changed))):
            try:
                value, kind = model.read(path)
            except ModelFault:
                continue  # e.g. the WAN row was deleted by the ACS
            params.append(soap.ParameterValue(path, value, kind))
        info = model.tree.root + "DeviceInfo."
        return soap.Inform(
            device_id=soap.DeviceId(
                manufacturer=model.get_or(info + "Manufacturer", ""),
                oui=model.get_or(info + "ManufacturerOUI", ""),
                product_class=model.get_or(info + "ProductClass", ""),
                serial_number=self.serial,
            ),
            events=[soap.EventStruct(code, key) for code, key in self.inform_events()],
            max_envelopes=1,
            current_time=now_iso(),
            retry_count=retry_count,
            parameters=params,
        )

    def inform_acknowledged(self, inform: soap.Inform) -> None:
        """The ACS answered this Inform: its events and value changes are delivered."""
        sent = [(e.code, e.command_key) for e in inform.events]
        self.events = [e for e in self.events if e not in sent]
        if any(code == "0 BOOTSTRAP" for code, _k in sent):
            self.bootstrapped = True
        if self._changed:
            self._changed.difference_update(p.name for p in inform.parameters)
        self.counters.informs += 1
        if self._informs is None:
            self._informs = deque(maxlen=self._journal_size)
        events = tuple(sent)
        if not any(key for _code, key in sent):
            # Most informs carry the same few event lists: share one tuple between them all.
            events = _SHARED_EVENTS.setdefault(events, events)
        self._informs.append(InformRecord(events, time.time(), inform.retry_count))

    def transfer_messages(self) -> list[soap.TransferComplete]:
        return [
            soap.TransferComplete(
                t.command_key, t.fault_code, t.fault_string, t.start_time, t.complete_time
            )
            for t in (self._pending.transfers if self._pending else ())
        ]

    def transfer_acknowledged(self, command_key: str) -> None:
        if self._pending is not None:
            for i, transfer in enumerate(self._pending.transfers):
                if transfer.command_key == command_key:
                    del self._pending.transfers[i]
                    break
        self.counters.transfer_completes += 1

    def set_local(self, path: str, value: str) -> None:
        """Change a value as if the user or the device did it (not the ACS): a parameter with
        passive notification is reported in the next Inform, one with active notification
        also triggers a session with "4 VALUE CHANGE"."""
        self.model.set(path, value)
        notification, _acl = self.model.get_attributes(path)
        if notification:
            if self._changed is None:
                self._changed = set()
            self._changed.add(path)
            if notification == 2:
                self.add_event("4 VALUE CHANGE")
                if self.wake is not None:
                    self.wake()

    # ------------------------------------------------------------------ RPC dispatch

    def _record(self, method: str, args: dict[str, Any]) -> None:
        if self._journal is None:
            self._journal = deque(maxlen=self._journal_size)
        self._journal.append(JournalEntry(method, args, time.time()))
        self.counters.rpcs += 1

    def _fault(
        self, code: int, text: str = "", spv: Iterable[soap.SetParameterValueFault] = ()
    ) -> soap.Fault:
        self.counters.faults += 1
        return soap.Fault(code, text or describe(code), list(spv))

    def handle(self, request: soap.Message) -> soap.Message:
        """Answer one request from the ACS with its response or a Fault."""
        method = request.METHOD
        handler = _HANDLERS.get(type(request))
        self._record(method, _journal_args(request))
        if handler is None or method in self.fail_methods:
            return self._fault(METHOD_NOT_SUPPORTED)
        code = self.quirks.fault_on.get(method)
        if code is not None:
            return self._fault(code)
        try:
            return handler(self, request)
        except ModelFault as exc:
            return self._fault(exc.code, exc.message)

    def note(self, request: soap.Message) -> None:
        """Journal a request the device received but will not act on (it crashes, hangs)."""
        self._record(request.METHOD, _journal_args(request))

    def handle_unknown(self, method: str) -> soap.Fault:
        """Answer a request the codec could not parse because the method is unknown."""
        self._record(method, {})
        return self._fault(METHOD_NOT_SUPPORTED)

    # ------------------------------------------------------------------ the RPCs

    def _get_rpc_methods(self, _req: soap.GetRPCMethods) -> soap.Message:
        return soap.GetRPCMethodsResponse(list(SUPPORTED_METHODS))

    def _get_parameter_names(self, req: soap.GetParameterNames) -> soap.Message:
        names = self.model.names(req.path, req.next_level)
        return soap.GetParameterNamesResponse([soap.ParameterInfo(n, w) for n, w in names])

    def _get_parameter_values(self, req: soap.GetParameterValues) -> soap.Message:
        model = self.model
        result = []
        for name in req.names:
            for path in model.params_under(name):
                value, kind = model.read(path)
                result.append(soap.ParameterValue(path, value, kind))
        return soap.GetParameterValuesResponse(result)

    def _set_parameter_values(self, req: soap.SetParameterValues) -> soap.Message:
        model = self.model
        seen: set[str] = set()
        faults = []
        for pv in req.parameters:
            if pv.name in seen:
                return self._fault(INVALID_ARGUMENTS, f"{pv.name} appears more than once")
            seen.add(pv.name)
            problem = model.validate_set(pv.name, pv.value)
            if problem is not None:
                faults.append(soap.SetParameterValueFault(pv.name, *problem))
        if faults:
            # All or nothing: one bad parameter and nothing is applied (TR-069 A.3.2.1).
            return self._fault(INVALID_ARGUMENTS, "", faults)
        url_before = self.acs_url()
        for pv in req.parameters:
            node = model.param(pv.name)
            model.set(pv.name, pv.value.strip() if node.type != "xsd:string" else pv.value)
            if pv.name.endswith(".DiagnosticsState") and pv.value == "Requested":
                self.pending.diagnostics.append(pv.name[: -len("DiagnosticsState")])
        model.set(self.ms("ParameterKey"), req.parameter_key)
        if self.acs_url() != url_before:
            self.bootstrapped = False  # a new ACS gets a BOOTSTRAP (TR-069 table 7)
        return soap.SetParameterValuesResponse(0)

    def _get_parameter_attributes(self, req: soap.GetParameterAttributes) -> soap.Message:
        model = self.model
        result = []
        for name in req.names:
            for path in model.params_under(name):
                notification, acl = model.get_attributes(path)
                result.append(soap.ParameterAttribute(path, notification, list(acl)))
        return soap.GetParameterAttributesResponse(result)

    def _set_parameter_attributes(self, req: soap.SetParameterAttributes) -> soap.Message:
        model = self.model
        plan: list[tuple[list[str], int | None, list[str] | None]] = []
        for spa in req.parameters:
            paths = model.params_under(spa.name)
            notification = None
            if spa.notification_change:
                notification = spa.notification
                if notification not in (0, 1, 2):
                    raise ModelFault(INVALID_ARGUMENTS, f"invalid Notification {notification}")
                if notification == 2:
                    refused = [p for p in paths if not model.param(p).notify]
                    if refused and not spa.name.endswith("."):
                        raise ModelFault(
                            NOTIFICATION_REJECTED, f"active notification refused for {spa.name}"
                        )
                    paths = [p for p in paths if p not in refused]
            access = None
            if spa.access_list_change:
                access = list(spa.access_list)
                if any(entry != "Subscriber" for entry in access):
                    raise ModelFault(INVALID_ARGUMENTS, "AccessList may only contain Subscriber")
            plan.append((paths, notification, access))
        for paths, notification, access in plan:
            for path in paths:
                model.set_attributes(path, notification, access)
        return soap.SetParameterAttributesResponse()

    def _add_object(self, req: soap.AddObject) -> soap.Message:
        number = self.model.add_object(req.object_name)
        self.model.set(self.ms("ParameterKey"), req.parameter_key)
        return soap.AddObjectResponse(number, 0)

    def _delete_object(self, req: soap.DeleteObject) -> soap.Message:
        self.model.delete_object(req.object_name)
        self.model.set(self.ms("ParameterKey"), req.parameter_key)
        return soap.DeleteObjectResponse(0)

    def _reboot(self, req: soap.Reboot) -> soap.Message:
        self.pending.reboot = req.command_key
        return soap.RebootResponse()

    def _factory_reset(self, _req: soap.FactoryReset) -> soap.Message:
        self.pending.factory_reset = True
        return soap.FactoryResetResponse()

    def _schedule_inform(self, req: soap.ScheduleInform) -> soap.Message:
        if req.delay_seconds < 1:
            raise ModelFault(INVALID_ARGUMENTS, "DelaySeconds must be at least 1")
        self.pending.scheduled.append((time.monotonic() + req.delay_seconds, req.command_key))
        if self.wake is not None:
            self.wake()
        return soap.ScheduleInformResponse()

    def _download(self, req: soap.Download) -> soap.Message:
        scheme = urlsplit(req.url).scheme.lower()
        if scheme not in ("http", "https"):
            raise ModelFault(UNSUPPORTED_PROTOCOL, f"unsupported protocol {scheme!r}")
        if req.file_type not in FILE_TYPES and not req.file_type.startswith("X "):
            raise ModelFault(INVALID_ARGUMENTS, f"unsupported FileType {req.file_type!r}")
        if req.delay_seconds < 0 or req.file_size < 0:
            raise ModelFault(INVALID_ARGUMENTS, "negative DelaySeconds or FileSize")
        if len(self.pending.downloads) >= MAX_PENDING_DOWNLOADS:
            raise ModelFault(RESOURCES_EXCEEDED, "too many pending transfers")
        self.pending.downloads.append(PendingDownload(req, time.monotonic() + req.delay_seconds))
        # Status 1: the download happens after the session, reported by TransferComplete.
        return soap.DownloadResponse(1, soap.UNKNOWN_TIME, soap.UNKNOWN_TIME)

    # ------------------------------------------------------------------ post-session work

    def take_reboot(self) -> str | None:
        """The CommandKey of an accepted Reboot (consumed), or None."""
        if self._pending is None or self._pending.reboot is None:
            return None
        key, self._pending.reboot = self._pending.reboot, None
        return key

    def take_factory_reset(self) -> bool:
        if self._pending is None or not self._pending.factory_reset:
            return False
        self._pending.factory_reset = False
        return True

    def take_due_scheduled(self, now: float) -> list[str]:
        """CommandKeys of ScheduleInforms whose delay has passed (consumed)."""
        if self._pending is None or not self._pending.scheduled:
            return []
        due = [key for when, key in self._pending.scheduled if when <= now]
        self._pending.scheduled = [(w, k) for w, k in self._pending.scheduled if w > now]
        return due

    def take_due_downloads(self, now: float) -> list[PendingDownload]:
        if self._pending is None or not self._pending.downloads:
            return []
        due = [d for d in self._pending.downloads if d.due <= now]
        self._pending.downloads = [d for d in self._pending.downloads if d.due > now]
        return due

    def next_due(self) -> float | None:
        """Earliest monotonic time at which scheduled work (informs, downloads) is due."""
        if self._pending is None:
            return None
        times = [w for w, _k in self._pending.scheduled] + [d.due for d in self._pending.downloads]
        return min(times, default=None)

    def add_transfer(self, transfer: PendingTransfer) -> None:
        self.pending.transfers.append(transfer)

    def take_diagnostics(self) -> list[str]:
        """The diagnostic objects requested in the last session (the agent runs them)."""
        if self._pending is None or not self._pending.diagnostics:
            return []
        requested = list(dict.fromkeys(self._pending.diagnostics))
        self._pending.diagnostics.clear()
        return requested

    def apply_firmware(self, version: str) -> None:
        """Boot into a downloaded image (or report what the quirks say it reports)."""
        reported = self.quirks.version_after_transfer
        self.firmware = version if reported is None else reported

    @property
    def silent(self) -> bool:
        """Neither informs nor answers connection requests (unreachable, or never connects)."""
        return self.unreachable or self.quirks.never_connect

    def periodic_settings(self) -> tuple[bool, int]:
        """(PeriodicInformEnable, PeriodicInformInterval) as currently configured."""
        enabled = parse_bool(self.model.get_or(self.ms("PeriodicInformEnable"), "true"))
        try:
            interval = max(1, int(self.model.get_or(self.ms("PeriodicInformInterval"), "300")))
        except ValueError:
            interval = 300
        return enabled, interval


def _journal_args(req: soap.Message) -> dict[str, Any]:
    """The arguments of a request worth asserting on (passwords left out)."""
    if isinstance(req, soap.GetParameterNames):
        return {"path": req.path, "next_level": req.next_level}
    if isinstance(req, soap.GetParameterValues | soap.GetParameterAttributes):
        return {"names": list(req.names)}
    if isinstance(req, soap.SetParameterValues):
        return {
            "parameters": {p.name: p.value for p in req.parameters},
            "parameter_key": req.parameter_key,
        }
    if isinstance(req, soap.SetParameterAttributes):
        return {
            "parameters": [
                {
                    "name": p.name,
                    "notification": p.notification if p.notification_change else None,
                    "access_list": list(p.access_list) if p.access_list_change else None,
                }
                for p in req.parameters
            ]
        }
    if isinstance(req, soap.AddObject | soap.DeleteObject):
        return {"object_name": req.object_name, "parameter_key": req.parameter_key}
    if isinstance(req, soap.Reboot):
        return {"command_key": req.command_key}
    if isinstance(req, soap.ScheduleInform):
        return {"delay_seconds": req.delay_seconds, "command_key": req.command_key}
    if isinstance(req, soap.Download):
        return {
            "command_key": req.command_key,
            "file_type": req.file_type,
            "url": req.url,
            "username": req.username,
            "file_size": req.file_size,
            "delay_seconds": req.delay_seconds,
        }
    return {}


_HANDLERS: dict[type[soap.Message], Callable[[SimulatedDevice, Any], soap.Message]] = {
    soap.GetRPCMethods: SimulatedDevice._get_rpc_methods,
    soap.GetParameterNames: SimulatedDevice._get_parameter_names,
    soap.GetParameterValues: SimulatedDevice._get_parameter_values,
    soap.SetParameterValues: SimulatedDevice._set_parameter_values,
    soap.GetParameterAttributes: SimulatedDevice._get_parameter_attributes,
    soap.SetParameterAttributes: SimulatedDevice._set_parameter_attributes,
    soap.AddObject: SimulatedDevice._add_object,
    soap.DeleteObject: SimulatedDevice._delete_object,
    soap.Reboot: SimulatedDevice._reboot,
    soap.FactoryReset: SimulatedDevice._factory_reset,
    soap.Download: SimulatedDevice._download,
    soap.ScheduleInform: SimulatedDevice._schedule_inform,
}
