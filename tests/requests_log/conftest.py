"""Fixtures for the tests that start real processes (Celery workers, beat, redis-server)."""

import pytest

from tests.requests_log.reminder_support import Processes, RedisServer


@pytest.fixture
def processes(transactional_db, tmp_path):
    """Every subprocess a test starts; all are SIGKILLed (whole process groups) before
    the test database is flushed. Their logs go to captured output, which pytest
    shows when the test fails."""
    started = Processes(tmp_path)
    yield started
    try:
        print(started.logs())
    finally:
        started.kill_all()


@pytest.fixture
def redis_server(processes, tmp_path):
    """A private redis-server on a free port, so faults never touch the shared one."""
    server = RedisServer(processes, tmp_path)
    server.start()
    return server
