"""`make run`'s processes under supervisord (supervisord.dev.conf): a worker or beat
that dies is started again while the web server keeps answering, and Ctrl-C stops
everything, every child process included.

supervisord runs with this checkout's config, as `make run` starts it, but with its
pid file, beat's schedule, the database and the broker in the test's own places.
"""

import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.requests_log.reminder_support import (
    BIN,
    ROOT,
    database_url_for_subprocess,
    descendants,
    free_port,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def program_pid(supervisord: int, pattern: str) -> int | None:
    """The supervisord child whose command line contains `pattern`."""
    for child in Path(f"/proc/{supervisord}/task/{supervisord}/children").read_text().split():
        if pattern in command_line(int(child)):
            return int(child)
    return None


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def status(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return type(error).__name__


def test_killed_worker_and_beat_come_back_web_keeps_answering_ctrl_c_stops_all(processes, tmp_path):
    port = free_port()
    supervisord = processes.start(
        "supervisord",
        [str(BIN / "supervisord"), "-c", str(ROOT / "supervisord.dev.conf")],
        {
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "PORT": str(port),
            "RUN_VAR": str(tmp_path),
            "RUN_UID": str(os.getuid()),
            "DJANGO_ENV": "development",
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}",
            "LOG_LEVEL": "INFO",
        },
    )
    pid = supervisord.popen.pid
    login = f"http://127.0.0.1:{port}/login/"
    wait_for(lambda: status(login) == 200, timeout=90, what="the web server")
    wait_for(lambda: supervisord.output().count(" ready.") == 1, timeout=90, what="the worker")
    web = program_pid(pid, "manage.py runserver")
    worker = program_pid(pid, "boundary worker")
    beat = program_pid(pid, "boundary beat")
    pool = descendants(worker)
    assert pool  # the prefork pool's processes

    os.kill(worker, signal.SIGKILL)
    os.kill(beat, signal.SIGKILL)
    answers = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        answers.append(status(login))
        new_worker = program_pid(pid, "boundary worker")
        if new_worker not in (None, worker) and supervisord.output().count(" ready.") == 2:
            break
        time.sleep(0.2)
    new_beat = program_pid(pid, "boundary beat")

    assert supervisord.output().count(" ready.") == 2, "the worker did not come back"
    assert new_worker not in (None, worker)
    assert new_beat not in (None, beat)
    assert program_pid(pid, "manage.py runserver") == web
    assert set(answers) == {200}
    assert "exited: worker (terminated by SIGKILL; not expected)" in supervisord.output()
    wait_for(lambda: not any(running(p) for p in pool), timeout=30, what="the old pool to exit")

    everything = descendants(pid)
    os.kill(pid, signal.SIGINT)  # Ctrl-C
    supervisord.popen.wait(timeout=60)
    wait_for(
        lambda: not any(running(p) for p in everything),
        timeout=10,
        what="every process to exit",
    )
    assert status(login) == "URLError"
