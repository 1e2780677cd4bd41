"""Upkeep of the embedded broker (`make run`'s default: kombu's SQLAlchemy transport on a
SQLite file under var/).

That transport hands a message out by marking its row invisible and never deletes it:
an invisible row is never shown again (a message a worker held when it stopped is put
back as a new row), so it is only dead weight. Left alone, the rows pile up and every
poll of an empty queue reads all of them.
"""

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from celery import current_app

logger = logging.getLogger(__name__)

SQLALCHEMY_SCHEMES = ("sqla+", "sqlalchemy+")


def sqlite_transport_options(url: str) -> dict:
    """Transport options for a broker in a SQLite file (`sqla+sqlite:///PATH`), which
    the transport passes to SQLAlchemy's create_engine(): a connection made by
    `sqlite_connector` for each use, none kept open (so none is inherited by the
    worker's forked pool processes)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    path = Path(make_url(url.split("+", 1)[1]).database or "")
    if not path.name:
        raise ValueError(f"A SQLite broker needs a file: {url}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return {"creator": sqlite_connector(path), "poolclass": NullPool}


def sqlite_connector(path: Path) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        # Wait up to 30 s for another process's write lock (sqlite3 gives up after 5 s).
        connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
        # Write-ahead logging: a commit is one append instead of a rollback journal
        # written, synced and deleted, which halves the time producers and the worker
        # wait for each other. It stays on in the file once set.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    return connect


def broker_prune_consumed(*, app=None) -> int:
    """Delete the messages the broker has already handed out; return how many.

    Does nothing (and returns 0) on any other broker."""
    app = app or current_app
    with app.connection_for_write() as connection:
        if connection.transport.driver_name != "sqlalchemy":
            return 0
        channel = connection.default_channel
        session = channel.session
        try:
            deleted = (
                session.query(channel.message_cls)
                .filter(channel.message_cls.visible.is_(False))
                .delete(synchronize_session=False)
            )
            session.commit()
        except Exception:
            session.rollback()
            raise
    if deleted:
        logger.info("Pruned %d consumed messages from the broker", deleted)
    return deleted
