"""The lean HTTP/1.1 client of the CWMP sessions, against a raw TCP server that records the
bytes it receives and answers with scripted bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from linesman.httpwire.client import (
    ConnectionPool,
    HttpClientError,
    HttpTimeout,
    parse_url,
)

Answer = Callable[[bytes], bytes | None]  # the request's bytes -> the answer (None: hang up)


class RawServer:
    """Reads one request at a time (head plus Content-Length body) and answers as told."""

    def __init__(self, answer: Answer, *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after  # hang up after every answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.url = ""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/cwmp/?x=1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        # The client closed its side, so every connection task ends on its own.
        await asyncio.wait_for(asyncio.gather(*self._tasks), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.answer(request)
                if answer is None:
                    return  # hang up without a word
                writer.write(answer)
                await writer.drain()
                if self.close_after:
                    return
        finally:
            writer.close()


def ok(body: bytes = b"<x/>", *extra: str) -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


async def post(pool: ConnectionPool, url: str, body: bytes = b"<soap/>", **kw):
    headers = [("Content-Type", 'text/xml; charset="utf-8"'), ("SOAPAction", "")]
    return await pool.request(
        "POST", parse_url(url), headers, body, timeout=kw.get("timeout", 5), max_body=1000
    )


def test_the_request_the_acs_receives() -> None:
    async def main() -> None:
        async with RawServer(lambda _r: ok(b"<answer/>", "Set-Cookie: sid=1")) as server:
            pool = ConnectionPool()
            response = await post(pool, server.url)
            await pool.aclose()
        assert response.status == 200
        assert response.body == b"<answer/>"
        assert response.header_list("set-cookie") == ["sid=1"]
        port = server.url.split(":")[2].split("/")[0]
        assert server.requests == [
            b"POST /cwmp/?x=1 HTTP/1.1\r\n"
            + f"Host: 127.0.0.1:{port}\r\n".encode()
            + b'Content-Type: text/xml; charset="utf-8"\r\n'
            b"SOAPAction: \r\n"
            b"User-Agent: Linesman-CPE-Simulator/1.0\r\n"
            b"Content-Length: 7\r\n\r\n"
            b"<soap/>"
        ]

    asyncio.run(main())


def test_keep_alive_reuses_one_connection_and_close_ends_it() -> None:
    answers = iter([ok(), ok(), ok(b"", "Connection: close"), ok()])

    async def main() -> None:
        async with RawServer(lambda _r: next(answers)) as server:
            pool = ConnectionPool()
            for _ in range(4):
                assert (await post(pool, server.url)).status == 200
            await pool.aclose()
        assert len(server.requests) == 4
        assert server.connections == 2  # the third answer said Connection: close
        assert pool.opened == 2

    asyncio.run(main())


def test_chunked_and_content_length_answers_and_204() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\n<ans\r\n3\r\nwer\r\n2\r\n/>\r\n0\r\nTrailer: x\r\n\r\n"
    )
    answers = iter([chunked, b"HTTP/1.1 204 No Content\r\n\r\n", ok(b"<last/>")])

    async def main() -> None:
        async with RawServer(lambda _r: next(answers)) as server:
            pool = ConnectionPool()
            first = await post(pool, server.url)
            second = await post(pool, server.url, b"")
            third = await post(pool, server.url)
            await pool.aclose()
        assert (first.status, first.body) == (200, b"<answer/>")
        assert (second.status, second.body) == (204, b"")
        assert (third.status, third.body) == (200, b"<last/>")
        assert server.connections == 1
        assert server.requests[1].endswith(b"Content-Length: 0\r\n\r\n")

    asyncio.run(main())


def test_an_answer_without_framing_runs_to_the_end_of_the_connection() -> None:
    async def main() -> None:
        answer = b"HTTP/1.0 200 OK\r\n\r\n<whole/>"
        async with RawServer(lambda _r: answer, close_after=True) as server:
            pool = ConnectionPool()
            first = await post(pool, server.url)
            second = await post(pool, server.url)
            await pool.aclose()
        assert first.body == second.body == b"<whole/>"
        assert server.connections == 2  # never reused

    asyncio.run(main())


def test_a_dropped_connection_is_an_error_and_never_reused() -> None:
    answers = iter([ok(), None, ok()])

    async def main() -> None:
        async with RawServer(lambda _r: next(answers)) as server:
            pool = ConnectionPool()
            assert (await post(pool, server.url)).status == 200
            with pytest.raises(HttpClientError, match="without sending an answer"):
                await post(pool, server.url)
            assert (await post(pool, server.url)).status == 200  # on a new connection
            await pool.aclose()
        assert server.connections == 2

    asyncio.run(main())


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async def main() -> None:
        # The server drops every connection after answering, though it said keep-alive (as
        # when its keep-alive timeout ends): the next request must not go out on it.
        async with RawServer(lambda _r: ok(), close_after=True) as server:
            pool = ConnectionPool()
            await post(pool, server.url)
            await asyncio.sleep(0.1)  # the FIN arrives while the connection is idle
            assert (await post(pool, server.url)).status == 200
            await pool.aclose()
        assert pool.opened == 2

    asyncio.run(main())


def test_answers_cut_short_or_malformed_or_too_large_are_errors() -> None:
    cases = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n<x/>", "middle of the answer"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        (b"SIP/2.0 200 OK\r\n\r\n", "malformed status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "larger than 1000"),
    ]

    async def main() -> None:
        for raw, message in cases:
            async with RawServer(lambda _r, raw=raw: raw, close_after=True) as server:
                pool = ConnectionPool()
                with pytest.raises(HttpClientError, match=message):
                    await post(pool, server.url)
                await pool.aclose()

    asyncio.run(main())


def test_no_answer_in_time_is_a_timeout() -> None:
    async def main() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await reader.read(1 << 16):  # never answers; ends when the client gives up
                pass
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        pool = ConnectionPool()
        with pytest.raises(HttpTimeout):
            await post(pool, url, timeout=0.2)
        assert pool._idle == []  # a connection in an unknown state is never kept
        server.close()

    asyncio.run(main())


def test_refused_connection_and_bad_urls() -> None:
    async def main() -> None:
        pool = ConnectionPool()
        with pytest.raises(HttpClientError):
            await post(pool, "http://127.0.0.1:1/")

    asyncio.run(main())
    with pytest.raises(ValueError):
        parse_url("ftp://example.com/")
    target = parse_url("https://[::1]/acs")
    assert (target.host_header, target.port, target.path) == ("[::1]", 443, "/acs")
