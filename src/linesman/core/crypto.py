"""Secrets derived from the server's secret key: encryption at rest for device secrets, and
short signatures for what the ACS hands out and must recognise later (nonces, cookies)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"linesman device secrets v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plaintext: str) -> str:
    """Encrypt a secret for storage; the empty string stays empty (no secret set)."""
    if not plaintext:
        return ""
    return _fernet(settings.SECRET_KEY).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Decrypt a stored secret; an undecryptable value (the secret key changed) reads as empty."""
    if not ciphertext:
        return ""
    try:
        return _fernet(settings.SECRET_KEY).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return ""


@lru_cache(maxsize=16)
def _signing_key(purpose: str, secret_key: str) -> bytes:
    return hashlib.sha256((purpose + secret_key).encode()).digest()


def sign(purpose: str, text: str, length: int) -> str:
    """A hex HMAC-SHA256 of `text` (its first `length` digits), keyed per purpose; derived
    once per process, as this runs on every ACS request."""
    key = _signing_key(purpose, settings.SECRET_KEY)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:length]
