"""Shedding new CWMP sessions when a server process is saturated (issue #17).

Saturation is read from the sessions open in this process: a session opens when an
Inform is answered (the reply sets the session cookie) and closes when the ACS ends it
(204) or refuses a request of it; one silent for `IDLE` seconds counts as gone. Below
capacity a process finishes sessions about as fast as they start, so few are open at once
(arrivals x session time: a few dozen at a thousand sessions a second). Beyond capacity
every session waits behind the others, sessions take longer, and the number open grows
without bound. At `limit` open sessions the process refuses new ones: an Inform without a
session cookie gets 503 with a Retry-After spread at random over [0.5, 1.5] x
`retry_after` seconds (TR-069 3.2.1.1: the CPE retries after that), before the Digest
challenge, so a refusal costs less than the challenge would. Requests of open sessions are
never refused, so work a device has started is finished, and neither is a session a
device opens because the ACS asked it to (an Inform with `6 CONNECTION REQUEST`: an
operator's action). As open sessions finish, the count falls below the limit and new
sessions are admitted again: the process recovers by itself.

A session's time includes the device's own (round trips, its processing), so sessions are
open below capacity too: the limit must stay above a process's full rate times a session's
usual length (`LINESMAN_ACS_MAX_SESSIONS`, 1,024: a second a session at 500 sessions/s).
A count of requests in flight is no such signal (it is capped by the HTTP threads and
reaches them at any busy moment; see `endpoint`), while open sessions are not capped by
anything but the load.
"""

from __future__ import annotations

import random
import threading
import time

#: Seconds after its last request a session no longer counts as open (a device that went
#: away without ending it). Longer than any pause between a session's requests.
IDLE = 30.0


class OpenSessions:
    """The sessions open in this process, by cookie, and the admission rule."""

    def __init__(self, limit: int, retry_after: int) -> None:
        self.limit = limit  # 0: never refuse
        self.retry_after = retry_after
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._swept = 0.0

    def __len__(self) -> int:
        return len(self._last)

    def refusal_wait(self) -> int | None:
        """None if a new session may start now, else the seconds to send as Retry-After."""
        if not self.limit or len(self._last) < self.limit:
            return None
        self._sweep(time.monotonic())
        if len(self._last) < self.limit:
            return None
        return max(1, round(self.retry_after * random.uniform(0.5, 1.5)))  # noqa: S311

    def seen(self, cookie: str, ended: bool) -> None:
        """A request of the session `cookie` was answered; `ended`: that answer closed it."""
        if ended:
            self._last.pop(cookie, None)
        else:
            self._last[cookie] = time.monotonic()

    def _sweep(self, now: float) -> None:
        """Forget sessions silent for IDLE seconds (at most once a second: O(open))."""
        if now - self._swept < 1.0:
            return
        with self._lock:
            self._swept = now
            cutoff = now - IDLE
            for cookie in [c for c, at in list(self._last.items()) if at < cutoff]:
                self._last.pop(cookie, None)
