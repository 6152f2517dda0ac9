"""The ACS endpoint as a Django view (/cwmp/), used where requests go through Django."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from linesman.cwmp import endpoint, session


@csrf_exempt
def acs(request: HttpRequest) -> HttpResponse:
    reply = endpoint.exchange(
        method=request.method,
        read=request.read,
        content_length=request.META.get("CONTENT_LENGTH") or "",
        content_encoding=request.META.get("HTTP_CONTENT_ENCODING"),
        cookie=request.COOKIES.get(session.COOKIE),
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        address=request.META.get("REMOTE_ADDR", ""),
        path=request.get_full_path(),
        chunked="chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower(),
    )
    response = HttpResponse(reply.body, status=reply.status)
    if not reply.body:
        del response["Content-Type"]
    for key, value in reply.headers:
        response[key] = value
    if reply.cookie:
        response.set_cookie(session.COOKIE, reply.cookie, httponly=True, path="/")
    return response
