"""The embedded broker (`make run`'s default, no server) under a real worker: several
producer processes publish thousands of messages while a Celery worker consumes them.

Each run also goes through the moment a poll can catch a message being written. On
kombu's filesystem:// transport, as Boundary configured it before, that is an empty
`.msg` file (its producer has opened the file and not yet written it): the worker dies
of JSONDecodeError. On the SQLite broker it is an INSERT whose transaction has not
committed (and then never does: its producer is killed), which no poll can see.
"""

import json
import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.requests_log.reminder_support import BIN, Process, Processes, wait_for

pytestmark = pytest.mark.integration

PRODUCERS = 4
PER_PRODUCER = 500
ERRORS = ("ERROR", "CRITICAL", "Traceback", "Unrecoverable")


class SQLiteBroker:
    """Today's default, as settings.py configures it for a `sqla+sqlite:///` URL."""

    def __init__(self, directory: Path):
        self.path = directory / "celery-broker.sqlite3"
        self.url = f"sqla+sqlite:///{self.path}"
        self.options = None  # settings.py's own

    def start_interrupted_publish(self):
        """A producer's INSERT, not yet committed: it holds the write lock meanwhile."""
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        queue_id = connection.execute("SELECT id FROM kombu_queue WHERE name = 'celery'")
        connection.execute(
            "INSERT INTO kombu_message (visible, payload, version, queue_id) VALUES (1, ?, 1, ?)",
            ("{", queue_id.fetchone()[0]),
        )
        return connection

    def end_interrupted_publish(self, connection) -> None:
        connection.rollback()  # its producer was killed: SQLite rolls it back
        connection.close()

    def rows(self) -> Counter:
        with sqlite3.connect(self.path) as connection:
            rows = connection.execute("SELECT visible FROM kombu_message").fetchall()
        return Counter("waiting" if visible else "consumed" for (visible,) in rows)


class FilesystemBroker:
    """kombu's filesystem:// transport with the options settings.py used to give it."""

    def __init__(self, directory: Path):
        self.queue = directory / "queue"
        control = directory / "control"
        self.queue.mkdir()
        control.mkdir()
        self.url = "filesystem://"
        self.options = {
            "data_folder_in": str(self.queue),
            "data_folder_out": str(self.queue),
            "control_folder": str(control),
            "polling_interval": 0.1,
        }

    def start_interrupted_publish(self):
        """What kombu's _put has done when a poll catches it: the file is opened, empty."""
        path = self.queue / f"{int(time.time() * 1000)}_{uuid.uuid4()}.celery.msg"
        path.touch()
        return path

    def end_interrupted_publish(self, path: Path) -> None:
        path.unlink(missing_ok=True)


def broker_env(broker, tmp_path: Path, receipts: Path) -> dict[str, str]:
    """The environment of the worker and the producers: the same broker, same options."""
    env = {
        "DJANGO_ENV": "development",
        # Never connected to; set so nothing can reach var/db.sqlite3 of this checkout.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "CELERY_BROKER_URL": broker.url,
        "BROKER_PROBE_RECEIPTS": str(receipts),
        "LOG_LEVEL": "WARNING",
    }
    if broker.options is not None:
        env["BROKER_PROBE_OPTIONS"] = json.dumps(broker.options)
    return env


def start_worker(processes: Processes, env: dict[str, str]) -> Process:
    worker = processes.start(
        "worker",
        [
            str(BIN / "celery"),
            "-A",
            "tests.boundary.broker_probe",
            "worker",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
            "-n",
            f"probe-{uuid.uuid4().hex[:8]}@%h",
        ],
        env,
    )
    wait_for(
        lambda: " ready." in worker.output() or not worker.alive(),
        timeout=60,
        what="the worker to be ready",
    )
    assert worker.alive(), worker.output()
    return worker


def received(receipts: Path) -> Counter:
    return Counter(int(line) for line in receipts.read_text().split())


@pytest.mark.parametrize(
    "make_broker",
    [
        pytest.param(SQLiteBroker, id="sqlite-default"),
        pytest.param(
            FilesystemBroker,
            id="filesystem-before",
            marks=pytest.mark.xfail(
                strict=True, reason="the worker dies reading a half-written message"
            ),
        ),
    ],
)
def test_concurrent_producers_each_message_delivered_once_and_worker_survives(
    subprocesses, tmp_path, make_broker
):
    broker = make_broker(tmp_path)
    receipts = tmp_path / "receipts"
    receipts.touch()
    env = broker_env(broker, tmp_path, receipts)
    worker = start_worker(subprocesses, env)
    started = time.monotonic()

    interrupted = broker.start_interrupted_publish()
    producers = [
        subprocesses.start(
            f"producer{n}",
            [
                str(BIN / "python"),
                "-m",
                "tests.boundary.broker_probe",
                str(n * PER_PRODUCER),
                str(PER_PRODUCER),
            ],
            env,
        )
        for n in range(PRODUCERS)
    ]
    time.sleep(1)  # several polls (and producers) meet the interrupted message
    broker.end_interrupted_publish(interrupted)
    total = PRODUCERS * PER_PRODUCER
    wait_for(
        lambda: all(not p.alive() for p in producers) or not worker.alive(),
        timeout=240,
        what="the producers to finish",
    )
    published = time.monotonic() - started
    wait_for(
        lambda: received(receipts).total() >= total or not worker.alive(),
        timeout=240,
        what=f"{total} deliveries",
    )
    assert worker.alive(), "the worker died:\n" + worker.output()[-3000:]
    elapsed = time.monotonic() - started
    time.sleep(2)  # two more polls: time for a duplicate to show

    assert received(receipts) == Counter(range(total))
    assert [p.popen.wait(timeout=30) for p in producers] == [0] * PRODUCERS
    assert [p.output() for p in producers] == [""] * PRODUCERS
    errors = [line for line in worker.output().splitlines() if any(e in line for e in ERRORS)]
    assert errors == []
    assert worker.alive()
    print(
        f"{total} messages from {PRODUCERS} producers: published in {published:.1f} s, "
        f"all delivered in {elapsed:.1f} s"
    )
