"""Downloads requested by the ACS: fetching, checking and the fault each failure gets."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from linesman.cwmp import soap
from linesman.httpwire.digest import basic_header
from linesman.simulator.http11 import HttpServer, Request, Response
from linesman.simulator.transfer import fetch, firmware_image, firmware_version

FIRMWARE = "1 Firmware Upgrade Image"
IMAGE = firmware_image("3.1.4", padding=5000)


async def file_server(request: Request) -> Response:
    if request.path == "/fw.bin":
        return Response(200, IMAGE)
    if request.path == "/config.xml":
        return Response(200, b"<config/>")
    if request.path == "/private.bin":
        if request.header("authorization") == basic_header("u", "p"):
            return Response(200, IMAGE)
        return Response(401, b"", [("WWW-Authenticate", 'Basic realm="files"')])
    return Response(404)


@pytest.mark.parametrize(
    "path,file_type,size,user,code,version",
    [
        ("/fw.bin", FIRMWARE, len(IMAGE), "", 0, "3.1.4"),
        ("/fw.bin", FIRMWARE, 0, "", 0, "3.1.4"),
        ("/fw.bin", FIRMWARE, 12, "", 9017, None),
        ("/config.xml", "3 Vendor Configuration File", 0, "", 0, None),
        ("/config.xml", FIRMWARE, 0, "", 9018, None),
        ("/missing.bin", FIRMWARE, 0, "", 9016, None),
        ("/private.bin", FIRMWARE, 0, "", 9012, None),
        ("/private.bin", FIRMWARE, 0, "u", 0, "3.1.4"),
    ],
)
def test_fetch(
    path: str, file_type: str, size: int, user: str, code: int, version: str | None
) -> None:
    async def main() -> None:
        server = HttpServer(file_server)
        await server.start()
        try:
            async with httpx.AsyncClient(trust_env=False) as client:
                request = soap.Download("k", file_type, server.url + path, user, "p", size)
                result = await fetch(client, request, timeout=5)
        finally:
            await server.stop()
        assert (result.fault_code, result.version) == (code, version), result.fault_string

    asyncio.run(main())


def test_unreachable_file_server() -> None:
    async def main() -> None:
        server = HttpServer(file_server)
        await server.start()
        url = server.url + "/fw.bin"
        await server.stop()  # nothing listens there any more
        async with httpx.AsyncClient(trust_env=False) as client:
            result = await fetch(client, soap.Download("k", FIRMWARE, url), timeout=5)
        assert result.fault_code == 9015

    asyncio.run(main())


def test_firmware_header() -> None:
    assert firmware_version(b"LINESMAN-FIRMWARE 2.0.1") == "2.0.1"
    assert firmware_version(b"LINESMAN-FIRMWARE 2.0.1\r") == "2.0.1"
    for bad in (b"LINESMAN-FIRMWARE", b"OTHER 1.0", b"\xff\xfe", b"LINESMAN-FIRMWARE a b"):
        assert firmware_version(bad) is None
