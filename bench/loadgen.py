"""A lean CWMP load generator: complete sessions as real CPEs run them, over keep-alive HTTP/1.1.

Modes (how a session authenticates; RFC 7616 Digest, MD5, qop=auth):

- `challenged` (what most CPEs do): the Inform goes out without credentials, the ACS answers
  401 with a fresh nonce, the device sends the Inform again with a fresh client nonce and
  nc=1, and its later requests in the session nc=2, 3, ... Three requests for a periodic
  session: 401, Inform, empty POST.
- `preemptive`: the device remembers the nonce of its previous session and sends the
  Inform with credentials at once (its count continuing); a 401 (the nonce expired, or no
  nonce yet: its first session of the run) makes it take the new nonce and send again.
  The nonce is per device, as a CPE keeps its own, never one for the fleet.

Each device runs one session at a time: a connection owns a slice of the fleet and goes
round it. Whatever RPC the ACS sends (first contact: the provisioning SetParameterValues,
the tree read's GetParameterNames and GetParameterValues) is answered with a minimal
success, until the 204. Written on raw asyncio streams rather than an HTTP library so the
generator's own cost stays small; run in several processes. Latency is recorded per kind
of request (challenge, inform, empty, rpc) for percentiles. `run(rate=...)` caps the
sessions started per second (default: as fast as the server answers).

`storm` is the end of a power outage (bench/operators.py): every device informs `1 BOOT`
at once, one session each, and a refused device retries with the TR-069 back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import random
import re
import time
from array import array
from dataclasses import dataclass, field

INFORM = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:cwmp="urn:dslforum-org:cwmp-1-0">'
    '<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">1</cwmp:ID></soap-env:Header>'
    "<soap-env:Body><cwmp:Inform><DeviceId><Manufacturer>Bench</Manufacturer>"
    "<OUI>00AABB</OUI><ProductClass>BenchGW</ProductClass>"
    "<SerialNumber>{serial}</SerialNumber></DeviceId>"
    '<Event soap-enc:arrayType="cwmp:EventStruct[1]"><EventStruct>'
    "<EventCode>{event}</EventCode><CommandKey></CommandKey></EventStruct></Event>"
    "<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime>"
    "<RetryCount>0</RetryCount>"
    '<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[4]">'
    "<ParameterValueStruct><Name>Device.DeviceInfo.SoftwareVersion</Name>"
    '<Value xsi:type="xsd:string">1.0.0</Value></ParameterValueStruct>'
    "<ParameterValueStruct><Name>Device.DeviceInfo.HardwareVersion</Name>"
    '<Value xsi:type="xsd:string">hw1</Value></ParameterValueStruct>'
    "<ParameterValueStruct><Name>Device.ManagementServer.ConnectionRequestURL</Name>"
    '<Value xsi:type="xsd:string">http://127.0.0.1:9/{serial}</Value></ParameterValueStruct>'
    "<ParameterValueStruct><Name>Device.ManagementServer.ParameterKey</Name>"
    '<Value xsi:type="xsd:string">bootstrap</Value></ParameterValueStruct>'
    "</ParameterList></cwmp:Inform></soap-env:Body></soap-env:Envelope>"
)
REALM = "Linesman ACS"
#: The Inform's event per phase: periodic for the steady state, bootstrap for first contact,
#: boot for a device that powers up again (after an outage: `storm`).
EVENTS = {"steady": "2 PERIODIC", "first-contact": "0 BOOTSTRAP", "boot": "1 BOOT"}
#: Parameters the simulated device has (what a tree read finds), with their values.
TREE = {
    "Device.DeviceInfo.SoftwareVersion": "1.0.0",
    "Device.DeviceInfo.HardwareVersion": "hw1",
    "Device.ManagementServer.PeriodicInformEnable": "true",
    "Device.ManagementServer.PeriodicInformInterval": "300",
    "Device.ManagementServer.ConnectionRequestUsername": "",
    "Device.ManagementServer.ConnectionRequestPassword": "",
    "Device.ManagementServer.ParameterKey": "bootstrap",
}
_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:cwmp="urn:dslforum-org:cwmp-1-0">'
    '<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">{id}</cwmp:ID></soap-env:Header>'
    "<soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
)
# Prefixes are NCNames: `soap-env:` has a hyphen.
_METHOD = re.compile(rb"<(?:[\w.-]+:)?Body>\s*<(?:[\w.-]+:)?(\w+)")
_ID = re.compile(rb"<(?:[\w.-]+:)?ID[^>]*>([^<]*)<")
_NAME = re.compile(rb"<string>([^<]*)</string>")
_NONCE = re.compile(r'nonce="([^"]+)"')
KINDS = ("challenge", "inform", "empty", "rpc")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest specifies MD5


def rpc_answer(body: bytes) -> bytes:
    """A minimal successful answer to an RPC the ACS sent (a fault for unknown methods)."""
    method = _METHOD.search(body)
    if method is None:  # the generator's own fault: it would answer every RPC with a fault
        raise ValueError(f"no RPC found in the ACS's message: {body[:200]!r}")
    name = method.group(1).decode()
    found = _ID.search(body)
    cwmp_id = found.group(1).decode() if found else ""
    if name == "SetParameterValues":
        answer = (
            "<cwmp:SetParameterValuesResponse><Status>0</Status></cwmp:SetParameterValuesResponse>"
        )
    elif name == "GetParameterNames":
        items = "".join(
            f"<ParameterInfoStruct><Name>{n}</Name><Writable>true</Writable></ParameterInfoStruct>"
            for n in TREE
        )
        answer = (
            "<cwmp:GetParameterNamesResponse>"
            f'<ParameterList soap-enc:arrayType="cwmp:ParameterInfoStruct[{len(TREE)}]">'
            f"{items}</ParameterList></cwmp:GetParameterNamesResponse>"
        )
    elif name == "GetParameterValues":
        names = [n.decode() for n in _NAME.findall(body)]
        items = "".join(
            f"<ParameterValueStruct><Name>{n}</Name>"
            f'<Value xsi:type="xsd:string">{TREE.get(n, "")}</Value></ParameterValueStruct>'
            for n in names
        )
        answer = (
            "<cwmp:GetParameterValuesResponse>"
            f'<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[{len(names)}]">'
            f"{items}</ParameterList></cwmp:GetParameterValuesResponse>"
        )
    elif name == "SetParameterAttributes":
        answer = "<cwmp:SetParameterAttributesResponse/>"
    else:
        answer = (
            "<soap-env:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring>"
            "<detail><cwmp:Fault><FaultCode>9000</FaultCode><FaultString>Method not supported"
            "</FaultString></cwmp:Fault></detail></soap-env:Fault>"
        )
    return _ENVELOPE.format(id=cwmp_id, body=answer).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            headers[key] = (
                (headers[key] + ", " + value.strip()) if key in headers else value.strip()
            )
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


@dataclass
class Device:
    serial: str
    ha1: str
    #: The server nonce this device holds (preemptive mode keeps it across sessions).
    nonce: str = ""
    nc: int = 0
    #: The Retry-After (seconds) of the ACS's last 503 to this device, None without one.
    retry_after: float | None = None


@dataclass
class Stats:
    sessions: int = 0
    errors: int = 0
    challenges: int = 0  # 401s answered (the challenge, or a stale/expired nonce)
    rpcs: int = 0  # RPCs the ACS sent and the devices answered
    elapsed: float = 0.0  # seconds the sessions ran (first contact: until all were done)
    statuses: dict[int, int] = field(default_factory=dict)
    latency: dict[str, array] = field(default_factory=lambda: {k: array("d") for k in KINDS})
    # The storm's (`storm`): failed sessions that were retried, and why some failed.
    retries: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    retried_devices: int = 0  # devices that needed at least one retry
    most_retries: int = 0  # the most one device needed
    served: array = field(default_factory=lambda: array("d"))  # time.monotonic() of each


class Link:
    """A device's keep-alive connection, or, with several ports (nodes), one per node with
    each request sent to the next, as a round-robin balancer without stickiness would."""

    def __init__(self, host: str, ports: list[int], path: str, stats: Stats) -> None:
        self.host, self.ports, self.path, self.stats = host, ports, path, stats
        self.streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None]
        self.streams = [None] * len(ports)
        self.turn = 0

    def close(self) -> None:
        for i, stream in enumerate(self.streams):
            if stream is not None:
                stream[1].close()
                self.streams[i] = None

    async def post(
        self, kind: str, body: bytes, device: Device | None, cookie: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        """POST `body`, with Digest credentials on `device`'s nonce (next count) if given."""
        i = self.turn % len(self.ports)
        self.turn += 1
        if self.streams[i] is None:
            self.streams[i] = await asyncio.open_connection(self.host, self.ports[i])
        reader, writer = self.streams[i]
        head = f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.ports[i]}\r\n"
        if body:
            head += 'Content-Type: text/xml; charset=utf-8\r\nSOAPAction: ""\r\n'
        if cookie:
            head += f"Cookie: {cookie}\r\n"
        if device is not None:
            device.nc += 1
            head += _authorization(device, self.path)
        started = time.perf_counter()
        writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status, headers, answer = await _read_response(reader)
        self.stats.latency[kind].append(time.perf_counter() - started)
        self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
        if headers.get("connection", "").lower() == "close":
            writer.close()
            self.streams[i] = None
        return status, headers, answer


def _authorization(device: Device, path: str) -> str:
    ncs = f"{device.nc:08x}"
    cnonce = os.urandom(8).hex()
    ha2 = _md5(f"POST:{path}")
    response = _md5(f"{device.ha1}:{device.nonce}:{ncs}:{cnonce}:auth:{ha2}")
    return (
        f'Authorization: Digest username="{device.serial}", realm="{REALM}", '
        f'nonce="{device.nonce}", uri="{path}", qop=auth, nc={ncs}, cnonce="{cnonce}", '
        f'response="{response}", algorithm=MD5\r\n'
    )


def _take_nonce(device: Device, headers: dict[str, str]) -> bool:
    match = _NONCE.search(headers.get("www-authenticate", ""))
    if match is None:
        return False
    device.nonce, device.nc = match.group(1), 0
    return True


#: How long a device waits after a 503 before it tries again. A real CPE honours
#: Retry-After (seconds); the benchmark retries sooner to keep the load up, and counts them.
BACKOFF_503 = 0.05


async def session(
    link: Link, device: Device, mode: str, phase: str, stats: Stats, backoff: float = BACKOFF_503
) -> bool:
    """One complete session of `device`; whether it ended in the ACS's 204. A 503 to the
    Inform sets `device.retry_after` and waits `backoff` seconds before returning."""
    body = INFORM.format(serial=device.serial, event=EVENTS[phase]).encode()
    if mode == "challenged":
        device.nonce, device.nc = "", 0  # a fresh server nonce every session
    for _ in range(3):  # the challenge, one retry on a stale nonce, and the last try
        kind = "inform" if device.nonce else "challenge"
        status, headers, _ = await link.post(kind, body, device if device.nonce else None)
        if status == 401:
            stats.challenges += 1
            if not _take_nonce(device, headers):
                return False
            continue
        break
    if status == 503:
        device.retry_after = _retry_after(headers)
        if backoff:
            await asyncio.sleep(backoff)
        return False
    if status != 200:
        return False
    cookie = headers.get("set-cookie", "").split(";", 1)[0]
    answer, kind = b"", "empty"
    while True:
        status, headers, reply = await link.post(kind, answer, device, cookie)
        if status == 204:
            return True
        if status != 200 or not reply:
            return False
        stats.rpcs += 1
        answer, kind = rpc_answer(reply), "rpc"


def _retry_after(headers: dict[str, str]) -> float | None:
    """Retry-After in seconds (the delay form; an HTTP date is not what ACSs send)."""
    value = headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


#: First contact: how often a device whose session failed tries again within the run.
RETRIES = 5


class Pacer:
    """Sessions started per second in one process, at most `rate`: each start takes the
    next slot 1/rate after the previous one (a token bucket of depth one, so that a slow
    spell is not followed by a burst)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(self.next, now)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


async def _connection(
    host, ports, path, devices, mode, phase, once, deadline, stats, pacer: Pacer | None = None
):
    """Sessions of `devices` (this connection's slice of the fleet), in turn; `once`: each
    device until it has had one complete session (first contact), retrying failures;
    `pacer`: the process's limit on sessions started per second."""
    link = Link(host, ports, path, stats)
    pending = list(devices)
    failures: dict[str, int] = {}
    turn = 0
    while time.monotonic() < deadline and pending:
        if once:
            device = pending.pop()
        else:
            device = pending[turn % len(pending)]
            turn += 1
        if pacer is not None:
            await pacer.wait()
            if time.monotonic() >= deadline:
                break
        try:
            ok = await session(link, device, mode, phase, stats)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            ok = False
            link.close()
        if ok:
            stats.sessions += 1
            continue
        stats.errors += 1
        if once and failures.get(device.serial, 0) < RETRIES:
            failures[device.serial] = failures.get(device.serial, 0) + 1
            pending.insert(0, device)
    link.close()


def _worker(args) -> Stats:
    host, ports, path, serials, password, mode, phase, once, duration, connections, rate = args
    stats = Stats()
    fleet = [Device(s, _md5(f"{s}:{REALM}:{password}")) for s in serials]
    pacer = Pacer(rate) if rate else None

    async def main():
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(
            *(
                _connection(
                    *(host, ports, path, fleet[i::connections], mode, phase, once, deadline),
                    stats,
                    pacer,
                )
                for i in range(connections)
            ),
            return_exceptions=True,
        )
        stats.elapsed = time.monotonic() - started

    asyncio.run(main())
    return stats


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(
    host: str,
    port: int | list[int],
    serials: list[str],
    password: str,
    *,
    duration: float,
    processes: int,
    connections: int,
    mode: str = "challenged",
    phase: str = "steady",
    once: bool = False,
    path: str = "/cwmp/",
    rate: float | None = None,
) -> dict:
    """Drive sessions for `duration` seconds (or, `once`, until every device had one);
    returns totals, sessions per second and per-kind latency percentiles (ms). Several
    ports: each request goes to the next (see `Link`). `rate`: at most this many sessions
    started per second across all processes (None: as fast as the server answers)."""
    ports = port if isinstance(port, list) else [port]
    jobs = [
        (
            host,
            ports,
            path,
            serials[i::processes],
            password,
            mode,
            phase,
            once,
            duration,
            connections,
            rate / processes if rate else None,
        )
        for i in range(processes)
    ]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results: list[Stats] = pool.map(_worker, jobs)
    return _totals(results)


def _totals(results: list[Stats]) -> dict:
    # The window the sessions ran in: the duration, or less when `once` ran out of devices.
    elapsed = max(r.elapsed for r in results)
    statuses: dict[int, int] = {}
    latency: dict[str, list[float]] = {k: [] for k in KINDS}
    for r in results:
        for code, n in r.statuses.items():
            statuses[code] = statuses.get(code, 0) + n
        for k in KINDS:
            latency[k].extend(r.latency[k])
    sessions = sum(r.sessions for r in results)
    return {
        "sessions": sessions,
        "errors": sum(r.errors for r in results),
        "challenges": sum(r.challenges for r in results),
        "rpcs": sum(r.rpcs for r in results),
        "elapsed": elapsed,
        "per_second": sessions / elapsed if elapsed else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "latency_ms": {
            k: (len(v), percentile(v, 0.5) * 1000, percentile(v, 0.99) * 1000)
            for k, v in latency.items()
            if v
        },
    }


# ---------------------------------------------------------------------- power outage

#: TR-069 section 3.2.1.1, the defaults of CWMPRetryMinimumWaitInterval (seconds) and
#: CWMPRetryIntervalMultiplier (2000, in thousandths).
RETRY_MIN_WAIT = 5.0
RETRY_MULTIPLIER = 2.0


def retry_wait(
    retries: int, rng: random.Random, m: float = RETRY_MIN_WAIT, k: float = RETRY_MULTIPLIER
) -> float:
    """TR-069 section 3.2.1.1: after the n-th failed session in a row a CPE waits a random
    time in [m*k^(n-1), m*k^n] seconds, n counted up to 10 (with the defaults 5-10 s,
    10-20 s, ..., 2560-5120 s from the tenth retry on)."""
    low = m * k ** (min(max(retries, 1), 10) - 1)
    return rng.uniform(low, low * k)


async def _storm(host, ports, path, fleet, mode, connections, scale, deadline, timeout, stats):
    """Every device of `fleet` (this process's share) informs `1 BOOT` at once; the sessions
    go through `connections` connections. A device whose session fails (a 503, another
    status, a connection error, no answer within `timeout` seconds) waits the ACS's
    Retry-After if it sent one, else the TR-069 retry interval, both times `scale`, and
    tries again; none is given up on. Ends when every device had one complete session, or
    at `deadline`."""
    rng = random.Random(os.getpid())
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[Device] = asyncio.Queue()
    for device in fleet:
        ready.put_nowait(device)
    retries: dict[str, int] = {}
    left = len(fleet)
    all_served = asyncio.Event()

    async def connection() -> None:
        nonlocal left
        link = Link(host, ports, path, stats)
        try:
            while True:
                device = await ready.get()
                device.retry_after = None
                try:
                    ok = await asyncio.wait_for(
                        session(link, device, mode, "boot", stats, backoff=0), timeout
                    )
                except TimeoutError:  # before OSError, of which it is one
                    ok = False
                    stats.timeouts += 1
                    link.close()
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    ok = False
                    stats.connection_errors += 1
                    link.close()
                except ValueError:  # an ACS message the generator could not answer
                    ok = False
                    link.close()
                if ok:
                    stats.sessions += 1
                    stats.served.append(time.monotonic())
                    left -= 1
                    if not left:
                        all_served.set()
                    continue
                stats.errors += 1
                stats.retries += 1
                n = retries[device.serial] = retries.get(device.serial, 0) + 1
                wait = device.retry_after
                if wait is None:
                    wait = retry_wait(n, rng)
                loop.call_later(wait * scale, ready.put_nowait, device)
        finally:
            link.close()

    if fleet:
        tasks = [asyncio.create_task(connection()) for _ in range(connections)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_served.wait(), max(0.0, deadline - time.monotonic()))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    stats.retried_devices = len(retries)
    stats.most_retries = max(retries.values(), default=0)


def _storm_worker(args) -> Stats:
    host, ports, path, serials, password, mode, connections, scale, started, limit, timeout = args
    stats = Stats()
    fleet = [Device(s, _md5(f"{s}:{REALM}:{password}")) for s in serials]

    async def main():
        await _storm(
            *(host, ports, path, fleet, mode, connections, scale, started + limit, timeout),
            stats,
        )
        stats.elapsed = time.monotonic() - started

    asyncio.run(main())
    return stats


def storm(
    host: str,
    port: int | list[int],
    serials: list[str],
    password: str,
    *,
    processes: int,
    connections: int,
    backoff_scale: float = 1.0,
    time_limit: float = 3600.0,
    timeout: float = 30.0,
    mode: str = "challenged",
    path: str = "/cwmp/",
) -> dict:
    """A power outage ends: every device informs `1 BOOT` at once, one session each, through
    `connections` connections in each of `processes` processes, retrying refused sessions
    with the CWMP back-off (see `_storm`) scaled by `backoff_scale`, for at most
    `time_limit` seconds. Returns `run`'s figures plus: `served` (devices that had their
    session), `all_served_s` (seconds from the start until the last was served, None if
    some never were), `served_at` (seconds from the start, sorted), retries and why."""
    ports = port if isinstance(port, list) else [port]
    started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
    jobs = [
        (host, ports, path, serials[i::processes], password, mode, connections)
        + (backoff_scale, started, time_limit, timeout)
        for i in range(processes)
    ]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results: list[Stats] = pool.map(_storm_worker, jobs)
    totals = _totals(results)
    served_at = sorted(t - started for r in results for t in r.served)
    totals.update(
        served=len(served_at),
        served_at=served_at,
        all_served_s=served_at[-1] if served_at and len(served_at) == len(serials) else None,
        retries=sum(r.retries for r in results),
        retried_devices=sum(r.retried_devices for r in results),
        most_retries=max(r.most_retries for r in results),
        timeouts=sum(r.timeouts for r in results),
        connection_errors=sum(r.connection_errors for r in results),
    )
    return totals
