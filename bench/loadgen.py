"""A lean CWMP load generator: complete periodic-inform sessions over keep-alive HTTP/1.1.

Each session is what a real device does every interval: POST Inform (Digest-authenticated,
reusing a server nonce with an increasing nonce count; each connection has a nonce of its
own, as the ACS accepts each count of a nonce once, and takes a new one from a 401), read
InformResponse and its cookie, POST an empty body, read 204. Written on raw asyncio
streams rather than an HTTP library so the generator's own cost stays small; run in
several processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import random
import re
import time

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
    "<EventCode>2 PERIODIC</EventCode><CommandKey></CommandKey></EventStruct></Event>"
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


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


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


class Stats:
    def __init__(self) -> None:
        self.sessions = 0
        self.errors = 0
        self.statuses: dict[int, int] = {}


async def _connection(host, ports, serials, password, digest, deadline, stats, path):
    while time.monotonic() < deadline:
        try:
            await _sessions(host, ports, serials, password, digest, deadline, stats, path)
        except (OSError, asyncio.IncompleteReadError):
            stats.errors += 1  # the server closed the connection: open a new one


async def _sessions(host, ports, serials, password, digest, deadline, stats, path):
    """Sessions over one connection per node; with several nodes each request of a
    session goes to the next node, as a round-robin balancer without stickiness would."""
    links = [await asyncio.open_connection(host, port) for port in ports]
    turn = 0
    nc = 0
    nonce = await _fetch_nonce(*links[0], host, ports[0], path, serials[0]) if digest else ""
    try:
        while time.monotonic() < deadline:
            reader, writer = links[turn % len(links)]
            port = ports[turn % len(ports)]
            turn += 1
            serial = random.choice(serials)
            body = INFORM.format(serial=serial).encode()
            headers = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            headers += 'Content-Type: text/xml; charset=utf-8\r\nSOAPAction: ""\r\n'
            if nonce:
                nc += 1
                ncs = f"{nc:08x}"
                ha1 = _md5(f"{serial}:{REALM}:{password}")
                ha2 = _md5(f"POST:{path}")
                response = _md5(f"{ha1}:{nonce}:{ncs}:bench:auth:{ha2}")
                headers += (
                    f'Authorization: Digest username="{serial}", realm="{REALM}", '
                    f'nonce="{nonce}", uri="{path}", qop=auth, nc={ncs}, cnonce="bench", '
                    f'response="{response}", algorithm=MD5\r\n'
                )
            writer.write(f"{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status, rh, _ = await _read_response(reader)
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            if status != 200:
                stats.errors += 1
                if status == 401 and nonce:  # expired (stale) or refused: a new nonce
                    nonce, nc = _nonce_of(rh) or nonce, 0
                if rh.get("connection", "").lower() == "close":
                    return
                if status == 503:
                    await asyncio.sleep(0.05)  # a real device waits Retry-After; keep load up
                continue
            cookie = rh.get("set-cookie", "").split(";", 1)[0]
            reader, writer = links[turn % len(links)]
            port = ports[turn % len(ports)]
            writer.write(
                (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                    "Content-Length: 0\r\n\r\n"
                ).encode()
            )
            status, rh, _ = await _read_response(reader)
            stats.statuses[status] = stats.statuses.get(status, 0) + 1
            if status == 204:
                stats.sessions += 1
            else:
                stats.errors += 1
    finally:
        for _, writer in links:
            writer.close()


def _nonce_of(headers: dict[str, str]) -> str:
    match = re.search(r'nonce="([^"]+)"', headers.get("www-authenticate", ""))
    return match.group(1) if match else ""


async def _fetch_nonce(reader, writer, host, port, path, serial) -> str:
    """A server nonce for this connection, from the challenge to an unauthenticated Inform
    (any node verifies any node's nonces: they are signed, and their counts are shared)."""
    body = INFORM.format(serial=serial).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(body)}\r\n"
    writer.write(f"{head}\r\n".encode() + body)
    _, headers, _ = await _read_response(reader)
    return _nonce_of(headers)


def _worker(args) -> tuple[int, int, dict[int, int]]:
    host, ports, serials, password, digest, duration, connections, path = args
    stats = Stats()

    async def main():
        deadline = time.monotonic() + duration
        await asyncio.gather(
            *(
                _connection(host, ports, serials, password, digest, deadline, stats, path)
                for _ in range(connections)
            ),
            return_exceptions=True,
        )

    asyncio.run(main())
    return stats.sessions, stats.errors, stats.statuses


def run(
    host: str,
    port: int | list[int],
    serials: list[str],
    password: str,
    *,
    duration: float,
    processes: int,
    connections: int,
    path: str = "/cwmp/",
    digest: bool = True,
) -> dict:
    """Drive sessions for `duration` seconds; returns totals and sessions per second."""
    ports = port if isinstance(port, list) else [port]
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(
            _worker,
            [(host, ports, serials, password, digest, duration, connections, path)] * processes,
        )
    elapsed = time.monotonic() - started
    sessions = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    statuses: dict[int, int] = {}
    for r in results:
        for code, n in r[2].items():
            statuses[code] = statuses.get(code, 0) + n
    return {
        "sessions": sessions,
        "errors": errors,
        "elapsed": elapsed,
        "per_second": sessions / duration,
        "statuses": statuses,
    }
