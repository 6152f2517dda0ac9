"""The ACS route straight on WSGI, beside Django's handler.

CWMP requests need none of Django's middleware (sessions, CSRF, auth, static files,
security headers), and at a thousand sessions a second that stack is a large share of the
cost. This app serves /cwmp/ itself and hands everything else to Django, keeping Django's
per-request care of database connections, minus the health check's round trip
(`core.hotsql.recycle_connections`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.http.cookie import parse_cookie

from linesman.core.hotsql import recycle_connections
from linesman.cwmp import endpoint, session

log = logging.getLogger(__name__)

STATUS_TEXT = {
    200: "200 OK",
    204: "204 No Content",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
ACS_PATHS = ("/cwmp/", "/cwmp")


def with_acs(django_app: Callable) -> Callable:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") not in ACS_PATHS:
            return django_app(environ, start_response)
        try:
            cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
            stream = environ["wsgi.input"]
            reply = endpoint.exchange(
                method=environ.get("REQUEST_METHOD", ""),
                read=stream.read,
                content_length=environ.get("CONTENT_LENGTH") or "",
                content_encoding=environ.get("HTTP_CONTENT_ENCODING"),
                cookie=cookies.get(session.COOKIE),
                authorization=environ.get("HTTP_AUTHORIZATION", ""),
                address=environ.get("REMOTE_ADDR", ""),
            )
        except Exception:  # answer like Django would, and keep the details in the log
            log.exception("ACS request failed")
            reply = endpoint.HttpReply(500, b"internal error", [("Content-Length", "14")])
        finally:
            # After each request rather than before: the next request on this thread then
            # finds a usable connection, and the care is paid once, not twice.
            recycle_connections()
        start_response(STATUS_TEXT.get(reply.status, f"{reply.status} Status"), reply.header_list())
        return [reply.body]

    return application
