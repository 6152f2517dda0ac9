"""The ACS HTTP endpoint (/cwmp/): reads the body safely and hands it to the session engine."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from linesman.cwmp import session, soap

log = logging.getLogger(__name__)

#: Bodies larger than this are refused before they are read into memory or parsed.
MAX_BODY = 4 * 1024 * 1024
#: New sessions beyond this many in flight in this process are shed with 503 + Retry-After,
#: so that the sessions already running keep their speed under overload.
_new_sessions = threading.BoundedSemaphore(max(2, int(settings.CONFIG.threads * 0.75)))


def _read_body(request: HttpRequest) -> bytes | None:
    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > MAX_BODY:
        return None
    data = request.read(MAX_BODY + 1)
    return None if len(data) > MAX_BODY else data


def _to_http(reply: session.Reply) -> HttpResponse:
    response = HttpResponse(reply.body, status=reply.status)
    if reply.status == 204 or not reply.body:
        response.headers.pop("Content-Type", None)
        # An explicit length lets the server keep the connection alive for the next session.
        response["Content-Length"] = "0"
    for key, value in reply.headers.items():
        response[key] = value
    if reply.cookie:
        response.set_cookie(session.COOKIE, reply.cookie, httponly=True, path="/")
    return response


@csrf_exempt
def acs(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(
            b"CWMP endpoint: POST SOAP envelopes here\n",
            status=405,
            headers={"Allow": "POST"},
            content_type="text/plain",
        )
    raw = _read_body(request)
    if raw is None:
        return HttpResponse(b"request body too large", status=413, content_type="text/plain")
    try:
        body = soap.decode_body(raw, request.META.get("HTTP_CONTENT_ENCODING"), max_bytes=MAX_BODY)
    except soap.SoapParseError as exc:
        return HttpResponse(str(exc).encode()[:300], status=400, content_type="text/plain")
    req = session.Request(
        body=body,
        cookie=request.COOKIES.get(session.COOKIE),
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        address=request.META.get("REMOTE_ADDR", ""),
    )
    is_new = req.cookie is None and b"Inform" in body[:4096] and b"InformResponse" not in body
    if is_new:
        if not _new_sessions.acquire(blocking=False):
            return HttpResponse(
                b"busy", status=503, headers={"Retry-After": "30"}, content_type="text/plain"
            )
        try:
            return _to_http(session.handle(req))
        finally:
            _new_sessions.release()
    return _to_http(session.handle(req))
