"""HTTP authentication of devices to the ACS: Digest (RFC 7616, MD5, qop=auth) and Basic.

Nonces are stateless (a timestamp signed with the server's secret), so whichever server
process receives the device's next request can verify it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from linesman.core import crypto

REALM = "Linesman ACS"
NONCE_LIFETIME = 300


def _sign(stamp: str) -> str:
    return crypto.sign("cwmp-nonce", stamp, 32)


def new_nonce() -> str:
    stamp = str(int(time.time()))
    return base64.b64encode(f"{stamp}:{_sign(stamp)}".encode()).decode()


def nonce_ok(nonce: str) -> bool:
    try:
        stamp, signature = base64.b64decode(nonce, validate=True).decode().split(":", 1)
        age = time.time() - int(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return 0 <= age <= NONCE_LIFETIME and hmac.compare_digest(signature, _sign(stamp))


def challenge() -> str:
    return f'Digest realm="{REALM}", qop="auth", nonce="{new_nonce()}", algorithm=MD5'


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


def verify_digest(params: dict[str, str], method: str, username: str, password: str) -> bool:
    if params.get("username") != username or not nonce_ok(params.get("nonce", "")):
        return False
    ha1 = _md5(f"{username}:{params.get('realm', REALM)}:{password}")
    ha2 = _md5(f"{method}:{params.get('uri', '')}")
    if params.get("qop"):
        expected = _md5(
            f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:"
            f"{params['qop']}:{ha2}"
        )
    else:
        expected = _md5(f"{ha1}:{params['nonce']}:{ha2}")
    return hmac.compare_digest(expected, params.get("response", ""))


def check(header: str, method: str, username: str, password: str, allow_basic: bool) -> bool:
    """Whether the Authorization header proves the device's credentials."""
    parsed = parse_authorization(header) if header else None
    if parsed is None:
        return False
    scheme, params = parsed
    if scheme == "basic":
        return (
            allow_basic
            and hmac.compare_digest(params["username"], username)
            and hmac.compare_digest(params["password"], password)
        )
    return verify_digest(params, method, username, password)
