"""HTTP authentication for the simulator, both directions (RFC 7616 Digest and RFC 7617 Basic).

As a client (device -> ACS, device -> file server) `ClientAuth` answers whichever challenge
the server sends, like a CPE does; `CpeAuth` is the same for httpx requests, or sends Basic on
every request in ``basic_preemptive`` mode.
As a server (ACS -> device connection requests) `DigestVerifier` issues stateless nonces and
checks responses against each device's own credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Generator

import httpx

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')
_ALGORITHMS = {
    "MD5": hashlib.md5,
    "MD5-SESS": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-256-SESS": hashlib.sha256,
}


def parse_auth_params(text: str) -> dict[str, str]:
    """``a=1, b="x, y"`` -> {"a": "1", "b": "x, y"}; keys lower-cased, garbage skipped."""
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM_RE.match(text, pos)
        if match is None or match.end() == pos:
            # Skip to the next comma so one bad token does not hide the others.
            comma = text.find(",", pos)
            if comma == -1:
                break
            pos = comma + 1
            continue
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
        pos = match.end()
    return params


def split_scheme(header: str) -> tuple[str, str]:
    """``Digest realm=...`` -> ("digest", "realm=...")."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), rest.strip()


def _hash(algorithm: str, text: str) -> str:
    return _ALGORITHMS[algorithm](text.encode("utf-8")).hexdigest()


def digest_response(
    *,
    algorithm: str,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None,
    nc: str,
    cnonce: str,
) -> str:
    """The ``response`` value of a Digest Authorization (RFC 7616 section 3.4.1)."""
    algorithm = algorithm.upper()
    ha1 = _hash(algorithm, f"{username}:{realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = _hash(algorithm, f"{ha1}:{nonce}:{cnonce}")
    ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop:
        return _hash(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _hash(algorithm, f"{ha1}:{nonce}:{ha2}")


def basic_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ClientAuth:
    """The client side of HTTP authentication as a CPE does it, without any HTTP: answer a
    Digest (preferred) or Basic challenge, then keep using it for the rest of the session
    (one instance per session). Digest answers count nc up and draw a fresh cnonce each
    time."""

    __slots__ = ("_username", "_password", "_challenge", "_use_basic", "_nc")

    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password
        self._challenge: dict[str, str] | None = None
        self._use_basic = False
        self._nc = 0

    def __repr__(self) -> str:  # never show the password
        return f"ClientAuth({self._username!r})"

    def authorization(self, method: str, uri: str) -> str | None:
        """The Authorization header of the next request, None before any challenge."""
        if self._challenge is not None:
            return self._digest_header(method, uri)
        if self._use_basic:
            return basic_header(self._username, self._password)
        return None

    def take_challenge(self, www_authenticate: list[str]) -> bool:
        """Adopt the challenge of a 401's WWW-Authenticate headers; False if none is usable
        (the 401 is then final)."""
        digest = basic = None
        for value in www_authenticate:
            scheme, rest = split_scheme(value)
            if scheme == "digest" and digest is None:
                params = parse_auth_params(rest)
                if params.get("algorithm", "MD5").upper() in _ALGORITHMS:
                    digest = params
            elif scheme == "basic":
                basic = True
        if digest is not None:
            self._challenge, self._nc, self._use_basic = digest, 0, False
        elif basic:
            self._challenge, self._use_basic = None, True
        else:
            return False
        return True

    def _digest_header(self, method: str, uri: str) -> str:
        ch = self._challenge
        assert ch is not None
        self._nc += 1
        nc = f"{self._nc:08x}"
        cnonce = os.urandom(8).hex()
        algorithm = ch.get("algorithm", "MD5")
        qops = [q.strip() for q in ch.get("qop", "").split(",") if q.strip()]
        qop = "auth" if "auth" in qops else None
        response = digest_response(
            algorithm=algorithm,
            username=self._username,
            password=self._password,
            realm=ch.get("realm", ""),
            nonce=ch.get("nonce", ""),
            method=method,
            uri=uri,
            qop=qop,
            nc=nc,
            cnonce=cnonce,
        )
        parts = [
            f"username={_quote(self._username)}",
            f"realm={_quote(ch.get('realm', ''))}",
            f"nonce={_quote(ch.get('nonce', ''))}",
            f"uri={_quote(uri)}",
            f"algorithm={algorithm}",
            f"response={_quote(response)}",
        ]
        if "opaque" in ch:
            parts.append(f"opaque={_quote(ch['opaque'])}")
        if qop:
            parts += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        return "Digest " + ", ".join(parts)


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
