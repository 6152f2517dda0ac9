"""Brute-force throttling: failure counters shared by every server process.

Only failures are counted (a wrong device password at the ACS, a failed login, an unknown
API token), per key (a username, a source address) in fixed windows of `window` seconds.
After `limit` failures in a window the key is blocked until the window ends.

The counters live in Django's cache (`settings.CACHES["default"]`): Redis when `REDIS_URL`
is set, so every node sees them, else files under `$LINESMAN_HOME/cache`, shared by the
processes of one node. The file store increments under a lock file, because its `incr` is
a read then a write and two processes could otherwise both count from the same value.

Two ways to ask whether a key is blocked:
- `known_blocked`: what this process has learned, with no I/O at all. A process learns a
  block when it counts a failure that reaches the limit. For the ACS's hot path: a device that
  authenticates costs nothing here, and once blocked an attacker costs a dict lookup per
  request. The price: each process verifies at most one more attempt (one per thread
  racing it) after the limit before it learns the block itself.
- `blocked`: asks the shared store (one `get_many`), exact across processes. For logins,
  where a password hash costs far more than a cache read.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches

from linesman.core.rediscache import SharedClientRedisCache

#: The clock every window is measured by (tests move it instead of sleeping).
clock = time.time

#: What this process knows is blocked: (scope, key) -> the end of the window, epoch seconds.
_known: dict[tuple[str, str], float] = {}
#: Bounds `_known` against an attacker who cycles through usernames.
_KNOWN_MAX = 50_000
#: When the last block in `_known` ends: after it, nothing is blocked (`any_known_blocked`).
_known_until = 0.0
_lock = threading.Lock()


@dataclass(frozen=True)
class Limit:
    """At most `limit` failures per key in each window of `window` seconds: the failure
    that reaches the limit blocks the key until the window ends."""

    scope: str
    limit: int
    window: int

    def _slot(self, now: float) -> int:
        return int(now // self.window)

    def _cache_key(self, key: str, slot: int) -> str:
        # Hashed: keys are attacker-chosen text (usernames), cache keys must be short and safe.
        digest = hashlib.blake2b(key.encode("utf-8", "replace"), digest_size=12).hexdigest()
        return f"throttle:{self.scope}:{digest}:{slot}"

    def _wait(self, slot: int, now: float) -> int:
        return max(1, math.ceil((slot + 1) * self.window - now))

    def known_blocked(self, key: str) -> int | None:
        """Seconds until `key` may try again, if this process knows it is blocked (no I/O)."""
        until = _known.get((self.scope, key))
        if until is None:
            return None
        now = clock()
        if now >= until:
            _known.pop((self.scope, key), None)
            return None
        return max(1, math.ceil(until - now))

    def fail(self, key: str) -> int | None:
        """Count a failure of `key`; seconds to wait if it has now reached the limit."""
        now = clock()
        slot = self._slot(now)
        count = _increment(self._cache_key(key, slot), self.window + 1)
        if count < self.limit:
            return None
        _remember(self.scope, key, (slot + 1) * self.window)
        return self._wait(slot, now)


def any_known_blocked() -> bool:
    """Whether this process knows of any block at all: when not (the usual case), callers
    skip working out their keys."""
    if not _known:
        return False
    if clock() >= _known_until:
        _known.clear()
        return False
    return True


def known_blocked(checks: Iterable[tuple[Limit, str]]) -> int | None:
    """Seconds to wait if this process knows any (limit, key) is blocked (no I/O)."""
    waits = [w for limit, key in checks if key and (w := limit.known_blocked(key)) is not None]
    return max(waits) if waits else None


def blocked(checks: Iterable[tuple[Limit, str]]) -> int | None:
    """Seconds to wait if any (limit, key) is blocked, asking the shared store once."""
    checks = [(limit, key) for limit, key in checks if key]
    wait = known_blocked(checks)
    if wait is not None:
        return wait
    now = clock()
    keys = {limit._cache_key(key, limit._slot(now)): (limit, key) for limit, key in checks}
    if not keys:
        return None
    counts = cache.get_many(list(keys))
    waits = []
    for cache_key, count in counts.items():
        limit, key = keys[cache_key]
        if count >= limit.limit:
            slot = limit._slot(now)
            _remember(limit.scope, key, (slot + 1) * limit.window)
            waits.append(limit._wait(slot, now))
    return max(waits) if waits else None


def fail(checks: Iterable[tuple[Limit, str]]) -> int | None:
    """Count one failure against each (limit, key); seconds to wait if any is now blocked."""
    waits = [w for limit, key in checks if key and (w := limit.fail(key)) is not None]
    return max(waits) if waits else None


def forget() -> None:
    """Drop what this process knows and the shared counters (tests, and operators' resets)."""
    global _known_until
    _known_until = 0.0
    _known.clear()
    backend = caches["default"]
    if not isinstance(backend, SharedClientRedisCache):
        backend.clear()
        return
    # Only this deployment's keys: the Redis database may hold the task queue and other
    # deployments' (or test processes') counters, which Django's clear() (FLUSHDB) would drop.
    pattern = re.sub(r"([*?\[\]\\])", r"\\\1", backend.make_key("")) + "*"
    client = backend.client()
    stale = list(client.scan_iter(match=pattern, count=1000))
    if stale:
        client.delete(*stale)


def _remember(scope: str, key: str, until: float) -> None:
    global _known_until
    _known_until = max(_known_until, until) if _known else until
    if len(_known) >= _KNOWN_MAX:
        now = clock()
        for stale in [k for k, end in _known.items() if end <= now]:
            _known.pop(stale, None)
        if len(_known) >= _KNOWN_MAX:
            _known.clear()  # still full of live blocks: the shared store still has them
    _known[(scope, key)] = until


def _increment(key: str, timeout: int) -> int:
    with _exclusive():
        if cache.add(key, 1, timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout)
            return 1


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """Serialise increments where the cache backend's own are not atomic (the file store)."""
    directory = getattr(cache, "_dir", None)
    if directory is None:  # Redis and local memory increment atomically
        yield
        return
    os.makedirs(directory, exist_ok=True)
    with _lock, open(os.path.join(directory, ".throttle.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# The limits, from the configuration (read on each call, so a test's settings apply).


def acs_limits(identity: str, address: str) -> list[tuple[Limit, str]]:
    """Device authentication at the ACS: per username (low) and per source address (high)."""
    window = settings.LINESMAN_THROTTLE_WINDOW
    return [
        (Limit("acs-id", settings.LINESMAN_ACS_AUTH_FAILURES_PER_IDENTITY, window), identity),
        (Limit("acs-addr", settings.LINESMAN_ACS_AUTH_FAILURES_PER_ADDRESS, window), address),
    ]


def login_limits(username: str, address: str) -> list[tuple[Limit, str]]:
    """Dashboard and admin logins: per username and per source address."""
    window = settings.LINESMAN_LOGIN_WINDOW
    return [
        (Limit("login-user", settings.LINESMAN_LOGIN_FAILURES, window), username.strip().lower()),
        (Limit("login-addr", settings.LINESMAN_LOGIN_FAILURES_PER_ADDRESS, window), address),
    ]


def api_token_limits(address: str) -> list[tuple[Limit, str]]:
    """Unknown or expired API tokens per source address."""
    limit = Limit("api-token", settings.LINESMAN_API_BAD_TOKENS, settings.LINESMAN_THROTTLE_WINDOW)
    return [(limit, address)]
