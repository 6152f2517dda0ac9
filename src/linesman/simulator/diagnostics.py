"""The simulator's diagnostics: their data-model objects and how they run.

A diagnostic requested with DiagnosticsState=Requested runs after the session that asked
for it, then the device informs `8 DIAGNOSTICS COMPLETE`. Results depend on the inputs and
never touch a network other than loopback:

- names resolve through a small fixed table (`HOSTS`) or, for `localhost` only, the system
  resolver; anything else cannot be resolved;
- ping / UDP echo / trace route reach loopback and the device's own LAN address; any other
  address is unreachable (every packet lost, a trace route runs out of hops). UDP echo to
  loopback really sends its datagrams and counts the echoes;
- download and upload tests really transfer over HTTP (to the ACS's speed-test file server
  on loopback) and report the bytes and the times measured;
- the Wi-Fi neighbour scan reports a fixed set of neighbours derived from the serial.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from linesman.simulator.datamodel import BOOL, INT, UINT, Decl, O, P, T

if TYPE_CHECKING:
    from linesman.simulator.device import SimulatedDevice

#: Names the simulated world knows (besides IP literals and `localhost`).
HOSTS = {
    "gateway.lan": "192.168.1.1",
    "acs.test": "127.0.0.1",
    "unreachable.test": "192.0.2.1",  # TEST-NET-1: resolves, never answers
}
LAN_ADDRESS = "192.168.1.1"

_STATES = (
    "None",
    "Requested",
    "Complete",
    "Error_CannotResolveHostName",
    "Error_Internal",
    "Error_Other",
)


def _state(*errors: str) -> Decl:
    return P("DiagnosticsState", "None", w=True, enum=_STATES + errors)


def _ping_like(name: str, *extra: Decl) -> Decl:
    return O(
        name,
        _state(),
        P("Interface", w=True),
        P("Host", w=True, max_len=256),
        *extra,
        P("NumberOfRepetitions", "4", UINT, w=True, min=1),
        P("Timeout", "1000", UINT, w=True, min=1),
        P("DataBlockSize", "64", UINT, w=True, min=1, max=65535),
        P("DSCP", "0", UINT, w=True, max=63),
        P("SuccessCount", "0", UINT),
        P("FailureCount", "0", UINT),
        P("AverageResponseTime", "0", UINT),
        P("MinimumResponseTime", "0", UINT),
        P("MaximumResponseTime", "0", UINT),
    )


_TRANSFER_ERRORS = (
    "Error_InitConnectionFailed",
    "Error_NoResponse",
    "Error_TransferFailed",
    "Error_PasswordRequestFailed",
    "Error_LoginFailed",
    "Error_NoTransferMode",
    "Error_NoPASV",
    "Error_IncorrectSize",
    "Error_Timeout",
)


def _transfer(name: str, url: str, *fields: Decl) -> Decl:
    return O(
        name,
        _state(*_TRANSFER_ERRORS),
        P("Interface", w=True),
        P(url, w=True, max_len=1024),
        P("DSCP", "0", UINT, w=True, max=63),
        P("EthernetPriority", "0", UINT, w=True, max=7),
        *fields,
        P("ROMTime", "0001-01-01T00:00:00Z"),
        P("BOMTime", "0001-01-01T00:00:00Z"),
        P("EOMTime", "0001-01-01T00:00:00Z"),
        P("TCPOpenRequestTime", "0001-01-01T00:00:00Z"),
        P("TCPOpenResponseTime", "0001-01-01T00:00:00Z"),
    )


def _trace_route(name: str) -> Decl:
    return O(
        name,
        _state("Error_MaxHopCountExceeded"),
        P("Interface", w=True),
        P("Host", w=True, max_len=256),
        P("NumberOfTries", "3", UINT, w=True, min=1, max=3),
        P("Timeout", "5000", UINT, w=True, min=1),
        P("DataBlockSize", "38", UINT, w=True, min=1, max=65535),
        P("DSCP", "0", UINT, w=True, max=63),
        P("MaxHopCount", "30", UINT, w=True, min=1, max=64),
        P("ResponseTime", "0", UINT),
        # Written by the device itself; writable only so the simulator can add its rows.
        T(
            "RouteHops",
            [P("Host"), P("HostAddress"), P("ErrorCode", "0", UINT), P("RTTimes")],
            w=True,
            max_entries=64,
        ),
    )


def tr098_objects() -> list[Decl]:
    """InternetGatewayDevice.*Diagnostics. (TR-098 has no UDP echo, NSLookup or Wi-Fi scan)."""
    return [
        _ping_like("IPPingDiagnostics"),
        _trace_route("TraceRouteDiagnostics"),
        _transfer(
            "DownloadDiagnostics",
            "DownloadURL",
            P("TestBytesReceived", "0", UINT),
            P("TotalBytesReceived", "0", UINT),
        ),
        _transfer(
            "UploadDiagnostics",
            "UploadURL",
            P("TestFileLength", "0", UINT, w=True),
            P("TotalBytesSent", "0", UINT),
        ),
    ]


def tr181_ip_diagnostics() -> Decl:
    """Device.IP.Diagnostics."""
    return O(
        "Diagnostics",
        _ping_like("IPPing", P("IPAddressUsed")),
        _trace_route("TraceRoute"),
        _transfer(
            "DownloadDiagnostics",
            "DownloadURL",
            P("TestBytesReceived", "0", UINT),
            P("TotalBytesReceived", "0", UINT),
        ),
        _transfer(
            "UploadDiagnostics",
            "UploadURL",
            P("TestFileLength", "0", UINT, w=True),
            P("TotalBytesSent", "0", UINT),
        ),
        _ping_like(
            "UDPEchoDiagnostics",
            P("Port", "0", UINT, w=True, max=65535),
            P("InterTransmissionTime", "1000", UINT, w=True, min=1, max=65535),
        ),
    )


def tr181_dns_diagnostics() -> Decl:
    """Device.DNS.Diagnostics."""
    return O(
        "Diagnostics",
        O(
            "NSLookupDiagnostics",
            _state("Error_DNSServerNotResolved"),
            P("Interface", w=True),
            P("HostName", w=True, max_len=256),
            P("DNSServer", w=True, max_len=256),
            P("Timeout", "1000", UINT, w=True, min=1),
            P("NumberOfRepetitions", "1", UINT, w=True, min=1),
            P("SuccessCount", "0", UINT),
            T(
                "Result",
                [
                    P("Status"),
                    P("AnswerType"),
                    P("HostNameReturned"),
                    P("IPAddresses"),
                    P("DNSServerIP"),
                    P("ResponseTime", "0", UINT),
                ],
                w=True,
                max_entries=16,
            ),
        ),
    )


def tr181_wifi_neighbours() -> Decl:
    """Device.WiFi.NeighboringWiFiDiagnostic."""
    return O(
        "NeighboringWiFiDiagnostic",
        P("DiagnosticsState", "None", w=True, enum=_STATES),
        T(
            "Result",
            [
                P("Radio"),
                P("SSID"),
                P("BSSID"),
                P("Mode", "Infrastructure"),
                P("Channel", "0", UINT),
                P("SignalStrength", "0", INT),
                P("SecurityModeEnabled"),
                P("OperatingFrequencyBand"),
                P("OperatingChannelBandwidth"),
                P("Noise", "0", INT),
                P("BeaconPeriod", "100", UINT),
                P("DTIMPeriod", "1", UINT),
                P("Enabled", "true", BOOL),
            ],
            w=True,
            max_entries=32,
        ),
    )


# --------------------------------------------------------------------------- running them


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def resolve(host: str) -> str | None:
    """The address a name stands for in the simulated world, or None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host in HOSTS:
        return HOSTS[host]
    if host == "localhost":
        try:
            return socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]
        except OSError:
            return "127.0.0.1"
    return None


def reachable(address: str) -> bool:
    return address == LAN_ADDRESS or ipaddress.ip_address(address).is_loopback


def _uint(model, path: str, default: int) -> int:
    try:
        return int(model.get_or(path, str(default)))
    except ValueError:
        return default


def _set(model, obj: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        if model.exists(obj + name):
            model.set(obj + name, value)


def _clear_rows(model, table: str) -> None:
    for number in model.instances(table):
        model.delete_object(f"{table}{number}.")


def _add_rows(model, table: str, rows: list[dict[str, str]]) -> None:
    _clear_rows(model, table)
    for row in rows:
        number = model.add_object(table)
        for name, value in row.items():
            model.set(f"{table}{number}.{name}", value)


def _rtt(address: str, size: int) -> int:
    """A deterministic round trip: loopback 1 ms, the LAN 2 ms, plus 1 ms per 1000 bytes."""
    return (1 if ipaddress.ip_address(address).is_loopback else 2) + size // 1000


def _ping(model, obj: str) -> str:
    address = resolve(model.get_or(obj + "Host", ""))
    if address is None:
        return "Error_CannotResolveHostName"
    count = _uint(model, obj + "NumberOfRepetitions", 4)
    if reachable(address):
        rtt = _rtt(address, _uint(model, obj + "DataBlockSize", 64))
        values = {"SuccessCount": count, "FailureCount": 0, "MinimumResponseTime": rtt}
        values |= {"AverageResponseTime": rtt, "MaximumResponseTime": rtt}
    else:
        values = {"SuccessCount": 0, "FailureCount": count, "MinimumResponseTime": 0}
        values |= {"AverageResponseTime": 0, "MaximumResponseTime": 0}
    _set(model, obj, {k: str(v) for k, v in values.items()} | {"IPAddressUsed": "192.168.1.1"})
    return "Complete"


def _trace_route_run(model, obj: str, gateway: str) -> str:
    address = resolve(model.get_or(obj + "Host", ""))
    if address is None:
        return "Error_CannotResolveHostName"
    tries = _uint(model, obj + "NumberOfTries", 3)
    if reachable(address):
        rtt = str(_rtt(address, _uint(model, obj + "DataBlockSize", 38)))
        hop = {"Host": model.get_or(obj + "Host", ""), "HostAddress": address, "ErrorCode": "0"}
        _add_rows(model, obj + "RouteHops.", [hop | {"RTTimes": ",".join([rtt] * tries)}])
        _set(model, obj, {"ResponseTime": rtt, "RouteHopsNumberOfEntries": "1"})
        return "Complete"
    hops = [
        {
            "Host": gateway,
            "HostAddress": gateway,
            "ErrorCode": "0",
            "RTTimes": "3,3,3"[: 2 * tries - 1],
        }
    ]
    limit = _uint(model, obj + "MaxHopCount", 30)
    hops += [{"Host": "", "HostAddress": "", "ErrorCode": "11", "RTTimes": ""}] * (limit - 1)
    _add_rows(model, obj + "RouteHops.", hops[:limit])
    _set(model, obj, {"ResponseTime": "0", "RouteHopsNumberOfEntries": str(min(limit, len(hops)))})
    return "Error_MaxHopCountExceeded"


def _nslookup(model, obj: str) -> str:
    name = model.get_or(obj + "HostName", "")
    address = resolve(name)
    server = model.get_or(obj + "DNSServer", "") or "127.0.0.53"
    if resolve(server) is None:
        return "Error_DNSServerNotResolved"
    count = _uint(model, obj + "NumberOfRepetitions", 1)
    if address is None:
        row = {"Status": "Error_HostNameNotResolved", "AnswerType": "None", "HostNameReturned": ""}
        row |= {"IPAddresses": "", "DNSServerIP": server, "ResponseTime": "1"}
        success = 0
    else:
        row = {"Status": "Success", "AnswerType": "Authoritative", "HostNameReturned": name}
        row |= {"IPAddresses": address, "DNSServerIP": server, "ResponseTime": "1"}
        success = count
    _add_rows(model, obj + "Result.", [row] * count)
    _set(model, obj, {"SuccessCount": str(success), "ResultNumberOfEntries": str(count)})
    return "Complete"


def _wifi_scan(model, obj: str, serial: str) -> str:
    seed = hashlib.sha256(serial.encode()).digest()
    rows = []
    for n in range(3):
        band = "2.4GHz" if n < 2 else "5GHz"
        channel = (1, 6, 36)[n] + (seed[n] % 4 if n < 2 else 4 * (seed[n] % 4))
        rows.append(
            {
                "Radio": f"Device.WiFi.Radio.{1 if n < 2 else 2}",
                "SSID": f"Neighbour-{seed[n]:02x}{seed[n + 3]:02x}",
                "BSSID": "02:" + ":".join(f"{b:02x}" for b in seed[n * 5 : n * 5 + 5]),
                "Channel": str(channel),
                "SignalStrength": str(-45 - seed[n] % 40),
                "SecurityModeEnabled": ("WPA2-Personal", "WPA3-Personal", "None")[n],
                "OperatingFrequencyBand": band,
                "OperatingChannelBandwidth": "20MHz" if n < 2 else "80MHz",
            }
        )
    _add_rows(model, obj + "Result.", rows)
    _set(model, obj, {"ResultNumberOfEntries": str(len(rows))})
    return "Complete"


def _udp_echo_blocking(
    address: str, port: int, count: int, size: int, timeout: float
) -> list[float]:
    """Send `count` datagrams and time the echoes (seconds); lost ones are left out."""
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for n in range(count):
            payload = n.to_bytes(4, "big") + b"\0" * max(0, size - 4)
            start = time.perf_counter()
            try:
                sock.sendto(payload, (address, port))
                data, _ = sock.recvfrom(65536)
            except OSError:
                continue
            if data[:4] == payload[:4]:
                times.append(time.perf_counter() - start)
    return times


async def _udp_echo(model, obj: str) -> str:
    address = resolve(model.get_or(obj + "Host", ""))
    if address is None:
        return "Error_CannotResolveHostName"
    count = _uint(model, obj + "NumberOfRepetitions", 4)
    port = _uint(model, obj + "Port", 0)
    times: list[float] = []
    if ipaddress.ip_address(address).is_loopback and port:
        timeout = _uint(model, obj + "Timeout", 1000) / 1000
        size = _uint(model, obj + "DataBlockSize", 64)
        times = await asyncio.to_thread(_udp_echo_blocking, address, port, count, size, timeout)
    ms = [max(1, round(t * 1000)) for t in times]
    _set(
        model,
        obj,
        {
            "SuccessCount": str(len(ms)),
            "FailureCount": str(count - len(ms)),
            "MinimumResponseTime": str(min(ms, default=0)),
            "AverageResponseTime": str(sum(ms) // len(ms) if ms else 0),
            "MaximumResponseTime": str(max(ms, default=0)),
        },
    )
    return "Complete"


async def _download(model, obj: str, client: httpx.AsyncClient) -> str:
    url = model.get_or(obj + "DownloadURL", "")
    rom = now_iso()
    received = 0
    bom = ""
    try:
        async with client.stream("GET", url, timeout=60.0) as response:
            bom = now_iso()
            if response.status_code != 200:
                _set(model, obj, {"ROMTime": rom, "BOMTime": bom, "EOMTime": now_iso()})
                return "Error_NoResponse"
            async for chunk in response.aiter_bytes():
                received += len(chunk)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.InvalidURL):
        return "Error_InitConnectionFailed"
    except httpx.HTTPError:
        return "Error_TransferFailed"
    eom = now_iso()
    _set(
        model,
        obj,
        {
            "ROMTime": rom,
            "BOMTime": bom,
            "EOMTime": eom,
            "TCPOpenRequestTime": rom,
            "TCPOpenResponseTime": bom,
            "TestBytesReceived": str(received),
            "TotalBytesReceived": str(received),
        },
    )
    return "Complete"


async def _upload(model, obj: str, client: httpx.AsyncClient) -> str:
    url = model.get_or(obj + "UploadURL", "")
    length = _uint(model, obj + "TestFileLength", 0)
    rom = now_iso()

    async def body():
        # Streamed: a 100 MB test must not cost the simulator 100 MB.
        block = b"\0" * 65536
        left = length
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)

    try:
        response = await client.put(
            url, content=body(), headers={"Content-Length": str(length)}, timeout=60.0
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.InvalidURL):
        return "Error_InitConnectionFailed"
    except httpx.HTTPError:
        return "Error_TransferFailed"
    eom = now_iso()
    if response.status_code not in (200, 201, 204):
        return "Error_NoResponse"
    if _received(response) not in (None, length):
        return "Error_IncorrectSize"  # the ACS's speed-test server says what arrived
    _set(
        model,
        obj,
        {
            "ROMTime": rom,
            "BOMTime": rom,
            "EOMTime": eom,
            "TCPOpenRequestTime": rom,
            "TCPOpenResponseTime": rom,
            "TotalBytesSent": str(length),
        },
    )
    return "Complete"


def _received(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    received = body.get("received") if isinstance(body, dict) else None
    return received if isinstance(received, int) else None


async def run(device: SimulatedDevice, obj: str, client: httpx.AsyncClient) -> None:
    """Run the diagnostic of object `obj` (e.g. ``Device.IP.Diagnostics.IPPing.``)."""
    model = device.model
    name = obj.rstrip(".").rsplit(".", 1)[-1]
    try:
        if name in ("IPPing", "IPPingDiagnostics"):
            state = _ping(model, obj)
        elif name in ("TraceRoute", "TraceRouteDiagnostics"):
            state = _trace_route_run(model, obj, device.identity["wan_gateway"])
        elif name == "DownloadDiagnostics":
            state = await _download(model, obj, client)
        elif name == "UploadDiagnostics":
            state = await _upload(model, obj, client)
        elif name == "UDPEchoDiagnostics":
            state = await _udp_echo(model, obj)
        elif name == "NSLookupDiagnostics":
            state = _nslookup(model, obj)
        elif name == "NeighboringWiFiDiagnostic":
            state = _wifi_scan(model, obj, device.serial)
        else:
            state = "Error_Other"
    except Exception:  # a broken diagnostic must not kill the device's agent
        state = "Error_Internal"
    model.set(obj + "DiagnosticsState", state)
