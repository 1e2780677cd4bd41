"""boundary.cache.RedisCache, the production cache: Django's Redis cache keeping one
redis-py client per pool. Against the real Redis the suite's broker runs on."""

import multiprocessing
import os
from uuid import uuid4

import pytest

from boundary.cache import RedisCache

REDIS_URL = os.environ.get("CACHE_URL") or os.environ.get("CELERY_BROKER_URL", "")


@pytest.fixture
def cache() -> RedisCache:
    if not REDIS_URL.startswith("redis://"):
        pytest.skip("needs a Redis (CACHE_URL or a redis:// CELERY_BROKER_URL)")
    kept = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-cache-{uuid4().hex}"})
    yield kept
    kept.clear()


def test_one_client_serves_every_call(cache):
    client = cache._cache.get_client()

    cache.set("session", {"user": 7}, 30)
    cache.set("count", 1, 30)
    assert cache.incr("count") == 2
    assert cache.get("session") == {"user": 7}
    assert cache.get_many(["session", "count", "missing"]) == {"session": {"user": 7}, "count": 2}
    assert cache.delete("session") is True
    assert cache.get("session", "gone") == "gone"

    assert cache._cache.get_client("count", write=True) is client
    assert cache._cache.get_client("session") is client


def test_a_forked_process_uses_the_kept_client(cache):
    """gunicorn --preload forks workers from a process that may have used the cache: the
    kept client's pool opens the child's own connections."""
    cache.set("before-fork", "parent", 30)
    parent_connection = cache._cache.get_client().connection_pool._created_connections

    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_read_and_write, args=(cache, answers))
    child.start()
    child.join(30)

    assert child.exitcode == 0
    assert answers.get(timeout=5) == ("parent", 1)
    assert cache.get("from-child") == "child"
    assert cache._cache.get_client().connection_pool._created_connections == parent_connection


def _read_and_write(cache: RedisCache, answers) -> None:
    seen = cache.get("before-fork")
    cache.set("from-child", "child", 30)
    answers.put((seen, cache._cache.get_client().connection_pool._created_connections))
