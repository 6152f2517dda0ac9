"""The life of one simulated device as an asyncio task: boot, wait, inform, act, repeat.

A `DeviceAgent` decides when its device opens a session (boot, periodic timer with jitter,
connection request, scheduled inform, value change, retry after failure) and carries out the
work a session left behind (reboot, factory reset, download, diagnostics). While waiting it
holds nothing but a future and a timer handle, so ten thousand of them idle cheaply.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from linesman.httpwire.client import ConnectionPool
from linesman.simulator import diagnostics as sim_diagnostics
from linesman.simulator import transfer
from linesman.simulator.device import FIRMWARE_IMAGE, PendingTransfer, SimulatedDevice, now_iso
from linesman.simulator.session import CwmpSession, SessionError, SessionOptions

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AgentSettings:
    """Timing and behaviour shared by every device of a fleet."""

    session: SessionOptions = field(default_factory=SessionOptions)
    reboot_delay: float = 2.0  # seconds a rebooting device is gone
    jitter: float = 0.1  # periodic interval varies by +-10% so devices drift apart
    ramp: float = 0.0  # power-on times are spread uniformly over this many seconds
    retry_min_wait: float | None = None  # None: the device's CWMPRetryMinimumWaitInterval
    retry_max_wait: float = 600.0
    unreachable_poll: float = 1.0  # how often an unreachable device checks if it still is
    download_timeout: float = 300.0
    download_max_bytes: int = 1 << 30


class HttpShard:
    """The session slots of some devices and the HTTP they share: a pool of keep-alive
    connections for CWMP sessions, and an httpx client for the rare rest (downloads,
    diagnostics).

    httpcore's pool does work quadratic in its size on every request (about 20 ms per request
    at 100 connections), so a fleet spreads its devices over several small shards instead of
    one big one; each device always uses the same shard.
    """

    __slots__ = ("client", "pool", "slots")

    def __init__(self, client: httpx.AsyncClient, size: int) -> None:
        self.client = client
        self.pool = ConnectionPool(max_idle=size)
        self.slots = asyncio.Semaphore(size)


class FleetContext:
    """What the agents of one fleet share: HTTP clients, session slots, statistics."""

    def __init__(
        self,
        shards: list[HttpShard],
        settings: AgentSettings,
        on_session: Callable[[SimulatedDevice, SessionError | None], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not shards:
            raise ValueError("at least one HTTP shard is needed")
        self.shards = shards
        self.settings = settings
        self.on_session = on_session
        self.rng = rng or random.Random()
        self.stopping = False


class DeviceAgent:
    """Drives one `SimulatedDevice` against the ACS until stopped."""

    __slots__ = (
        "device",
        "ctx",
        "shard",
        "task",
        "retry_count",
        "_waiter",
        "_kicked",
        "_next_periodic",
        "_periodic_config",
    )

    def __init__(self, device: SimulatedDevice, ctx: FleetContext) -> None:
        self.device = device
        self.ctx = ctx
        self.shard = ctx.shards[device.identity.index % len(ctx.shards)]
        self.task: asyncio.Task[None] | None = None
        self.retry_count = 0
        self._waiter: asyncio.Future[None] | None = None
        self._kicked = False
        self._next_periodic: float | None = None
        self._periodic_config: tuple[bool, int] | None = None
        device.wake = self.wake

    # ------------------------------------------------------------------ outside events

    def wake(self) -> None:
        """Make a waiting agent look at its device again."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def kick(self) -> None:
        """An authenticated connection request: inform with "6 CONNECTION REQUEST". Several
        before the session starts, or during a running one, make one more session."""
        self.device.counters.connection_requests += 1
        self._kicked = True
        self.wake()

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"cpe-{self.device.serial}")

    # ------------------------------------------------------------------ waiting

    async def _sleep_until(self, deadline: float | None, *, interruptible: bool = True) -> None:
        """Sleep until ``deadline`` (time.monotonic()), or until woken if interruptible;
        fleet shutdown always wakes."""
        loop = asyncio.get_running_loop()
        while not self.ctx.stopping:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            handle = None
            if remaining is not None:
                handle = loop.call_later(remaining, _resolve, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                if handle is not None:
                    handle.cancel()
            if interruptible:
                return

    # ------------------------------------------------------------------ periodic informs

    def _plan_periodic(self, *, after_boot: bool = False) -> None:
        config = self.device.periodic_settings()
        self._periodic_config = config
        enabled, interval = config
        if not enabled:
            self._next_periodic = None
            return
        rng = self.ctx.rng
        if after_boot:
            # Devices that boot together must not inform together: start at a random phase.
            factor = rng.uniform(0.5, 1.0)
        else:
            j = self.ctx.settings.jitter
            factor = rng.uniform(1 - j, 1 + j)
        self._next_periodic = time.monotonic() + interval * factor

    def _replan_if_changed(self) -> None:
        # The ACS may have changed PeriodicInformInterval/Enable in the session.
        if self.device.periodic_settings() != self._periodic_config:
            self._plan_periodic()

    # ------------------------------------------------------------------ main loop

    async def run(self) -> None:
        device = self.device
        settings = self.ctx.settings
        try:
            if settings.ramp > 0:
                await self._sleep_until(
                    time.monotonic() + self.ctx.rng.uniform(0, settings.ramp), interruptible=False
                )
                if self.ctx.stopping:
                    return
            device.boot()
            self._plan_periodic(after_boot=True)
            while not self.ctx.stopping:
                if device.silent:
                    # Gone dark: no sessions, but timers keep queueing events as on a CPE
                    # that lost its uplink.
                    self._collect_events()
                    await self._sleep_until(time.monotonic() + settings.unreachable_poll)
                    continue
                await self._run_due_downloads()
                self._collect_events()
                if device.has_events():
                    await self._session_until_done()
                    await self._after_session()
                    continue
                await self._sleep_until(self._next_deadline())
        except asyncio.CancelledError:
            raise
        except Exception:  # one broken device must not take the fleet down
            log.exception("simulated device %s crashed", device.serial)

    def _next_deadline(self) -> float | None:
        times = [t for t in (self._next_periodic, self.device.next_due()) if t is not None]
        return min(times, default=None)

    def _collect_events(self) -> None:
        device = self.device
        now = time.monotonic()
        if self._kicked and not device.silent:
            self._kicked = False
            device.add_event("6 CONNECTION REQUEST")
        if self._next_periodic is not None and now >= self._next_periodic:
            device.add_event("2 PERIODIC")
            self._plan_periodic()
        for key in device.take_due_scheduled(now):
            device.add_event("3 SCHEDULED")
            device.add_event("M ScheduleInform", key)

    async def _session_until_done(self) -> None:
        """Run a session, retrying with backoff until one completes (or work is pending)."""
        device = self.device
        ctx = self.ctx
        while not ctx.stopping:
            error: SessionError | None = None
            async with self.shard.slots:
                if ctx.stopping:
                    return
                device.in_session = True
                device.counters.sessions += 1
                try:
                    await CwmpSession(
                        self.shard.pool, device, ctx.settings.session, self.retry_count
                    ).run()
                except SessionError as exc:
                    error = exc
                except Exception as exc:  # a simulator bug: count it, keep the device alive
                    log.exception("session of %s broke", device.serial)
                    error = SessionError("internal", f"{type(exc).__name__}: {exc}")
                finally:
                    device.in_session = False
            if error is None:
                device.counters.sessions_ok += 1
                self.retry_count = 0
            else:
                device.counters.sessions_failed += 1
                self.retry_count += 1
                log.debug("session of %s failed: %s", device.serial, error)
            if ctx.on_session is not None:
                ctx.on_session(device, error)
            if error is None or device.has_pending_work():
                return
            await self._sleep_until(time.monotonic() + self._retry_delay(error))
            if device.silent:
                return
            self._collect_events()

    def _retry_delay(self, error: SessionError) -> float:
        """TR-069 section 3.2.1.1: wait m*k^(n-1) to m*k^n seconds, n = retry count."""
        settings = self.ctx.settings
        if error.retry_after is not None:
            return min(error.retry_after, settings.retry_max_wait)
        device = self.device
        if settings.retry_min_wait is not None:
            m = settings.retry_min_wait
        else:
            m = float(device.model.get_or(device.ms("CWMPRetryMinimumWaitInterval"), "5") or 5)
        try:
            k = int(device.model.get_or(device.ms("CWMPRetryIntervalMultiplier"), "2000")) / 1000
        except ValueError:
            k = 2.0
        n = min(self.retry_count, 10)
        low = m * k ** (n - 1)
        return min(self.ctx.rng.uniform(low, low * k), settings.retry_max_wait)

    async def _go_offline(self) -> None:
        device = self.device
        device.online = False
        await self._sleep_until(
            time.monotonic() + self.ctx.settings.reboot_delay, interruptible=False
        )

    async def _after_session(self) -> None:
        device = self.device
        if device.take_factory_reset():
            device.take_reboot()
            device.factory_reset()
            await self._go_offline()
            device.boot()  # not bootstrapped any more: BOOTSTRAP + BOOT
            self._plan_periodic(after_boot=True)
            return
        key = device.take_reboot()
        if key is not None:
            device.counters.reboots += 1
            await self._go_offline()
            device.boot()
            device.add_event("M Reboot", key)
            self._plan_periodic(after_boot=True)
            return
        requested = device.take_diagnostics()
        for obj in requested:
            await sim_diagnostics.run(device, obj, self.shard.client)
        if requested:
            device.add_event("8 DIAGNOSTICS COMPLETE")
        self._replan_if_changed()

    async def _run_due_downloads(self) -> None:
        device = self.device
        settings = self.ctx.settings
        for pending in device.take_due_downloads(time.monotonic()):
            req = pending.request
            start = now_iso()
            result = await transfer.fetch(
                self.shard.client,
                req,
                timeout=settings.download_timeout,
                max_bytes=settings.download_max_bytes,
            )
            done = now_iso()
            if not result.ok:
                device.counters.downloads_failed += 1
                device.add_transfer(
                    PendingTransfer(
                        req.command_key, result.fault_code, result.fault_string, start, done
                    )
                )
                continue
            device.counters.downloads += 1
            device.add_transfer(PendingTransfer(req.command_key, 0, "", start, done))
            if req.file_type == FIRMWARE_IMAGE and result.version is not None:
                # Install and boot into the new image: the ACS sees BOOT + M Download +
                # TRANSFER COMPLETE and the new SoftwareVersion in one Inform.
                device.apply_firmware(result.version)
                device.counters.reboots += 1
                await self._go_offline()
                device.boot()
                self._plan_periodic(after_boot=True)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
