"""HTTP authentication for the simulator, both directions (RFC 7616 Digest and RFC 7617 Basic).

As a client (device -> ACS, device -> file server) `httpwire.digest.ClientAuth` answers
whichever challenge the server sends, like a CPE does; `CpeAuth` is the same for httpx
requests, or sends Basic on every request in ``basic_preemptive`` mode.
As a server (ACS -> device connection requests) `DigestVerifier` issues stateless nonces and
checks responses against each device's own credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Generator

import httpx

from linesman.httpwire.digest import (
    ClientAuth,
    basic_header,
    digest_response,
    parse_auth_params,
    split_scheme,
)


class CpeAuth(httpx.Auth):
    """`ClientAuth` for httpx requests (downloads from file servers).

    ``on_response`` sees every intermediate response (the 401s) so a caller can keep the
    cookies a server sets before authentication has finished.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        basic_preemptive: bool = False,
        on_response: Callable[[httpx.Response, httpx.Request], None] | None = None,
    ) -> None:
        self._username = username
        self._password = password
        self._basic_preemptive = basic_preemptive
        self._on_response = on_response
        self._state = ClientAuth(username, password)

    def __repr__(self) -> str:  # never show the password
        return f"CpeAuth({self._username!r})"

    def _authorize(self, request: httpx.Request) -> None:
        value = self._state.authorization(request.method, request.url.raw_path.decode("ascii"))
        if value is not None:
            request.headers["Authorization"] = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._basic_preemptive:
            request.headers["Authorization"] = basic_header(self._username, self._password)
            yield request
            return
        self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        if not self._state.take_challenge(response.headers.get_list("www-authenticate")):
            return
        if self._on_response is not None:
            self._on_response(response, request)
        self._authorize(request)
        yield request


class DigestVerifier:
    """Server side of Digest (MD5, qop=auth) with optional Basic, for connection requests.

    Nonces carry their own issue time and an HMAC, so nothing is stored per nonce; replays
    within the nonce lifetime are accepted, as on most CPEs.
    """

    def __init__(self, realm: str, *, allow_basic: bool = False, nonce_ttl: float = 300.0) -> None:
        self.realm = realm
        self.allow_basic = allow_basic
        self.nonce_ttl = nonce_ttl
        self._secret = os.urandom(32)
        self.opaque = os.urandom(8).hex()

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]

    def new_nonce(self) -> str:
        stamp = f"{time.time():.3f}"
        return base64.b64encode(f"{stamp}:{self._sign(stamp)}".encode()).decode("ascii")

    def _nonce_state(self, nonce: str) -> str:
        """ "ok", "stale" (ours but expired) or "bad"."""
        try:
            stamp, _, signature = base64.b64decode(nonce, validate=True).decode().partition(":")
            issued = float(stamp)
        except (ValueError, UnicodeDecodeError):
            return "bad"
        if not hmac.compare_digest(signature, self._sign(stamp)):
            return "bad"
        # Issue times are rounded to the millisecond, so a fresh nonce may look a bit "future".
        return "ok" if -1.0 <= time.time() - issued <= self.nonce_ttl else "stale"

    def challenges(self, *, stale: bool = False) -> list[str]:
        digest = (
            f'Digest realm="{self.realm}", qop="auth", nonce="{self.new_nonce()}", '
            f'opaque="{self.opaque}", algorithm=MD5'
        )
        if stale:
            digest += ", stale=true"
        headers = [digest]
        if self.allow_basic:
            headers.append(f'Basic realm="{self.realm}"')
        return headers

    def check(
        self, method: str, uri: str, authorization: str | None, username: str, password: str
    ) -> str:
        """ "ok", "stale" (valid but the nonce expired: challenge again with stale=true) or
        "fail"."""
        if not authorization:
            return "fail"
        scheme, rest = split_scheme(authorization)
        if scheme == "basic":
            if not self.allow_basic:
                return "fail"
            return (
                "ok"
                if hmac.compare_digest(
                    authorization.strip().encode(), basic_header(username, password).encode()
                )
                else "fail"
            )
        if scheme != "digest":
            return "fail"
        p = parse_auth_params(rest)
        algorithm = p.get("algorithm", "MD5").upper()
        qop = p.get("qop")
        if (
            algorithm not in ("MD5", "MD5-SESS")
            or p.get("username") != username
            or p.get("realm") != self.realm
            or p.get("uri") != uri
            or (qop is not None and qop != "auth")
            or ("response" not in p or "nonce" not in p)
        ):
            return "fail"
        expected = digest_response(
            algorithm=algorithm,
            username=username,
            password=password,
            realm=self.realm,
            nonce=p["nonce"],
            method=method,
            uri=uri,
            qop=qop,
            nc=p.get("nc", ""),
            cnonce=p.get("cnonce", ""),
        )
        if not hmac.compare_digest(expected.encode(), p["response"].lower().encode()):
            return "fail"
        state = self._nonce_state(p["nonce"])
        return {"ok": "ok", "stale": "stale"}.get(state, "fail")
