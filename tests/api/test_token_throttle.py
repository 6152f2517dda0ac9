"""Unknown and expired API tokens are throttled per source address: beyond the limit the
API answers 429 with a JSON body and Retry-After; valid tokens are never refused."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from linesman.core import throttle

pytestmark = pytest.mark.django_db

URL = "/api/v1/inventory_device/"


class Clock:
    def __init__(self, now: float = 1_000_000.0):  # 40 s into a 60 s window
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(settings, monkeypatch):
    settings.LINESMAN_API_BAD_TOKENS = 4
    settings.LINESMAN_THROTTLE_WINDOW = 60
    fake = Clock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


def get(token: str, address: str = "127.0.0.1"):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(URL)


def test_bad_tokens_beyond_the_limit_get_429_until_the_window_ends(clock, viewer_a):
    assert [get("lsm_wrong").status_code for _ in range(3)] == [401, 401, 401]
    refused = get("lsm_wrong")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "20"
    assert "too many invalid tokens" in refused.json()["detail"].lower()
    assert get("lsm_other").status_code == 429

    assert get(viewer_a.token).status_code == 200, "a valid token from that address works"
    assert get("lsm_wrong", address="203.0.113.1").status_code == 401, "another address"

    clock.now += 20
    assert get("lsm_wrong").status_code == 401


def test_valid_tokens_are_never_counted(clock, viewer_a):
    for _ in range(10):
        assert get(viewer_a.token).status_code == 200
    assert get("lsm_wrong").status_code == 401
