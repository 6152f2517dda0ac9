"""Small pieces of the CWMP session: cookie handling and Retry-After."""

from __future__ import annotations

import email.utils
import time

import httpx

from linesman.simulator.session import SessionCookies, retry_after_seconds


def response(*cookies: str) -> httpx.Response:
    return httpx.Response(200, headers=[("Set-Cookie", c) for c in cookies])


def test_cookies_are_kept_replaced_and_expired() -> None:
    jar = SessionCookies()
    assert jar.header() is None
    jar.update(response("sid=abc; Path=/; HttpOnly", "lb=node2"))
    assert jar.header() == "sid=abc; lb=node2"
    jar.update(response("sid=def"))
    assert jar.header() == "sid=def; lb=node2"
    jar.update(response("lb=; Max-Age=0", "junk", "=novalue"))
    assert jar.header() == "sid=def"
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    jar.update(response(f"sid=gone; Expires={past}"))
    assert jar.header() is None
    request = httpx.Request("POST", "http://127.0.0.1/", headers={"Cookie": "stale=1"})
    jar.apply(request)
    assert "cookie" not in request.headers


def test_retry_after() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 20 <= retry_after_seconds(later) <= 31  # type: ignore[operator]
