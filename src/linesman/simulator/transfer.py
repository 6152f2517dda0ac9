"""File downloads requested by the ACS (the Download RPC), done the way a CPE does them.

The file is streamed and only its first line is kept, so a large image costs no memory. A
firmware image is valid when its first line reads ``LINESMAN-FIRMWARE <version>``; the
device then runs ``<version>``. Failures map to the TR-069 transfer fault codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from linesman.cwmp import soap
from linesman.simulator.auth import CpeAuth
from linesman.simulator.device import FIRMWARE_IMAGE

FIRMWARE_MAGIC = "LINESMAN-FIRMWARE"
_FIRST_LINE_MAX = 256

# TR-069 transfer fault codes.
TRANSFER_FAILURE = 9010
AUTH_FAILURE = 9012
CANNOT_CONTACT = 9015
CANNOT_ACCESS = 9016
CANNOT_COMPLETE = 9017
CORRUPTED = 9018


@dataclass(frozen=True, slots=True)
class FetchResult:
    fault_code: int = 0
    fault_string: str = ""
    size: int = 0
    version: str | None = None  # firmware version carried by a valid image

    @property
    def ok(self) -> bool:
        return self.fault_code == 0


def firmware_image(version: str, padding: int = 0) -> bytes:
    """A firmware image the simulator accepts (for tests and demos)."""
    return f"{FIRMWARE_MAGIC} {version}\n".encode() + b"\0" * padding


def firmware_version(first_line: bytes) -> str | None:
    """The version named by an image's first line, or None if it is not a valid image."""
    try:
        magic, _, version = first_line.decode("ascii").strip().partition(" ")
    except UnicodeDecodeError:
        return None
    version = version.strip()
    if magic != FIRMWARE_MAGIC or not version or len(version) > 64 or " " in version:
        return None
    return version


async def fetch(
    client: httpx.AsyncClient,
    request: soap.Download,
    *,
    timeout: float = 300.0,
    max_bytes: int = 1 << 30,
) -> FetchResult:
    """GET the file of a Download RPC and judge it; never raises for network problems."""
    auth = CpeAuth(request.username, request.password) if request.username else None
    size = 0
    head = bytearray()
    try:
        async with client.stream(
            "GET", request.url, auth=auth, timeout=timeout, follow_redirects=True
        ) as response:
            if response.status_code in (401, 403):
                return FetchResult(AUTH_FAILURE, f"file server answered {response.status_code}")
            if response.status_code != 200:
                return FetchResult(CANNOT_ACCESS, f"file server answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    return FetchResult(CANNOT_COMPLETE, "file larger than the device can store")
                if len(head) < _FIRST_LINE_MAX:
                    head += chunk[: _FIRST_LINE_MAX - len(head)]
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
        return FetchResult(CANNOT_CONTACT, f"cannot contact file server: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return FetchResult(CANNOT_COMPLETE, f"download interrupted: {type(exc).__name__}")
    except (httpx.InvalidURL, ValueError) as exc:
        return FetchResult(TRANSFER_FAILURE, f"download failed: {exc}")
    if request.file_size and size != request.file_size:
        return FetchResult(
            CANNOT_COMPLETE, f"file is {size} bytes, FileSize said {request.file_size}", size
        )
    if request.file_type != FIRMWARE_IMAGE:
        return FetchResult(size=size)
    version = firmware_version(bytes(head).split(b"\n", 1)[0])
    if version is None:
        return FetchResult(CORRUPTED, "file corrupted: not a Linesman firmware image", size)
    return FetchResult(size=size, version=version)
