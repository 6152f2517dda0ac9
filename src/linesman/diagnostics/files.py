"""The ACS's speed-test file server: what download and upload diagnostics transfer.

GET /diagnostics/speedtest/N streams N bytes (at most MAX_BYTES); PUT or POST to
/diagnostics/speedtest/ reads the body and answers how many bytes arrived. No credentials
and no state: the bytes are zeros, and uploads are counted and dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

MAX_BYTES = 100_000_000
_CHUNK = 64 * 1024


def _zeros(size: int) -> Iterator[bytes]:
    block = b"\0" * _CHUNK
    while size > 0:
        yield block[: min(size, _CHUNK)]
        size -= _CHUNK


@csrf_exempt
def speedtest(request: HttpRequest, size: int | None = None) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        if size is None or size > MAX_BYTES:
            return JsonResponse({"detail": f"Ask for 1 to {MAX_BYTES} bytes."}, status=404)
        response = StreamingHttpResponse(
            _zeros(size) if request.method == "GET" else iter(()),
            content_type="application/octet-stream",
        )
        response["Content-Length"] = str(size)
        return response
    if request.method in ("PUT", "POST"):
        received = 0
        while chunk := request.read(_CHUNK):
            received += len(chunk)
            if received > MAX_BYTES:
                return JsonResponse({"detail": "Upload too large."}, status=413)
        return JsonResponse({"received": received})
    return JsonResponse({"detail": "Use GET, PUT or POST."}, status=405)
