"""A lean HTTP/1.1 client on asyncio streams: the simulator's CWMP sessions and the ACS's
connection requests.

A CPE session is a handful of POSTs to one ACS, one at a time, on a keep-alive connection; a
connection request is a GET and, after the device's challenge, a second one. httpx did both at
a cost of most of the CPU of a bulk job's simulator and a quarter of its worker (its client,
httpcore's pool, anyio and h11 around every request, and the head and the body in two socket
writes). This client does only what a small HTTP stack does: it sends a request in one write,
reads the status line and headers, and a body framed by Content-Length, chunked, or the end
of the connection; connections are kept alive and reused by the next request to the same
origin through the same pool. Timeouts, resets and malformed answers surface as
`HttpClientError` (an OSError, such as a refused connection, is its `__cause__`).

httpx stays where traffic is rare or only tests use it (downloads, diagnostics, connection
requests over TLS).
"""

from __future__ import annotations

import asyncio
import errno
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

_HEAD_LIMIT = 64 * 1024  # status line plus headers; more is not an ACS talking
_NO_BODY = frozenset({204, 304})

Origin = tuple[str, str, int]  # scheme, host, port


class HttpClientError(Exception):
    """The exchange failed: connection refused or dropped, or a malformed answer."""


def refused(exc: BaseException) -> bool:
    """Whether an error was a refused connection (ECONNREFUSED), wherever a client wrapped
    it: causes, contexts and exception groups are searched."""
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        if isinstance(current, OSError) and current.errno == errno.ECONNREFUSED:
            return True
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


class HttpTimeout(HttpClientError):
    """The exchange did not finish in time."""


class AnswerTooLarge(HttpClientError):
    """The answer's body is larger than the caller accepts (it was not read)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL's requests go: the connection's origin and the request's target."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str  # path and query, as sent in the request line (and in Digest's uri)

    @property
    def origin(self) -> Origin:
        return self.scheme, self.host, self.port


def parse_url(url: str) -> Target:
    """Split an http(s) URL; ValueError if it is not one."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    default = 443 if scheme == "https" else 80
    port = parts.port or default  # ValueError for a port out of range
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, host_header, path)


@dataclass(slots=True)
class ClientResponse:
    status: int
    headers: list[tuple[str, str]]  # names lower-cased, in order
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def header_list(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


class Connection:
    """One TCP (or TLS) connection to an origin, carrying one exchange at a time."""

    __slots__ = ("reader", "writer", "origin", "reusable", "idle_since")

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, origin: Origin
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.origin = origin
        self.reusable = True
        self.idle_since = 0.0

    @property
    def usable(self) -> bool:
        """Still open and quiet: a peer that closed it (or sent anything unasked) while it
        sat idle has made it useless for the next request."""
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            # asyncio has no public peek: bytes buffered on an idle connection would be
            # read as the next request's answer.
            and not self.reader._buffer
        )

    def close(self) -> None:
        self.reusable = False
        self.writer.close()

    async def exchange(self, head: bytes, body: bytes, max_body: int) -> ClientResponse:
        """Send one request (head and body in one write) and read the whole answer."""
        self.writer.write(head + body if body else head)
        reader = self.reader
        while True:
            response = await self._read_head()
            if response.status >= 200:
                break  # 1xx (a 100 Continue we did not ask for) precede the real answer
        connection = (response.header("connection") or "").lower()
        if "close" in connection:
            self.reusable = False
        if response.status in _NO_BODY:
            return response
        encoding = (response.header("transfer-encoding") or "").lower()
        length = response.header("content-length")
        try:
            if encoding == "chunked":
                response.body = await _read_chunked(reader, max_body)
            elif encoding:
                raise HttpClientError(f"unsupported Transfer-Encoding {encoding[:40]!r}")
            elif length is not None:
                if not (length.isascii() and length.isdigit()):
                    raise HttpClientError("bad Content-Length")
                if int(length) > max_body:
                    raise AnswerTooLarge(f"answer larger than {max_body} bytes")
                response.body = await reader.readexactly(int(length))
            else:
                # Neither framing: the body runs to the end of the connection.
                self.reusable = False
                response.body = await _read_to_eof(reader, max_body)
        except asyncio.IncompleteReadError:
            raise HttpClientError("connection closed in the middle of the answer") from None
        return response

    async def _read_head(self) -> ClientResponse:
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise HttpClientError("connection closed in the middle of the answer") from None
            raise HttpClientError("server disconnected without sending an answer") from None
        except asyncio.LimitOverrunError:
            raise HttpClientError("answer head too large") from None
        status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not (code.isascii() and code.isdigit()):
            raise HttpClientError(f"malformed status line {status_line[:80]!r}")
        headers = []
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpClientError("malformed header line")
            headers.append((name.strip().lower(), value.strip()))
        response = ClientResponse(int(code), headers)
        if (
            version == "HTTP/1.0"
            and "keep-alive" not in (response.header("connection") or "").lower()
        ):
            self.reusable = False
        return response


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = await reader.readline()
        if not line:
            raise HttpClientError("connection closed in the middle of the answer")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpClientError("bad chunk size") from None
        if size == 0:
            while (await reader.readline()).strip():  # trailers, ignored
                pass
            return b"".join(chunks)
        total += size
        if total > max_body:
            raise AnswerTooLarge(f"answer larger than {max_body} bytes")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _read_to_eof(reader: asyncio.StreamReader, max_body: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := await reader.read(65536):
        total += len(chunk)
        if total > max_body:
            raise AnswerTooLarge(f"answer larger than {max_body} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class ConnectionPool:
    """Keep-alive connections shared by the sessions of one shard, like an HTTP client's
    pool: a request takes an idle connection to its origin (or opens one) and gives it
    back after a complete answer. The callers bound how many requests run at once, so
    the pool only caps what it keeps idle."""

    def __init__(
        self,
        *,
        user_agent: str = "Linesman-CPE-Simulator/1.0",
        keepalive_expiry: float = 30.0,
        max_idle: int = 8,
    ) -> None:
        self.user_agent = user_agent
        self.keepalive_expiry = keepalive_expiry
        self.max_idle = max_idle
        self._idle: list[Connection] = []
        self._ssl: ssl.SSLContext | None = None
        self.opened = 0  # connections opened so far, for tests and statistics

    async def request(
        self,
        method: str,
        target: Target,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        *,
        timeout: float,
        max_body: int,
    ) -> ClientResponse:
        """One request and its complete answer; HttpTimeout after ``timeout`` seconds for
        the whole exchange, HttpClientError for anything else that goes wrong."""
        lines = [f"{method} {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"]
        lines += [f"{name}: {value}\r\n" for name, value in headers]
        lines.append(f"User-Agent: {self.user_agent}\r\n")
        # No Content-Length on a GET without a body (RFC 9110 8.6: a client should not send
        # one where the method expects no content); an empty POST says 0.
        if body or method != "GET":
            lines.append(f"Content-Length: {len(body)}\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        conn: Connection | None = None
        try:
            async with asyncio.timeout(timeout):
                conn = self._take_idle(target.origin) or await self._open(target)
                response = await conn.exchange(head, body, max_body)
        except BaseException as exc:
            # Whatever went wrong (cancellation included), the connection's state is unknown.
            if conn is not None:
                conn.close()
            if isinstance(exc, TimeoutError):  # before OSError, of which it is one
                raise HttpTimeout(f"no complete answer within {timeout:g} s") from None
            if isinstance(exc, OSError):  # refused, reset, TLS: kept as the cause
                raise HttpClientError(f"{type(exc).__name__}: {exc}") from exc
            if isinstance(exc, ValueError):  # StreamReader.readline over its limit
                raise HttpClientError(f"malformed answer: {exc}") from None
            raise
        self._give_back(conn)
        return response

    def _take_idle(self, origin: Origin) -> Connection | None:
        now = time.monotonic()
        idle = self._idle
        for i in range(len(idle) - 1, -1, -1):  # the most recently used first
            conn = idle[i]
            if conn.origin != origin:
                continue
            del idle[i]
            if conn.usable and now - conn.idle_since < self.keepalive_expiry:
                return conn
            conn.close()
        return None

    async def _open(self, target: Target) -> Connection:
        context = None
        if target.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        reader, writer = await asyncio.open_connection(
            target.host, target.port, ssl=context, limit=_HEAD_LIMIT
        )
        self.opened += 1
        return Connection(reader, writer, target.origin)

    def _give_back(self, conn: Connection) -> None:
        if not conn.reusable or len(self._idle) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
