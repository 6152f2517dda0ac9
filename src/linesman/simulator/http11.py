"""A small HTTP/1.1 server on asyncio streams, for the connection-request listener.

Only what a CWMP peer needs: request line, headers, Content-Length or chunked bodies,
keep-alive, and strict limits so garbage from the network costs little. A handler may return
`HOLD` to leave a request unanswered, which is how an unreachable device looks to an ACS.
Also used by the memory benchmark's stand-in ACS and by the tests' throwaway ACS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class HttpError(Exception):
    """A request too broken to handle; answered with ``status`` and the connection closed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(slots=True)
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]  # names lower-cased, in order
    body: bytes = b""
    peer: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def header_list(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def path(self) -> str:
        target = self.target
        if "://" in target:  # absolute-form: keep only the path
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        return target.partition("?")[0]

    @property
    def keep_alive(self) -> bool:
        connection = (self.header("connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False

    def encode(self, keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"Content-Length: {len(self.body)}")
        if not keep_alive or self.close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


HOLD = object()  # handler result: never answer (the client will time out)
Handler = Callable[[Request], Awaitable["Response | object"]]


async def read_request(
    reader: asyncio.StreamReader, *, max_body: int, timeout: float
) -> Request | None:
    """One request from the stream; None when the peer closed cleanly between requests."""
    try:
        async with asyncio.timeout(timeout):
            head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise HttpError(400, "truncated request") from None
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(431, "request head too large") from None
    except TimeoutError:
        raise HttpError(408, "request head timeout") from None
    try:
        text = head.decode("latin-1")
        request_line, *header_lines = text[:-4].split("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        raise HttpError(400, "malformed request line") from None
    if version not in ("HTTP/1.1", "HTTP/1.0") or not method.isalpha() or not target:
        raise HttpError(400, "unsupported request line")
    headers: list[tuple[str, str]] = []
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or len(headers) >= 100:
            raise HttpError(400, "malformed header")
        headers.append((name.lower(), value.strip()))
    request = Request(method.upper(), target, version, headers)
    request.body = await _read_body(reader, request, max_body=max_body, timeout=timeout)
    return request


async def _read_body(
    reader: asyncio.StreamReader, request: Request, *, max_body: int, timeout: float
) -> bytes:
    encoding = (request.header("transfer-encoding") or "").lower()
    length_text = request.header("content-length")
    try:
        if encoding == "chunked":
            async with asyncio.timeout(timeout):
                return await _read_chunked(reader, max_body)
        if encoding:
            raise HttpError(400, "unsupported transfer-encoding")
        if length_text is None:
            return b""
        if not (length_text.isascii() and length_text.isdigit()):
            raise HttpError(400, "bad content-length")
        length = int(length_text)
        if length > max_body:
            raise HttpError(413, "body too large")
        async with asyncio.timeout(timeout):
            return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise HttpError(400, "truncated body") from None
    except TimeoutError:
        raise HttpError(408, "body timeout") from None


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = await reader.readline()
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpError(400, "bad chunk size") from None
        if size == 0:
            while (await reader.readline()).strip():  # trailers
                pass
            return b"".join(chunks)
        total += size
        if total > max_body:
            raise HttpError(413, "body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


class HttpServer:
    """Serve ``handler`` on host:port (0 = a free port, see ``.port`` after start)."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = 1 << 20,
        timeout: float = 30.0,
        hold_timeout: float = 120.0,
        max_requests_per_connection: int = 1000,
    ) -> None:
        self._handler = handler
        self.host = host
        self.port = port
        self.max_body = max_body
        self.timeout = timeout
        self.hold_timeout = hold_timeout
        self.max_requests = max_requests_per_connection
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=16384, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        try:
            await self._serve_connection(reader, writer, f"{peer[0]}:{peer[1]}" if peer else "")
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:  # a bug in a handler must not take the listener down
            log.exception("HTTP connection failed")
        finally:
            self._connections.discard(task)
            writer.close()
            # The task ends here either way; a cancellation arriving now (server stopping)
            # must not surface as an "exception never retrieved" from asyncio's callback.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        for _ in range(self.max_requests):
            try:
                request = await read_request(reader, max_body=self.max_body, timeout=self.timeout)
            except HttpError as exc:
                writer.write(Response(exc.status, str(exc).encode()).encode(keep_alive=False))
                await writer.drain()
                return
            if request is None:
                return
            request.peer = peer
            result = await self._handler(request)
            if result is HOLD:
                # Say nothing until the client gives up, like a device that is not there.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self.hold_timeout):
                        await _drain_until_eof(reader)
                return
            assert isinstance(result, Response)
            keep = request.keep_alive and not result.close
            writer.write(result.encode(keep_alive=keep))
            await writer.drain()
            if not keep:
                return


async def _drain_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(4096):
        pass
