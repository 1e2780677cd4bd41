"""Django's Redis cache, keeping its redis-py clients instead of making one per call.

Django's RedisCacheClient builds a new `redis.Redis` around its connection pool for every
cache call. Building one fills its table of some 170 reply handlers: about 0.1 ms, as long
as the GET itself takes on loopback, and every signed-in page makes at least one call (its
session). A `redis.Redis` is safe to share between threads (each command takes its own
connection from the pool) and, like its pool, after a fork, so one per pool is kept.
"""

from collections.abc import Callable
from typing import Any

from django.core.cache.backends import redis as django_redis


class KeptClientRedisCacheClient(django_redis.RedisCacheClient):
    # Django's own, which its type stubs leave out.
    _client: Callable[..., Any]
    _get_connection_pool: Callable[[bool], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # by id() of the pool, which lives as long

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """settings.CACHES' backend when CACHE_URL names a Redis: Django's, with the client
    above."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient
