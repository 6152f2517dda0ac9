"""core.throttle: failure counting in windows, shared by processes through the cache."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache

from linesman.core import throttle


class Clock:
    """Stands in for time.time so windows can pass without sleeping."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


def test_the_failure_that_reaches_the_limit_blocks_until_the_window_ends(clock):
    limit = throttle.Limit("t", 3, 60)
    assert [limit.fail("alice") for _ in range(2)] == [None, None]
    assert limit.known_blocked("alice") is None
    assert limit.fail("alice") == 20  # the window started 40 s ago (1,000,000 % 60)
    assert limit.known_blocked("alice") == 20
    assert limit.known_blocked("bob") is None
    clock.now += 19.5
    assert limit.known_blocked("alice") == 1
    clock.now += 0.5  # the next window: counting starts again
    assert limit.known_blocked("alice") is None
    assert limit.fail("alice") is None


def test_knowing_of_no_block_is_a_dict_check_and_ends_with_the_last_window(clock):
    assert not throttle.any_known_blocked()
    throttle.Limit("short", 1, 60).fail("a")  # blocked for 20 s
    throttle.Limit("long", 1, 600).fail("b")  # blocked for 200 s
    assert throttle.any_known_blocked()
    clock.now += 20
    assert throttle.any_known_blocked(), "b is still blocked"
    clock.now += 180
    assert not throttle.any_known_blocked()
    assert throttle.Limit("long", 1, 600).known_blocked("b") is None


def test_another_process_sees_the_block_through_the_shared_store(clock):
    limit = throttle.Limit("t", 2, 60)
    for _ in range(2):
        limit.fail("10.0.0.1")
    throttle._known.clear()  # what a process that never saw these failures knows
    assert limit.known_blocked("10.0.0.1") is None
    assert throttle.blocked([(limit, "10.0.0.1")]) == 20
    assert limit.known_blocked("10.0.0.1") == 20, "and remembers it without asking again"
    assert throttle.blocked([(limit, "10.0.0.2")]) is None


def test_checks_report_the_longest_wait_and_skip_empty_keys(clock):
    short, long = throttle.Limit("a", 2, 60), throttle.Limit("b", 2, 600)
    assert throttle.fail([(short, "k"), (long, "k"), (short, "")]) is None
    assert throttle.fail([(short, "k"), (long, "k")]) == 200  # 20 s and 200 s left
    assert throttle.known_blocked([(short, "k"), (long, "k")]) == 200


def test_the_store_is_the_configured_cache(clock):
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.CONFIG.redis_url:  # CI's second pass: every node shares Redis
        assert backend.endswith("RedisCache")
    else:
        assert backend.endswith("FileBasedCache")
        assert settings.CACHES["default"]["LOCATION"].startswith(str(settings.CONFIG.home))
    limit = throttle.Limit("t", 5, 60)
    limit.fail("carol")
    limit.fail("carol")
    assert cache.get(limit._cache_key("carol", limit._slot(clock.now))) == 2


def test_forgetting_the_counters_keeps_what_else_shares_redis(clock):
    """The queue and other processes' counters may live in the same Redis database."""
    if not settings.CONFIG.redis_url:
        pytest.skip("the counters are files here; CI's second pass runs this on Redis")
    import redis

    shared = redis.Redis.from_url(settings.CONFIG.redis_url)
    other = f"another-deployment:1:{os.getpid()}"
    shared.set(other, "7")
    try:
        limit = throttle.Limit("t", 5, 60)
        limit.fail("dave")
        key = limit._cache_key("dave", limit._slot(clock.now))
        assert cache.get(key) == 1
        throttle.forget()
        assert cache.get(key) is None
        assert shared.get(other) == b"7"
    finally:
        shared.delete(other)


COUNT_FROM_PROCESS = """
import django, sys
django.setup()
from linesman.core import throttle
throttle.clock = lambda: 1_000_000.0
limit = throttle.Limit("race", 10_000, 3600)
for _ in range(int(sys.argv[1])):
    limit.fail("shared")
from django.core.cache import cache
print(cache.get(limit._cache_key("shared", limit._slot(throttle.clock()))))
"""


def test_processes_counting_at_once_lose_no_failure(tmp_path):
    """The file store's incr is a read and a write: the lock file keeps counts exact."""
    env = {
        "DJANGO_SETTINGS_MODULE": "linesman.settings",
        "LINESMAN_HOME": str(tmp_path),
        "PYTHONPATH": ":".join(p for p in sys.path if p),
        "PATH": "/usr/bin:/bin",
    }
    run = [sys.executable, "-c", COUNT_FROM_PROCESS]
    procs = [subprocess.Popen([*run, "80"], env=env, stdout=subprocess.DEVNULL) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    total = subprocess.run([*run, "0"], env=env, capture_output=True, text=True, check=True)
    assert total.stdout.strip() == "240"
