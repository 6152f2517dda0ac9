"""Small pieces of the CWMP session: cookie handling and Retry-After."""

from __future__ import annotations

import email.utils
import time

from linesman.simulator.session import SessionCookies, retry_after_seconds


def response(*cookies: str) -> list[str]:
    return list(cookies)  # the Set-Cookie values of one answer


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


def test_retry_after() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 20 <= retry_after_seconds(later) <= 31  # type: ignore[operator]
