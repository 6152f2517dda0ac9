"""HTTP authentication of devices to the ACS: Digest (RFC 7616, MD5, qop=auth) and Basic.

This module is pure: it issues and checks nonces and responses. Replay protection (a nonce
count that must grow) needs state every server process shares, so `verify` hands the
caller the (nonce, nc) pair to claim in the database (`linesman.cwmp.replay`).

A nonce is `stamp:random:signature`, base64: the issue time, 8 random bytes (two challenges
in one second must differ, as each nonce has its own count), and an HMAC over the realm,
time and random part with a key of its own purpose, so a nonce is only good for this realm
of this ACS, not for a cookie or another signed value. It is not bound to the device's
address: devices behind one CGNAT or proxy share addresses, and a device's address may
change between its challenge and its answer; the count and the `uri` check stop replays.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from linesman.core import crypto

REALM = "Linesman ACS"
#: Seconds a nonce is accepted; a correct answer on an older one gets a `stale=true` challenge.
NONCE_LIFETIME = 300


def _sign(text: str) -> str:
    return crypto.sign("cwmp-nonce", f"{REALM}:{text}", 32)


def new_nonce() -> str:
    text = f"{int(time.time())}:{os.urandom(8).hex()}"
    return base64.b64encode(f"{text}:{_sign(text)}".encode()).decode()


def nonce_issued(nonce: str) -> int | None:
    """The issue time (epoch seconds) of a nonce this ACS signed, else None."""
    try:
        stamp, rand, signature = base64.b64decode(nonce, validate=True).decode().split(":")
        issued = int(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(signature, _sign(f"{stamp}:{rand}")):
        return None
    return issued


def challenge(stale: bool = False) -> str:
    text = f'Digest realm="{REALM}", qop="auth", nonce="{new_nonce()}", algorithm=MD5'
    return text + ", stale=true" if stale else text


def _parse_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " ,\t":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        key = text[i:eq].strip().lower()
        i = eq + 1
        if i < n and text[i] == '"':
            close = text.find('"', i + 1)
            end = n if close < 0 else close
            if "\\" not in text[i + 1 : end]:
                # No escapes before the first quote, so it closes the value: slice it
                # rather than walk it (the walk below cost tens of microseconds a header).
                params[key] = text[i + 1 : end]
                i = end + 1
                continue
            end = i + 1
            value = []
            while end < n and text[end] != '"':
                if text[end] == "\\" and end + 1 < n:
                    end += 1
                value.append(text[end])
                end += 1
            params[key] = "".join(value)
            i = end + 1
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            params[key] = text[i:end].strip()
            i = end
    return params


def parse_authorization(header: str) -> tuple[str, dict[str, str]] | None:
    """('basic', {username, password}) or ('digest', {params}) or None."""
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            user, _, password = base64.b64decode(rest.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return "basic", {"username": user, "password": password}
    if scheme == "digest":
        return "digest", _parse_params(rest)
    return None


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - MD5 is what Digest specifies


class Outcome(enum.Enum):
    OK = "ok"  # proven (for Digest: once the caller has claimed the nonce count)
    MISSING = "missing"  # no Authorization header
    WRONG = "wrong"  # credentials presented and wrong for this device
    STALE = "stale"  # right credentials on an expired nonce of ours: challenge stale=true
    REPLAY = "replay"  # right response, but not for this request (uri) or a used nonce count


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    #: For a Digest OK: the nonce and count the caller must claim (`replay.claim`).
    nonce: str = ""
    nc: int = 0
    expires: int = 0


_WRONG = Verdict(Outcome.WRONG)
#: RFC 7616: the count is 8 hex digits (fewer are tolerated; more would not fit).
_NC = re.compile(r"[0-9a-fA-F]{1,8}")


def uri_matches(uri: str, target: str) -> bool:
    """Whether a Digest `uri` names the request target (its path and query), in the
    origin form (`/cwmp/`) or the absolute form (`http://host/cwmp/`) clients may send."""
    if uri == target:
        return True
    if "://" not in uri:
        return False
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "") == target


def _verify_digest(
    params: dict[str, str], method: str, target: str, username: str, password: str
) -> Verdict:
    nonce, uri, qop = params.get("nonce", ""), params.get("uri", ""), params.get("qop", "")
    if not hmac.compare_digest(params.get("username", "").encode(), username.encode()):
        return _WRONG
    if params.get("algorithm", "MD5").upper() != "MD5" or qop not in ("", "auth"):
        return _WRONG
    issued = nonce_issued(nonce)
    if issued is None:
        return _WRONG
    if qop:
        if not _NC.fullmatch(params.get("nc", "")):
            return _WRONG
        nc = int(params["nc"], 16)
    else:
        nc = 1  # RFC 2069 style, no count: each nonce is good for one request
    ha1 = _md5(f"{username}:{params.get('realm', REALM)}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        expected = _md5(
            f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:{qop}:{ha2}"
        )
    else:
        expected = _md5(f"{ha1}:{nonce}:{ha2}")
    if not hmac.compare_digest(expected.encode(), params.get("response", "").lower().encode()):
        return _WRONG
    # The password is proven from here on; what follows is about this request.
    if params.get("realm", REALM) != REALM or not uri_matches(uri, target) or nc < 1:
        return Verdict(Outcome.REPLAY)
    age = time.time() - issued
    if not 0 <= age <= NONCE_LIFETIME:
        return Verdict(Outcome.STALE)
    return Verdict(Outcome.OK, nonce, nc, issued + NONCE_LIFETIME)


def verify(
    header: str, method: str, target: str, username: str, password: str, allow_basic: bool
) -> Verdict:
    """What the Authorization header proves about the device's credentials for this request
    (`target`: the request's path and query). A Digest OK still needs its count claimed."""
    if not header:
        return Verdict(Outcome.MISSING)
    parsed = parse_authorization(header)
    if parsed is None:
        return _WRONG
    scheme, params = parsed
    if scheme == "basic":
        proven = (
            allow_basic
            and hmac.compare_digest(params["username"].encode(), username.encode())
            and hmac.compare_digest(params["password"].encode(), password.encode())
        )
        return Verdict(Outcome.OK) if proven else _WRONG
    return _verify_digest(params, method, target, username, password)


def claimed_username(header: str) -> str | None:
    """The username an Authorization header claims (Digest or Basic), before any check."""
    parsed = parse_authorization(header) if header else None
    return parsed[1].get("username") if parsed else None
