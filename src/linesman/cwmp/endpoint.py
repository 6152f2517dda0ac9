"""The ACS HTTP exchange, independent of how the request arrived (Django view or the lean
WSGI route): size limits, content decoding, cookies.

What a request may cost before it authenticates is bounded: a body over
`session.UNAUTHENTICATED_BODY` is read only for a live session's cookie or a header that
proves a device's credentials; otherwise the answer is the usual 401 challenge (not 413: a
device that sent a large first Inform without credentials answers the challenge and
succeeds), before anything is read. Every answer leaves the connection usable: the body is
read to its end, or, when it is not read, the answer says `Connection: close` (HTTP servers
such as granian would otherwise take the unread body for the next request).

Requests beyond what the threads serve wait in the HTTP server's queue. A saturated
process refuses new sessions (see `admission`: by the count of sessions open, not of
requests in flight; refusing by requests in flight was measured to cost throughput: with 4
threads a process it refused a fifth of the Informs of a load it could serve. Granian's
backpressure is no substitute: it caps connections, not requests, and starved keep-alive
clients.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from linesman.core import throttle
from linesman.cwmp import admission, challenge, digest, session, soap
from linesman.observability import metrics

#: Bodies larger than this are refused before they are read into memory or parsed.
MAX_BODY = 4 * 1024 * 1024


@dataclass
class HttpReply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookie: str | None = None  # the session cookie's value, if one is to be set
    #: The request presented wrong credentials (see `session.Reply.auth_failed`).
    auth_failed: bool = False

    def header_list(self) -> list[tuple[str, str]]:
        """The headers, with the cookie as a Set-Cookie header."""
        if self.cookie is None:
            return self.headers
        return [*self.headers, ("Set-Cookie", f"{session.COOKIE}={self.cookie}; Path=/; HttpOnly")]


def _plain(status: int, text: str, *extra: tuple[str, str]) -> HttpReply:
    return HttpReply(status, text.encode()[:500], [("Content-Type", "text/plain"), *extra])


CLOSE = ("Connection", "close")


def read_up_to(read: Callable[[int], bytes], limit: int) -> bytes:
    """Up to `limit` bytes of the body (fewer only at its end): a stream's read(n) may
    return less than n before the end."""
    chunks, size = [], 0
    while size < limit:
        chunk = read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def drain(read: Callable[[int], bytes], content_length: str, chunked: bool) -> bool:
    """Read and drop a body nobody needs, up to UNAUTHENTICATED_BODY; whether it was all
    read (if not, the answer must close the connection)."""
    if content_length.isascii() and content_length.isdigit():
        if int(content_length) > session.UNAUTHENTICATED_BODY:
            return False
        read_up_to(read, int(content_length))
        return True
    if not chunked:
        return True  # no body
    return len(read_up_to(read, session.UNAUTHENTICATED_BODY + 1)) <= session.UNAUTHENTICATED_BODY


_open_sessions: admission.OpenSessions | None = None


def open_sessions() -> admission.OpenSessions:
    """This process's count of open sessions (made at the first request)."""
    global _open_sessions
    if _open_sessions is None:
        _open_sessions = admission.OpenSessions(
            settings.LINESMAN_ACS_MAX_SESSIONS,
            settings.LINESMAN_ACS_SHED_RETRY_AFTER,
            settings.LINESMAN_ACS_SHED_DELAY,
        )
    return _open_sessions


def exchange(*, cookie: str | None, **rest) -> HttpReply:
    """Serve one request, and count the sessions open in this process and how long their
    requests waited (`admission`)."""
    if cookie:
        open_sessions().arrived(cookie)
    reply = _throttled_exchange(cookie=cookie, **rest)
    if reply.cookie:
        open_sessions().seen(reply.cookie, ended=False, opened=True)  # an Inform opened one
    elif cookie:
        open_sessions().seen(cookie, ended=reply.status != 200)
    return reply


def _throttled_exchange(*, authorization: str, address: str, **rest) -> HttpReply:
    """Serve one request, refusing credentials beyond the brute-force limits unchecked.

    Only requests with an Authorization header can guess, so only they are looked at, and
    only their failures (`HttpReply.auth_failed`, wherever the exchange refused them) are
    counted: per username (a low limit) and per source address (a high one: a CGNAT
    address carries a fleet). A device that authenticates costs no I/O here (see
    `core.throttle.known_blocked`), and while this process knows of no block at all, not
    even the parsing of its header. Refusals are 503 with Retry-After, the answer TR-069
    gives CPEs for "try again later", sent before the body is read (so the connection is
    closed).
    """
    if not authorization:
        return _exchange(authorization=authorization, address=address, **rest)
    limits = None
    if throttle.any_known_blocked():
        limits = _limits(authorization, address)
        wait = throttle.known_blocked(limits)
        if wait is not None:
            return _refused(wait)
    reply = _exchange(authorization=authorization, address=address, **rest)
    if not reply.auth_failed:
        return reply
    wait = throttle.fail(limits or _limits(authorization, address))
    return reply if wait is None else _refused(wait)


def _limits(authorization: str, address: str) -> list[tuple[throttle.Limit, str]]:
    parsed = digest.parse_authorization(authorization)
    identity = parsed[1].get("username", "") if parsed else ""
    return throttle.acs_limits(identity, address)


def _refused(wait: int) -> HttpReply:
    return _plain(
        503,
        "too many failed authentications; try again later",
        ("Retry-After", str(wait)),
        ("Connection", "close"),
    )


def _exchange(
    *,
    method: str,
    read: Callable[[int], bytes],
    content_length: str,
    content_encoding: str | None,
    cookie: str | None,
    authorization: str,
    address: str,
    path: str = "/cwmp/",
    chunked: bool = False,
) -> HttpReply:
    """Serve one request. `path` is the request target (path and query) as sent, which a
    Digest `uri` must name; `chunked`: the body has no Content-Length."""
    small = session.UNAUTHENTICATED_BODY
    if method != "POST":
        extra = () if drain(read, content_length, chunked) else (CLOSE,)
        return _plain(405, "CWMP endpoint: POST SOAP envelopes here\n", ("Allow", "POST"), *extra)
    declared = (
        int(content_length) if (content_length.isascii() and content_length.isdigit()) else None
    )
    if declared is not None and declared > MAX_BODY:
        return _plain(413, "request body too large", CLOSE)
    request = session.Request(
        body=b"", cookie=cookie, authorization=authorization, address=address, path=path
    )
    raw = b""
    if declared is None or declared <= small:
        raw = read_up_to(read, small + 1 if declared is None else declared)
    admitted = False
    if (declared is not None and declared > small) or len(raw) > small:
        refusal = session.admit_large_body(request)
        if refusal is not None:
            return _render(refusal, close=True)  # the rest of the body is left unread
        admitted = True
        raw += read_up_to(read, MAX_BODY + 1 - len(raw))
        if len(raw) > MAX_BODY:
            return _plain(413, "request body too large", CLOSE)
    try:
        body = soap.decode_body(raw, content_encoding, max_bytes=MAX_BODY)
    except soap.SoapParseError as exc:
        return _plain(400, str(exc))
    if len(body) > small and not admitted:
        refusal = session.admit_large_body(request)  # a small compressed body expanded
        if refusal is not None:
            return _render(refusal)
    request.body = body
    if not cookie:
        wait = open_sessions().refusal_wait()
        # A session the ACS asked for (an operator's action) is never refused; a byte
        # test is enough, as a false match only admits.
        if wait is not None and b"6 CONNECTION REQUEST" not in body and soap.is_inform(body):
            metrics.session_shed()
            return _plain(503, "the ACS is saturated; try again later", ("Retry-After", str(wait)))
    if not authorization:
        # Most sessions start with an Inform without credentials: challenge it at once
        # when no device can be served without them (no query, no device lookup).
        refusal = challenge.answer(body)
        if refusal is not None:
            return _render(refusal)
    return _render(session.handle(request))


def _render(reply: session.Reply, close: bool = False) -> HttpReply:
    headers = list(reply.headers.items())
    if reply.body and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "text/plain"))
    headers.append(("Content-Length", str(len(reply.body))))
    if close:
        headers.append(CLOSE)
    failed = reply.auth_failed
    return HttpReply(reply.status, reply.body, headers, reply.cookie or None, auth_failed=failed)
