"""HTTP authentication as a client does it (RFC 7616 Digest, RFC 7617 Basic), without HTTP.

Shared by the simulator's devices (answering the ACS's and file servers' challenges) and the
ACS's connection requests (answering a device's challenge). `ClientAuth` holds one
exchange's state; `usable_digest` tells whether a Digest challenge can be answered at all.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re

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


def _strict_params(text: str) -> dict[str, str] | None:
    """`parse_auth_params`, but None when any part of `text` is not a ``name=value`` pair."""
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM_RE.match(text, pos)
        if match is None or match.end() == pos:
            return None
        params.update(parse_auth_params(match.group(0)))
        pos = match.end()
    return params


def usable_digest(challenge: str) -> bool:
    """Whether the parameters of a Digest challenge (the text after "Digest ") can be
    answered: well formed, with a realm and a nonce, an algorithm we know, and "auth" among
    its qop values when it names any."""
    params = _strict_params(challenge)
    if params is None or "realm" not in params or "nonce" not in params:
        return False
    if params.get("algorithm", "MD5").upper() not in _ALGORITHMS:
        return False
    qops = [q.strip() for q in params.get("qop", "auth").split(",")]
    return "auth" in qops
