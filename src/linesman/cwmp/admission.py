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

Open sessions alone miss a saturation the HTTP server hides: requests waiting in its queue
are in no session yet, and with thousands of connections every request waits there. So
the wait is measured too. After the InformResponse a device has nothing to work on: the
time until its next request reaches this process is the round trip plus that queue's
wait. A smoothed mean of these times above `max_delay` (`LINESMAN_ACS_SHED_DELAY_MS`,
0.5 s: far above a round trip, while a saturated server's queue holds each request a
second or more) is saturation as well. It holds only while new times keep coming (the
sessions still open, and those a connection request opened, bring them): without them
the process admits again, and the sessions it admits measure the queue anew.
"""

from __future__ import annotations

import random
import threading
import time

#: Seconds after its last request a session no longer counts as open (a device that went
#: away without ending it). Longer than any pause between a session's requests.
IDLE = 30.0
#: Weight of each new wait in the smoothed mean (about the last 20 sessions count).
SMOOTHING = 0.05
#: Seconds a high mean wait is trusted without a new one.
FRESH = 2.0


class OpenSessions:
    """The sessions open in this process, by cookie, how long their requests wait, and the
    admission rule."""

    def __init__(self, limit: int, retry_after: int, max_delay: float = 0.0) -> None:
        self.limit = limit  # 0: never refuse for the count
        self.retry_after = retry_after
        self.max_delay = max_delay  # 0: never refuse for the wait
        self._last: dict[str, float] = {}
        self._informed: dict[str, float] = {}  # sessions whose Inform was just answered
        self._delay = 0.0
        self._delay_at = float("-inf")
        self._lock = threading.Lock()
        self._swept = 0.0

    def __len__(self) -> int:
        return len(self._last)

    @property
    def delay(self) -> float:
        """The smoothed wait (seconds) of a device's request after its InformResponse."""
        return self._delay

    def refusal_wait(self) -> int | None:
        """None if a new session may start now, else the seconds to send as Retry-After."""
        if not self._saturated():
            return None
        return max(1, round(self.retry_after * random.uniform(0.5, 1.5)))  # noqa: S311

    def _saturated(self) -> bool:
        now = time.monotonic()
        if self.max_delay and self._delay > self.max_delay and now - self._delay_at < FRESH:
            return True
        if not self.limit or len(self._last) < self.limit:
            return False
        self._sweep(now)
        return len(self._last) >= self.limit

    def arrived(self, cookie: str) -> None:
        """A request of the session `cookie` reached this process; the first after its
        InformResponse gives the wait."""
        answered = self._informed.pop(cookie, None)
        if answered is None:
            return
        now = time.monotonic()
        # Unlocked: two threads racing here lose one of two samples of a running mean.
        self._delay += SMOOTHING * (now - answered - self._delay)
        self._delay_at = now

    def seen(self, cookie: str, ended: bool, opened: bool = False) -> None:
        """A request of the session `cookie` was answered; `ended`: that answer closed it;
        `opened`: it was the InformResponse that opened it."""
        if ended:
            self._last.pop(cookie, None)
            self._informed.pop(cookie, None)
            return
        now = time.monotonic()
        self._last[cookie] = now
        if opened:
            self._informed[cookie] = now
            self._sweep(now)  # also where no limit ever calls for it

    def _sweep(self, now: float) -> None:
        """Forget sessions silent for IDLE seconds (at most once a second: O(open))."""
        if now - self._swept < 1.0:
            return
        with self._lock:
            self._swept = now
            cutoff = now - IDLE
            for cookie in [c for c, at in list(self._last.items()) if at < cutoff]:
                self._last.pop(cookie, None)
                self._informed.pop(cookie, None)
