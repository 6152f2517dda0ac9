"""The ACS route straight on WSGI, beside Django's handler.

CWMP requests need none of Django's middleware (sessions, CSRF, auth, static files,
security headers), and at a thousand sessions a second that stack is a large share of the
cost. This app serves /cwmp/ itself and hands everything else to Django, keeping Django's
per-request care of database connections, minus the health check's round trip
(`core.hotsql.recycle_connections`).

Both routes leave keep-alive connections usable: a request body nobody read (a 401, 403 or
404 answered without reading it) is drained before the answer, up to a bound; beyond it
the answer closes the connection. Granian otherwise reads the unread body as the start of
the next request on the connection, which then fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus

from django.http.cookie import parse_cookie

from linesman.core.hotsql import recycle_connections
from linesman.cwmp import endpoint, session

log = logging.getLogger(__name__)

STATUS_TEXT = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
ACS_PATHS = ("/cwmp/", "/cwmp")


def with_acs(django_app: Callable) -> Callable:
    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") not in ACS_PATHS:
            return django_app(environ, _draining(environ, start_response))
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
                path=_target(environ),
                chunked=_chunked(environ),
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


def _target(environ: dict) -> str:
    query = environ.get("QUERY_STRING", "")
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return path + (f"?{query}" if query else "")


def _chunked(environ: dict) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _draining(environ: dict, start_response: Callable) -> Callable:
    """start_response that first drains what Django left of the request body.

    Django calls it once the view has finished with the request, so whatever the view did
    not read is read (and dropped) here; a body too large to drain closes the connection.
    """

    def start(status: str, headers: list, exc_info=None):
        length = environ.get("CONTENT_LENGTH") or ""
        if ((length.isascii() and length.isdigit()) and int(length) > 0) or _chunked(environ):
            stream = environ["wsgi.input"]
            if not endpoint.drain(stream.read, length, _chunked(environ)):
                headers = [*headers, endpoint.CLOSE]
        return start_response(status, headers, exc_info)

    return start
