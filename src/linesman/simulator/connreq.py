"""The connection-request listener shared by every simulated device of a fleet.

One HTTP server on 127.0.0.1; device N's ConnectionRequestURL is ``http://127.0.0.1:<port>/
<path>`` where the path is its serial number (or a random token). A GET authenticated with the
device's ConnectionRequestUsername/Password is answered 200 and makes the device open a
session with "6 CONNECTION REQUEST". Wrong or missing credentials get 401 with a fresh
challenge, unknown paths 404. A device that is unreachable, switched off or rebooting does not
answer at all, so the ACS sees a timeout.

The challenge mode says which schemes the listener offers and accepts: ``digest`` (Digest MD5
qop=auth, the TR-069 default), ``digest+basic`` (both offered, as ``allow_basic=True`` did) or
``basic`` (a CPE that only knows Basic). ``auth_schemes`` counts the scheme of every
Authorization header received ("none" when there was none), so a test can check that an ACS
never sent a password in clear to a listener that asked for Digest.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from linesman.httpwire.digest import split_scheme
from linesman.simulator.auth import DigestVerifier
from linesman.simulator.http11 import HOLD, HttpServer, Request, Response

if TYPE_CHECKING:
    from linesman.simulator.runner import DeviceAgent

log = logging.getLogger(__name__)

REALM = "Linesman CPE"
CHALLENGE_MODES = ("digest", "digest+basic", "basic")


class ConnectionRequestServer:
    """Listens for connection requests and kicks the addressed device's agent."""

    def __init__(
        self,
        resolve: Callable[[str], DeviceAgent | None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_basic: bool = False,
        challenge: str | None = None,
        realm: str = REALM,
        hold_timeout: float = 120.0,
    ) -> None:
        if challenge is None:
            challenge = "digest+basic" if allow_basic else "digest"
        if challenge not in CHALLENGE_MODES:
            raise ValueError(f"challenge must be one of {', '.join(CHALLENGE_MODES)}")
        self._resolve = resolve
        self.challenge = challenge
        self.verifier = DigestVerifier(realm, allow_basic=challenge != "digest")
        self.http = HttpServer(
            self._handle,
            host=host,
            port=port,
            max_body=4096,
            timeout=10.0,
            hold_timeout=hold_timeout,
        )
        self.requests = 0  # every request seen, for statistics
        self.accepted = 0
        self.auth_schemes: Counter[str] = Counter()

    @property
    def port(self) -> int:
        return self.http.port

    def url_for(self, path: str) -> str:
        return f"http://{self.http.host}:{self.http.port}/{path}"

    async def start(self) -> None:
        await self.http.start()

    async def stop(self) -> None:
        await self.http.stop()

    def _unauthorized(self, *, stale: bool = False) -> Response:
        challenges = self.verifier.challenges(stale=stale)
        if self.challenge == "basic":
            challenges = [c for c in challenges if split_scheme(c)[0] == "basic"]
        headers = [("WWW-Authenticate", value) for value in challenges]
        return Response(401, b"", headers)

    async def _handle(self, request: Request) -> Response | object:
        self.requests += 1
        agent = self._resolve(request.path.strip("/"))
        if agent is None:
            return Response(404, b"", close=True)
        device = agent.device
        if device.silent or not device.online:
            return HOLD
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"", [("Allow", "GET")])
        username, password = device.connreq_credentials()
        authorization = request.header("authorization")
        scheme = split_scheme(authorization)[0] if authorization else "none"
        self.auth_schemes[scheme] += 1
        if self.challenge == "basic" and scheme == "digest":
            verdict = "fail"  # a Basic-only CPE does not understand Digest
        else:
            verdict = self.verifier.check(
                request.method, request.target, authorization, username, password
            )
        if verdict != "ok" or device.reject_auth:
            if authorization:
                device.counters.connection_requests_rejected += 1
            return self._unauthorized(stale=verdict == "stale" and not device.reject_auth)
        self.accepted += 1
        if device.quirks.ignore_connreq:
            return Response(200, b"")  # accepted, and then nothing happens
        agent.kick()
        return Response(200, b"")
