"""The ACS HTTP exchange, independent of how the request arrived (Django view or the lean
WSGI route): size limits, content decoding, cookies.

Requests beyond what the threads serve wait in the HTTP server's queue. (Refusing new
sessions by a count of requests in flight was measured to cost throughput: with 4 threads a
process it refused a fifth of the Informs of a load it could serve. Granian's backpressure
is no substitute: it caps connections, not requests, and starved keep-alive clients.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from linesman.core import throttle
from linesman.cwmp import digest, session, soap

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


def exchange(*, authorization: str, address: str, **rest) -> HttpReply:
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
) -> HttpReply:
    if method != "POST":
        return _plain(405, "CWMP endpoint: POST SOAP envelopes here\n", ("Allow", "POST"))
    if content_length.isdigit() and int(content_length) > MAX_BODY:
        return _plain(413, "request body too large")
    raw = read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return _plain(413, "request body too large")
    try:
        body = soap.decode_body(raw, content_encoding, max_bytes=MAX_BODY)
    except soap.SoapParseError as exc:
        return _plain(400, str(exc))
    request = session.Request(
        body=body, cookie=cookie, authorization=authorization, address=address
    )
    return _render(session.handle(request))


def _render(reply: session.Reply) -> HttpReply:
    headers = list(reply.headers.items())
    if reply.body and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "text/plain"))
    headers.append(("Content-Length", str(len(reply.body))))
    failed = reply.auth_failed
    return HttpReply(reply.status, reply.body, headers, reply.cookie or None, auth_failed=failed)
