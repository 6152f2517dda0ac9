"""The Redis cache backend shares one client per connection pool (Redis runs only)."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import caches

from linesman.core.rediscache import SharedClientRedisCache


@pytest.fixture
def backend() -> SharedClientRedisCache:
    found = caches["default"]
    if not isinstance(found, SharedClientRedisCache):
        pytest.skip("the cache is Redis only when REDIS_URL is set")
    return found


def test_every_cache_call_writes_with_the_same_client(backend):
    client = backend.client()
    assert backend._cache.get_client(write=True) is client
    assert backend._cache.get_client("any-key", write=True) is client
    backend.set("shared-client", 1, timeout=5)
    assert backend.add("shared-client", 2, timeout=5) is False
    assert backend._cache.get_client(write=True) is client
    assert backend.get("shared-client") == 1


def test_threads_share_the_client_and_each_sees_the_others_writes(backend):
    clients, errors = [], []

    def work(n: int) -> None:
        try:
            clients.append(backend.client())
            backend.set(f"thread-{n}", n, timeout=5)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({id(c) for c in clients}) == 1
    assert [backend.get(f"thread-{n}") for n in range(4)] == [0, 1, 2, 3]
