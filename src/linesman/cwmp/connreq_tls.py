"""Connection requests over TLS (https ConnectionRequestURLs), through httpx.

Plain HTTP, what almost every CPE reports, goes through the lean client in `connreq`; a
device that asks for https gets httpx's TLS. This module is imported only when such a
request is made, so the processes serving a plain-HTTP fleet never load httpx (about 10 MB
each, with httpcore and its command line's rich and pygments).

Credentials follow the device's challenge as on the plain path: none on the first GET;
Digest when the 401 offers Digest, Basic only when Basic is all it offers.
"""

from __future__ import annotations

import ssl
from collections.abc import Generator

import httpx

from linesman.cwmp.netpolicy import Target
from linesman.httpwire.client import refused
from linesman.httpwire.digest import basic_header


class Failed(Exception):
    """The request failed: `cause` classifies it (a key of `connreq.CAUSES`), `detail` is the
    raw error for ConnectionRequestLog."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail


class _UnusableChallenge(httpx.ProtocolError):
    """The device's Digest challenge cannot be answered; raised inside httpx's auth flow,
    which lets only its own errors through."""


class ChallengeAuth(httpx.Auth):
    """Credentials only in the scheme the device's 401 challenge asks for (httpx's
    DigestAuth answers Digest, fed the 401 it would otherwise have asked for itself)."""

    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password

    def __repr__(self) -> str:  # never show the password
        return f"ChallengeAuth({self._username!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        if response.status_code != 401:
            return
        schemes = {
            value.strip().partition(" ")[0].lower()
            for value in response.headers.get_list("www-authenticate")
        }
        if "digest" in schemes:
            digest = httpx.DigestAuth(self._username, self._password).auth_flow(request)
            next(digest)  # the bare request: already sent, `response` is its answer
            try:
                retry = digest.send(response)
            except StopIteration:
                return
            # A field without "=", no realm, an algorithm or qop httpx does not know.
            except (ValueError, KeyError, httpx.ProtocolError) as exc:
                raise _UnusableChallenge("unusable Digest challenge", request=request) from exc
            yield retry
        elif "basic" in schemes:
            request.headers["Authorization"] = basic_header(self._username, self._password)
            yield request


def _auth(username: str, password: str) -> httpx.Auth | None:
    return ChallengeAuth(username, password) if username else None


def _failed(exc: Exception) -> Failed:
    if isinstance(exc, _UnusableChallenge):
        cause = "authentication_failures"
    elif isinstance(exc, httpx.TimeoutException):
        cause = "connection_timeouts"
    elif isinstance(exc, httpx.ConnectError) and refused(exc):
        cause = "connection_refused"
    elif isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        cause = "bad_url"
    else:
        cause = "connection_failures"
    return Failed(cause, f"{type(exc).__name__}: {exc}")


def _timeout(request_timeout: float, connect_timeout: float) -> httpx.Timeout:
    return httpx.Timeout(request_timeout, connect=connect_timeout)


def get(
    target: Target,
    username: str,
    password: str,
    *,
    context: ssl.SSLContext,
    request_timeout: float,
    connect_timeout: float,
) -> int:
    """One connection request; its answer's status code, or Failed."""
    try:
        with httpx.Client(
            timeout=_timeout(request_timeout, connect_timeout), trust_env=False, verify=context
        ) as client:
            response = client.get(
                target.url, auth=_auth(username, password), **target.request_options()
            )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _failed(exc) from exc
    return response.status_code


def client(
    concurrency: int, *, context: ssl.SSLContext, request_timeout: float, connect_timeout: float
) -> httpx.AsyncClient:
    """The client a fan-out's TLS requests share (no keep-alive: one request a device)."""
    return httpx.AsyncClient(
        timeout=_timeout(request_timeout, connect_timeout),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=0),
        trust_env=False,
        verify=context,
    )


async def get_async(client: httpx.AsyncClient, target: Target, username: str, password: str) -> int:
    """`get` on a fan-out's shared client."""
    try:
        response = await client.get(
            target.url, auth=_auth(username, password), **target.request_options()
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _failed(exc) from exc
    return response.status_code
