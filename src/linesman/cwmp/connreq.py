"""Connection requests: asking a device to open a CWMP session now (TR-069 3.2.2).

An HTTP GET to the device's ConnectionRequestURL. The first GET carries no credentials; the
device's 401 challenge says how to authenticate: Digest when it offers Digest (TR-069's
default), Basic only when Basic is all it offers, so the password never travels in clear
to a device that did not ask for it. Before any request the target passes the address
policy of `netpolicy` (the URL is device-reported: no probing of internal services).

Every attempt ends in an `Outcome` whose `cause` classifies a failure for API users (bulk
job error summaries, the WHIP endpoint's 503); the raw upstream error stays in
ConnectionRequestLog for operators. One at a time from tasks, or many at once with bounded
concurrency.

A device behind NAT cannot be reached by HTTP: `send` tries the methods of its type in
order (`DeviceType.connection_request_methods`: "http", "udp" for TR-069 Annex G through
the address the STUN server recorded, "xmpp" for Annex K), stops at the first that works,
and logs each attempt with its method. The many-at-once fan-out (bulk jobs) is HTTP only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from linesman.core import hotsql
from linesman.core.events import announce
from linesman.cwmp import netpolicy
from linesman.cwmp.models import ConnectionRequestLog
from linesman.httpwire import client as wire
from linesman.httpwire.digest import ClientAuth, basic_header, split_scheme, usable_digest
from linesman.inventory.models import CONNECTION_REQUEST_METHODS, Device

if TYPE_CHECKING:  # imported where used: only TLS requests load it (and httpx)
    from linesman.cwmp import connreq_tls

log = logging.getLogger(__name__)

#: A request's bound, connecting included (the lean client has one deadline per request;
#: the TLS path, `connreq_tls`, bounds the connecting apart, as does a name's resolution).
REQUEST_TIMEOUT = 3.0
CONNECT_TIMEOUT = 2.0
_MAX_ANSWER = 64 * 1024  # a connection request's answer has no use for a body
_USER_AGENT = "Linesman-ACS"


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building one per client cost a third of the CPU of a
    10,000-device connection request fan-out."""
    return ssl.create_default_context()


FANOUT_CONCURRENCY = 100

#: Failure causes, as API users see them (bulk `error_summary` keys, the WHIP 503), and
#: what each means in words. Never the upstream error text: that would make the ACS a port
#: scanner's oracle.
CAUSES: dict[str, str] = {
    "no_connection_url": "the device has not reported a connection request URL",
    "bad_url": "its connection request URL is not a usable http(s) URL",
    "host_not_found": "the host name of its connection request URL does not resolve",
    "address_not_allowed": (
        "its connection request URL points to an address this server does not contact"
    ),
    "connection_refused": "the device refused the connection",
    "connection_timeouts": "the device did not answer in time",
    "connection_failures": "the connection to the device failed",
    "authentication_failures": "the device did not accept the connection request credentials",
    "http_error": "the device answered with an HTTP error status",
    "no_udp_address": "the device has not registered a UDP address with the STUN server",
    "no_xmpp_jid": "the device has not reported an XMPP address (ConnReqJabberID)",
    "xmpp_not_configured": "this server has no XMPP account (LINESMAN_XMPP_JID)",
    "xmpp_unavailable": "this server cannot log in to its XMPP server",
    "not_confirmed": "the device did not open a session after the UDP connection request",
}

METHODS = CONNECTION_REQUEST_METHODS


#: Causes a retry cannot change: the URL stays refused until the device reports another.
PERMANENT_CAUSES = frozenset(
    {
        "no_connection_url",
        "bad_url",
        "address_not_allowed",
        "no_udp_address",
        "no_xmpp_jid",
        "xmpp_not_configured",
    }
)


@dataclass(frozen=True)
class Outcome:
    device_id: int
    ok: bool
    status_code: int | None
    cause: str  # "" when ok, else a key of CAUSES
    elapsed_ms: int
    detail: str = ""  # the raw upstream error, for ConnectionRequestLog only
    method: str = "http"
    target: str = ""  # what was contacted, for ConnectionRequestLog (URL, UDP address, JID)

    @property
    def error(self) -> str:
        """The failure in words, safe to show API users ("" when ok)."""
        return CAUSES.get(self.cause, self.cause)


class _UnusableChallenge(Exception):
    """The device's Digest challenge cannot be answered (malformed, unknown algorithm)."""


def _error_cause(exc: Exception) -> str:
    if isinstance(exc, _UnusableChallenge):
        return "authentication_failures"
    if isinstance(exc, wire.HttpTimeout):
        return "connection_timeouts"
    if isinstance(exc, wire.HttpClientError) and wire.refused(exc):
        return "connection_refused"
    return "connection_failures"


def _status_cause(status_code: int) -> str:
    if status_code in (200, 204):
        return ""
    if status_code in (401, 403):
        return "authentication_failures"
    return "http_error"


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _from_response(device: Device, started: float, status_code: int) -> Outcome:
    cause = _status_cause(status_code)
    detail = f"HTTP {status_code}" if cause else ""
    return Outcome(device.pk, not cause, status_code, cause, _elapsed(started), detail)


def _from_error(device: Device, started: float, exc: Exception) -> Outcome:
    detail = f"{type(exc).__name__}: {exc}"
    return Outcome(device.pk, False, None, _error_cause(exc), _elapsed(started), detail)


def _refusal(device: Device, started: float, exc: netpolicy.NotAllowed) -> Outcome:
    return Outcome(device.pk, False, None, exc.cause, _elapsed(started), f"{exc.cause}: {exc}")


def _log_row(device: Device, outcome: Outcome) -> ConnectionRequestLog:
    return ConnectionRequestLog(
        device=device,
        method=outcome.method,
        url=(outcome.target or device.connection_request_url)[:500],
        ok=outcome.ok,
        status_code=outcome.status_code,
        error=outcome.detail[:300],
        elapsed_ms=outcome.elapsed_ms,
    )


def _record(device: Device, outcome: Outcome) -> Outcome:
    _log_row(device, outcome).save()
    _announce(device, outcome)
    return outcome


def _announce(device: Device, outcome: Outcome) -> None:
    announce(
        "connection_request.sent",
        device_id=device.pk,
        organization_id=device.organization_id,
        method=outcome.method,
        outcome=outcome.cause or "ok",
    )


def methods_of(device: Device) -> list[str]:
    """The connection request methods for the device, in order: its type's connection
    profile's where the profile sets them, else the type's own (unknown ones dropped;
    "http" when none is left)."""
    from linesman.connprofiles.services import effective

    chosen = effective(device.type if device.type_id else None).connection_request_methods
    methods = [m for m in dict.fromkeys(chosen) if m in METHODS]
    return methods or ["http"]


def reachable(device: Device) -> bool:
    """Whether any of the device's methods has somewhere to send a request to."""
    targets = {
        "http": bool(device.connection_request_url),
        "udp": bool(device.udp_connection_request_address),
        "xmpp": bool(device.xmpp_jid),
    }
    return any(targets[m] for m in methods_of(device))


def send(device: Device, confirm_timeout: float = 5.0) -> Outcome:
    """One connection request, synchronously, by each method of the device's type in turn
    until one works; every attempt is recorded, the last is returned.

    A UDP request has no answer: when another method follows, it counts only once the
    device opened a session (within `confirm_timeout`); as the last method it counts as
    sent."""
    from linesman.reach import methods as reach

    chosen = methods_of(device)
    outcomes: list[Outcome] = []
    for index, method in enumerate(chosen):
        if method == "http":
            outcome = _send_http(device)
        else:
            more = index < len(chosen) - 1
            started = time.monotonic()
            attempt = reach.send(device, method, confirm_timeout if more else 0.0)
            outcome = Outcome(
                device.pk,
                attempt.ok,
                None,
                attempt.cause,
                _elapsed(started),
                attempt.detail,
                method=method,
                target=attempt.target,
            )
            _record(device, outcome)
        outcomes.append(outcome)
        if outcome.ok:
            return outcome
    # The cause that decides about retries: a transient one wins over "nowhere to send".
    transient = [o for o in outcomes if o.cause not in PERMANENT_CAUSES]
    return (transient or outcomes)[-1]


def _send_http(device: Device) -> Outcome:
    """One HTTP connection request; the outcome is recorded."""
    if not device.connection_request_url:
        return _record(
            device, Outcome(device.pk, False, None, "no_connection_url", 0, "no URL reported")
        )
    return _record(device, _request_http(device))


def _request_http(device: Device) -> Outcome:
    """One HTTP connection request to the device's URL, synchronously (not recorded)."""
    started = time.monotonic()
    try:
        target = netpolicy.check(device.connection_request_url)
    except netpolicy.NotAllowed as exc:
        return _refusal(device, started, exc)
    if not target.sni_hostname and target.url.startswith("http://"):
        return asyncio.run(_plain_get(device, target, started))
    from linesman.cwmp import connreq_tls

    try:
        status = connreq_tls.get(
            target,
            device.connection_request_username,
            device.connection_request_password,
            context=_ssl_context(),
            request_timeout=REQUEST_TIMEOUT,
            connect_timeout=CONNECT_TIMEOUT,
        )
    except connreq_tls.Failed as exc:
        return _failed_tls(device, started, exc)
    return _from_response(device, started, status)


def _failed_tls(device: Device, started: float, exc: connreq_tls.Failed) -> Outcome:
    return Outcome(device.pk, False, None, exc.cause, _elapsed(started), exc.detail)


async def _plain_get(device: Device, target: netpolicy.Target, started: float) -> Outcome:
    """A connection request over plain HTTP on the lean client: a bare GET and, when the
    device challenges it, a second one answering the challenge, on the same connection
    when the device keeps it open. Credentials go only in the scheme the challenge asks
    for: Digest when it offers Digest, Basic only when Basic is all it offers."""
    try:
        where = dataclasses.replace(wire.parse_url(target.url), host_header=target.host_header)
    except ValueError as exc:
        return Outcome(device.pk, False, None, "bad_url", _elapsed(started), str(exc))
    # One pool per device: a connection is reused for the challenge's answer only, never
    # by another device's request.
    pool = wire.ConnectionPool(user_agent=_USER_AGENT, max_idle=1)
    try:
        answer = await pool.request("GET", where, [], timeout=REQUEST_TIMEOUT, max_body=_MAX_ANSWER)
        username = device.connection_request_username
        if answer.status == 401 and username:
            authorization = _answer_challenge(
                answer, username, device.connection_request_password, where.path
            )
            if authorization is not None:
                answer = await pool.request(
                    "GET",
                    where,
                    [("Authorization", authorization)],
                    timeout=REQUEST_TIMEOUT,
                    max_body=_MAX_ANSWER,
                )
        return _from_response(device, started, answer.status)
    except (wire.HttpClientError, _UnusableChallenge) as exc:
        return _from_error(device, started, exc)
    finally:
        await pool.aclose()


def _answer_challenge(
    answer: wire.ClientResponse, username: str, password: str, uri: str
) -> str | None:
    """The Authorization header answering a 401's challenge, or None when it offers no
    scheme we answer (the 401 is then final); _UnusableChallenge for a Digest challenge
    that cannot be answered (never Basic instead: the device asked for Digest)."""
    offered = [value for name, value in answer.headers if name == "www-authenticate"]
    digests = [rest for scheme, rest in map(split_scheme, offered) if scheme == "digest"]
    if digests:
        usable = [rest for rest in digests if usable_digest(rest)]
        if not usable:
            raise _UnusableChallenge("unusable Digest challenge")
        auth = ClientAuth(username, password)
        auth.take_challenge([f"Digest {usable[0]}"])
        return auth.authorization("GET", uri)
    if any(split_scheme(value)[0] == "basic" for value in offered):
        return basic_header(username, password)
    return None


async def _send_async(client, sem: asyncio.Semaphore, device: Device) -> Outcome:
    """One request of a fan-out: on the lean client, or on `client` (connreq_tls's) for
    TLS."""
    async with sem:
        started = time.monotonic()
        try:
            target = await netpolicy.check_async(device.connection_request_url, CONNECT_TIMEOUT)
        except netpolicy.NotAllowed as exc:
            return _refusal(device, started, exc)
        if client is None:
            return await _plain_get(device, target, started)
        from linesman.cwmp import connreq_tls

        try:
            status = await connreq_tls.get_async(
                client,
                target,
                device.connection_request_username,
                device.connection_request_password,
            )
        except connreq_tls.Failed as exc:
            return _failed_tls(device, started, exc)
        return _from_response(device, started, status)


def _plain_http(url: str) -> bool:
    """Whether a URL goes over plain HTTP (the lean client); anything else, https and URLs
    the policy will refuse, takes the TLS path (`connreq_tls`), which classifies them."""
    return url[:7].lower() == "http://"


def send_many(devices: Iterable[Device], concurrency: int = FANOUT_CONCURRENCY) -> list[Outcome]:
    """Connection requests to many devices at once, at most `concurrency` in flight."""
    targets = [d for d in devices if d.connection_request_url]

    async def run() -> list[Outcome]:
        sem = asyncio.Semaphore(concurrency)
        plain = [d for d in targets if _plain_http(d.connection_request_url)]
        tls = [d for d in targets if not _plain_http(d.connection_request_url)]
        sends = [_send_async(None, sem, d) for d in plain]
        if not tls:
            return list(await asyncio.gather(*sends))
        from linesman.cwmp import connreq_tls

        async with connreq_tls.client(
            concurrency,
            context=_ssl_context(),
            request_timeout=REQUEST_TIMEOUT,
            connect_timeout=CONNECT_TIMEOUT,
        ) as client:
            sends += [_send_async(client, sem, d) for d in tls]
            return list(await asyncio.gather(*sends))

    if len(targets) == 1:
        # A job's steady state (one operation ended, the next device starts): an event
        # loop and an async client would cost more than the request itself.
        outcomes = [_request_http(targets[0])]
    else:
        outcomes = asyncio.run(run()) if targets else []
    by_id = {d.pk: d for d in targets}
    rows = [_log_row(by_id[o.device_id], o) for o in outcomes]
    if len(rows) == 1:
        hotsql.insert(rows[0])  # the steady state: bulk_create's compiling costs more
    else:
        ConnectionRequestLog.objects.bulk_create(rows)
    for outcome in outcomes:
        _announce(by_id[outcome.device_id], outcome)
    return outcomes


def probe_and_wait(devices: list[Device], total_timeout: float = 10.0) -> dict[int, bool]:
    """Ask each device to connect and wait (bounded) until it has; {device id: came back}."""
    start = timezone.now()
    deadline = time.monotonic() + total_timeout
    outcomes = {o.device_id: o.ok for o in send_many(devices)}
    waiting = {pk for pk, ok in outcomes.items() if ok}
    back: dict[int, bool] = {d.pk: False for d in devices}
    while waiting and time.monotonic() < deadline:
        for pk in Device.objects.filter(pk__in=waiting, last_connection__gte=start).values_list(
            "pk", flat=True
        ):
            back[pk] = True
            waiting.discard(pk)
        if waiting:
            time.sleep(0.1)
    return back
