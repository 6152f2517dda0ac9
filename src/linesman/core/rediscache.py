"""Django's Redis cache backend, keeping one Redis client per connection pool.

Django's client builds a new `redis.Redis` (its response callbacks, its retry policy) for
every cache call, which cost a measurable share of the ACS's CPU on the bulk path, where
every ended operation makes one `add`. A `redis.Redis` is safe to share between threads
(each command takes a connection from the pool), so one per pool is enough.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _SharedClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # by id() of their pool, which lives as long

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with one client per pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set here, not as a class attribute: RedisCache.__init__ assigns its own.
        self._class = _SharedClient
        self._scripts: dict[str, Any] = {}

    def client(self) -> Any:
        """The `redis.Redis` this cache writes with, for what a cache cannot express; keys
        should go through `make_key` so deployments sharing Redis stay apart."""
        return self._cache.get_client(write=True)

    def script(self, source: str) -> Any:
        """A Lua script on the write client, registered once for this cache (it is run by
        its SHA1, the source sent again only if Redis lost it)."""
        found = self._scripts.get(source)
        if found is None:
            found = self._scripts[source] = self.client().register_script(source)
        return found
