"""The embedded broker's upkeep: consumed messages are deleted, waiting ones kept."""

import sqlite3

import pytest
from celery import Celery

from boundary.broker import broker_prune_consumed, sqlite_transport_options


@pytest.fixture(autouse=True)
def _no_broker_from_environment(monkeypatch):
    """CELERY_BROKER_URL (set by `make test`) would win over the apps' own broker."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)


def sqlite_app(tmp_path) -> Celery:
    url = f"sqla+sqlite:///{tmp_path / 'broker' / 'celery-broker.sqlite3'}"
    return Celery(
        "probe",
        broker=url,
        broker_transport_options=sqlite_transport_options(url),
        set_as_current=False,
    )


def message_rows(tmp_path) -> list[tuple[bool, str]]:
    with sqlite3.connect(tmp_path / "broker" / "celery-broker.sqlite3") as connection:
        rows = connection.execute("SELECT visible, payload FROM kombu_message ORDER BY id")
        return [(bool(visible), payload) for visible, payload in rows]


def test_prune_deletes_consumed_messages_and_keeps_waiting_ones(tmp_path):
    app = sqlite_app(tmp_path)
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue("probe")
        for number in range(3):
            queue.put({"number": number})
        for _ in range(2):
            queue.get(timeout=5).ack()
    assert [visible for visible, _ in message_rows(tmp_path)] == [False, False, True]

    deleted = broker_prune_consumed(app=app)

    assert deleted == 2
    assert [visible for visible, _ in message_rows(tmp_path)] == [True]
    with app.connection_for_write() as connection:
        message = connection.SimpleQueue("probe").get(timeout=5)
        assert message.payload == {"number": 2}
        message.ack()
    assert broker_prune_consumed(app=app) == 1


def test_prune_on_another_broker_does_nothing():
    app = Celery("probe", broker="memory://", set_as_current=False)

    assert broker_prune_consumed(app=app) == 0


def test_sqlite_broker_file_uses_write_ahead_logging(tmp_path):
    app = sqlite_app(tmp_path)
    with app.connection_for_write() as connection:
        connection.SimpleQueue("probe").put({"number": 1})

    with sqlite3.connect(tmp_path / "broker" / "celery-broker.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
