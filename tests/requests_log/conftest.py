"""Fixtures for the tests that start real processes (Celery workers, beat, redis-server)."""

import pytest

from tests.requests_log.reminder_support import RedisServer


@pytest.fixture
def redis_server(processes, tmp_path):
    """A private redis-server on a free port, so faults never touch the shared one."""
    server = RedisServer(processes, tmp_path)
    server.start()
    return server
