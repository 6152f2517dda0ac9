"""A fleet of simulated devices in one asyncio process, and the ways to use one.

`Fleet` creates N devices with deterministic serials (``SIM000001``...) and credentials,
shares HTTP connections (in shards), one connection-request listener and one data model tree
per flavour between them, and reports progress. `SimulatorThread` runs a fleet on its own
event loop in a background thread for synchronous tests. `register_via_api` and `fleet_csv`
put the fleet into Linesman's inventory.
"""

from __future__ import annotations

import asyncio
import csv
import http.cookiejar
import io
import logging
import random
import secrets
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from linesman.simulator import nat as nat_reach
from linesman.simulator import tr098, tr181
from linesman.simulator.connreq import ConnectionRequestServer
from linesman.simulator.datamodel import Tree
from linesman.simulator.device import Quirks, SimulatedDevice
from linesman.simulator.identity import Profile
from linesman.simulator.runner import AgentSettings, DeviceAgent, FleetContext, HttpShard
from linesman.simulator.session import AUTH_MODES, SessionError, SessionOptions

log = logging.getLogger(__name__)
T = TypeVar("T")

FLAVOURS = ("tr181", "tr098", "mixed")
CONNECTIONS_PER_CLIENT = 8
_TREE_BUILDERS = {"tr181": tr181.build, "tr098": tr098.build}
_TREES: dict[str, Tree] = {}
_PRODUCT = {
    "tr181": ("LS-HGW-181", "Linesman HGW-181"),
    "tr098": ("LS-IGD-098", "Linesman IGD-98"),
}


def shared_tree(flavour: str) -> Tree:
    """The one immutable default tree of a flavour, built on first use."""
    tree = _TREES.get(flavour)
    if tree is None:
        tree = _TREES[flavour] = _TREE_BUILDERS[flavour]()
    return tree


@dataclass(slots=True)
class FleetStats:
    """A snapshot of the fleet's progress."""

    devices: int = 0
    online: int = 0
    bootstrapped: int = 0
    in_session: int = 0
    sessions_ok: int = 0
    sessions_failed: int = 0
    informs: int = 0
    rpcs: int = 0
    connection_requests: int = 0
    reboots: int = 0
    factory_resets: int = 0
    downloads: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # failed sessions by kind
    last_errors: list[str] = field(default_factory=list)


class Fleet:
    """N simulated devices talking to one ACS.

    Credentials are ``str.format`` templates over ``{serial}`` and ``{index}``; the
    connection-request credentials default to the ACS ones. ``flavour="mixed"`` alternates
    TR-181 and TR-098 devices. ``connreq_path="token"`` gives each device an unguessable
    connection-request path instead of its serial.

    Timing: ``periodic_interval`` is the factory PeriodicInformInterval (the ACS may change
    it), varied by +-``jitter``; ``reboot_delay`` is how long a rebooting device is gone;
    failed sessions are retried after ``retry_min_wait`` (default: the device's
    CWMPRetryMinimumWaitInterval, 5 s) growing per TR-069 up to ``retry_max_wait``, or after
    the ACS's Retry-After; ``ramp`` spreads power-on over that many seconds.
    ``max_sessions`` bounds the sessions in flight (and the HTTP connections);
    ``start_bootstrapped`` makes devices skip "0 BOOTSTRAP" (an ACS that already knows them).
    ``journal_size`` bounds each device's journal and inform history: full ones cost about
    25 KB per device at the default of 32, so keep it modest for large fleets.
    ``quirks`` maps serial numbers to how those devices misbehave (see `Quirks`); a device's
    ``quirks`` attribute may also be changed while the fleet runs.
    ``nat="udp"`` or ``"xmpp"`` puts every device behind NAT (see `simulator.nat`): HTTP
    connection requests are refused, UDP ones (after STUN) or XMPP ones (device N logs in
    with ``xmpp_accounts[N - first_index]``, a (JID, password) pair, at ``xmpp_server``) work.
    """

    def __init__(
        self,
        acs_url: str,
        count: int,
        *,
        serial_prefix: str = "SIM",
        first_index: int = 1,
        flavour: str = "tr181",
        username: str = "{serial}",
        password: str = "{serial}-secret",
        connreq_username: str | None = None,
        connreq_password: str | None = None,
        periodic_interval: int = 300,
        software_version: str = "1.0.0",
        connreq_host: str = "127.0.0.1",
        connreq_port: int = 0,
        connreq_basic: bool = False,
        connreq_path: str = "serial",
        auth_mode: str = "auto",
        cwmp_version: str = "1.0",
        max_sessions: int = 32,
        request_timeout: float = 30.0,
        reboot_delay: float = 2.0,
        ramp: float = 0.0,
        jitter: float = 0.1,
        retry_min_wait: float | None = None,
        retry_max_wait: float = 600.0,
        start_bootstrapped: bool = False,
        journal_size: int = 32,
        seed: int | None = None,
        quirks: Mapping[str, Quirks] | None = None,
        nat: str | None = None,
        xmpp_accounts: Sequence[tuple[str, str]] = (),
        xmpp_server: tuple[str, int] | None = None,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}")
        if auth_mode not in AUTH_MODES:
            raise ValueError(f"auth_mode must be one of {', '.join(AUTH_MODES)}")
        if connreq_path not in ("serial", "token"):
            raise ValueError("connreq_path must be 'serial' or 'token'")
        if count < 0:
            raise ValueError("count must not be negative")
        if nat is not None and nat not in nat_reach.MODES:
            raise ValueError(f"nat must be one of {', '.join(nat_reach.MODES)}")
        if nat == "xmpp" and (xmpp_server is None or len(xmpp_accounts) < count):
            raise ValueError("nat='xmpp' needs xmpp_server and an XMPP account per device")
        self.nat = nat
        self.xmpp_accounts = list(xmpp_accounts)
        self.xmpp_server = xmpp_server
        #: serial -> the device's UdpReach or XmppReach, once started
        self.reach: dict[str, nat_reach.UdpReach | nat_reach.XmppReach] = {}
        self._refusing: socket.socket | None = None
        self.acs_url = acs_url
        self.flavour = flavour
        self.periodic_interval = periodic_interval
        self.settings = AgentSettings(
            session=SessionOptions(
                auth_mode=auth_mode, timeout=request_timeout, cwmp_version=cwmp_version
            ),
            reboot_delay=reboot_delay,
            jitter=jitter,
            ramp=ramp,
            retry_min_wait=retry_min_wait,
            retry_max_wait=retry_max_wait,
        )
        self.max_sessions = max_sessions
        self._connreq_options = {
            "host": connreq_host,
            "port": connreq_port,
            "allow_basic": connreq_basic,
        }
        self._rng = random.Random(seed)
        profiles = {
            name: Profile(
                flavour=name,
                acs_url=acs_url,
                interval=periodic_interval,
                product_class=_PRODUCT[name][0],
                model=_PRODUCT[name][1],
                software_version=software_version,
                username=username,
                password=password,
                cr_username=username if connreq_username is None else connreq_username,
                cr_password=password if connreq_password is None else connreq_password,
            )
            for name in _TREE_BUILDERS
        }
        self.devices: list[SimulatedDevice] = []
        self._by_serial: dict[str, SimulatedDevice] = {}
        self._by_path: dict[str, DeviceAgent] = {}
        for index in range(first_index, first_index + count):
            kind = flavour if flavour != "mixed" else ("tr181", "tr098")[(index - 1) % 2]
            serial = f"{serial_prefix}{index:06d}"
            device = SimulatedDevice(
                serial,
                index,
                profiles[kind],
                shared_tree(kind),
                journal_size=journal_size,
                bootstrapped=start_bootstrapped,
            )
            if connreq_path == "token":
                device.connreq_path = secrets.token_urlsafe(12)
            self.devices.append(device)
            self._by_serial[serial] = device
        if len(self._by_serial) != len(self.devices):
            raise ValueError("serial numbers collide; use a shorter prefix or fewer devices")
        for serial, device_quirks in (quirks or {}).items():
            self.device(serial).quirks = device_quirks
        self.agents: list[DeviceAgent] = []
        self.connreq: ConnectionRequestServer | None = None
        self._ctx: FleetContext | None = None
        self._errors: Counter[str] = Counter()
        self._last_errors: deque[str] = deque(maxlen=10)
        self._sessions_ok = 0
        self._sessions_failed = 0
        self.started_at: float | None = None

    # ------------------------------------------------------------------ lookup

    def __len__(self) -> int:
        return len(self.devices)

    def __iter__(self) -> Iterator[SimulatedDevice]:
        return iter(self.devices)

    def device(self, serial: str) -> SimulatedDevice:
        """The device with this serial number (KeyError if there is none)."""
        return self._by_serial[serial]

    def agent(self, serial: str) -> DeviceAgent:
        return self._by_path[self._by_serial[serial].connreq_path]

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the listener and the HTTP clients, then power every device on."""
        if self._ctx is not None:
            raise RuntimeError("fleet already started")
        shards = []
        remaining = max(1, self.max_sessions)
        while remaining > 0:
            size = min(CONNECTIONS_PER_CLIENT, remaining)
            remaining -= size
            shards.append(HttpShard(self._new_client(size), size))
        self._ctx = FleetContext(shards, self.settings, self._on_session, self._rng)
        for device in self.devices:
            agent = DeviceAgent(device, self._ctx)
            self.agents.append(agent)
            self._by_path[device.connreq_path] = agent
        self.connreq = ConnectionRequestServer(self._by_path.get, **self._connreq_options)  # type: ignore[arg-type]
        await self.connreq.start()
        for device in self.devices:
            device.connreq_url = self.connreq.url_for(device.connreq_path)
        if self.nat is not None:
            await self._start_nat()
        self.started_at = time.monotonic()
        for agent in self.agents:
            agent.start()

    async def _start_nat(self) -> None:
        self._refusing = nat_reach.refusing_port(self._connreq_options["host"])
        port = self._refusing.getsockname()[1]
        for n, agent in enumerate(self.agents):
            device = agent.device
            device.connreq_url = (
                f"http://{self._connreq_options['host']}:{port}/{device.connreq_path}"
            )
            if self.nat == "udp":
                reach = nat_reach.UdpReach(agent)
                await reach.start(self._connreq_options["host"])
            else:
                jid, password = self.xmpp_accounts[n]
                reach = nat_reach.XmppReach(agent, jid, password, self.xmpp_server)
                await reach.start()
            self.reach[device.serial] = reach

    def _new_client(self, connections: int) -> httpx.AsyncClient:
        # Cookies belong to one device's session, never to a shared client: a jar that
        # accepts nothing keeps one device's ACS session cookie away from all the others.
        no_cookies = http.cookiejar.CookieJar(
            policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        )
        return httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=connections,
                max_keepalive_connections=connections,
                keepalive_expiry=30.0,
            ),
            # Sessions wait for a slot before they send, so waiting for a connection is
            # rare and must not count against the request timeout.
            timeout=httpx.Timeout(self.settings.session.timeout, pool=None),
            cookies=no_cookies,
            follow_redirects=True,
            trust_env=False,  # never route 127.0.0.1 through a proxy from the environment
            headers={"User-Agent": "Linesman-CPE-Simulator/1.0"},
        )

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop every device, the listener and the client; safe to call twice."""
        ctx = self._ctx
        if ctx is None:
            return
        ctx.stopping = True
        for agent in self.agents:
            agent.wake()
        tasks = [a.task for a in self.agents if a.task is not None]
        if tasks:
            # Idle agents end at once; give sessions in flight a moment, then cancel them.
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.connreq is not None:
            await self.connreq.stop()
        for reach in self.reach.values():
            await reach.stop()
        self.reach.clear()
        if self._refusing is not None:
            self._refusing.close()
            self._refusing = None
        for shard in ctx.shards:
            await shard.pool.aclose()
            await shard.client.aclose()
        self._ctx = None
        self.agents.clear()
        self._by_path.clear()

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02
    ) -> bool:
        """Poll ``predicate`` until it is true or ``timeout`` passes; returns the last value."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(interval)
        return True

    # ------------------------------------------------------------------ statistics

    def _on_session(self, device: SimulatedDevice, error: SessionError | None) -> None:
        if error is None:
            self._sessions_ok += 1
            return
        self._sessions_failed += 1
        self._errors[error.kind] += 1
        self._last_errors.append(f"{device.serial}: {error}")

    def stats(self) -> FleetStats:
        stats = FleetStats(devices=len(self.devices))
        for device in self.devices:
            c = device.counters
            stats.online += device.online
            stats.bootstrapped += device.bootstrapped
            stats.in_session += device.in_session
            stats.informs += c.informs
            stats.rpcs += c.rpcs
            stats.connection_requests += c.connection_requests
            stats.reboots += c.reboots
            stats.factory_resets += c.factory_resets
            stats.downloads += c.downloads
        stats.sessions_ok = self._sessions_ok
        stats.sessions_failed = self._sessions_failed
        stats.errors = dict(self._errors)
        stats.last_errors = list(self._last_errors)
        return stats


# ---------------------------------------------------------------------- background thread


class SimulatorThread:
    """Run a fleet on its own event loop in a daemon thread, for synchronous tests::

    with SimulatorThread(Fleet(acs_url, 10)) as sim:
        sim.wait_until(lambda: sim.fleet.stats().bootstrapped == 10)
        sim.call(some_coroutine())
    """

    def __init__(self, fleet: Fleet, *, start_timeout: float = 30.0) -> None:
        self.fleet = fleet
        self.start_timeout = start_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SimulatorThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self.loop = loop
        self._thread = threading.Thread(target=run, name="linesman-simulator", daemon=True)
        self._thread.start()
        ready.wait(self.start_timeout)
        try:
            self.call(self.fleet.start(), timeout=self.start_timeout)
        except BaseException:
            self._shutdown_loop()
            raise

    def call(self, coro: Awaitable[T], timeout: float | None = 30.0) -> T:
        """Run a coroutine on the simulator's loop and return its result."""
        if self.loop is None:
            raise RuntimeError("not started")

        async def wrapper() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def run(self, fn: Callable[[], T], timeout: float | None = 30.0) -> T:
        """Run a plain function on the simulator's loop (to read or change device state
        without racing the devices)."""

        async def wrapper() -> T:
            return fn()

        return self.call(wrapper(), timeout)

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02
    ) -> bool:
        """Poll ``predicate`` (evaluated on the simulator's loop) until true or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if self.run(predicate):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def stop(self, timeout: float = 10.0) -> None:
        if self.loop is None:
            return
        try:
            self.call(self.fleet.stop(), timeout=timeout)
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        loop, thread = self.loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        if not thread.is_alive():
            loop.close()
        self.loop = None
        self._thread = None


# ---------------------------------------------------------------------- inventory


def device_record(
    device: SimulatedDevice, device_type_id: Any = None, organization_id: Any = None
) -> dict[str, Any]:
    """The inventory API's JSON for one device."""
    username, password = device.credentials()
    return {
        "name": device.serial,
        "serial_number": device.serial,
        "type": device_type_id,
        "organization_id": organization_id,
        "username": username,
        "password": password,
        "update_frequency": device.periodic_settings()[1],
    }


def fleet_csv(fleet: Fleet) -> str:
    """``name,serial_number,username,password,update_frequency`` CSV of the fleet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "serial_number", "username", "password", "update_frequency"])
    for device in fleet.devices:
        r = device_record(device)
        writer.writerow(
            [r["name"], r["serial_number"], r["username"], r["password"], r["update_frequency"]]
        )
    return out.getvalue()


@dataclass(slots=True)
class RegistrationResult:
    created: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (serial, why)


async def register_via_api(
    api_url: str,
    token: str,
    fleet: Fleet,
    device_type_id: Any,
    organization_id: Any,
    *,
    concurrency: int = 8,
    timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
    client: httpx.AsyncClient | None = None,
) -> RegistrationResult:
    """POST every device of the fleet to ``{api}/api/v1/inventory_device/``.

    ``progress(done, total)`` is called after each device. Failures are collected, not
    raised; the response text is kept short and never echoes the password back.
    """
    url = api_url.rstrip("/") + "/api/v1/inventory_device/"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    result = RegistrationResult()
    semaphore = asyncio.Semaphore(max(1, concurrency))
    total = len(fleet.devices)
    done = 0
    own_client = client is None
    http_client = client or httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def register(device: SimulatedDevice) -> None:
        nonlocal done
        record = device_record(device, device_type_id, organization_id)
        async with semaphore:
            try:
                response = await http_client.post(url, json=record, headers=headers)
            except httpx.HTTPError as exc:
                result.failed.append((device.serial, f"{type(exc).__name__}: {exc}"))
            else:
                if response.status_code in (200, 201):
                    result.created += 1
                else:
                    text = response.text[:200].replace(record["password"], "***")
                    result.failed.append((device.serial, f"HTTP {response.status_code}: {text}"))
        done += 1
        if progress is not None:
            progress(done, total)

    try:
        await asyncio.gather(*(register(d) for d in fleet.devices))
    finally:
        if own_client:
            await http_client.aclose()
    return result
