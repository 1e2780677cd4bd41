"""Reading a long query's rows while the caller works on the ones already read."""

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

_DONE = object()


def read_ahead(sql: str, params: Sequence[Any], chunk_size: int = 2000) -> Iterator[tuple]:
    """The rows of `sql`, fetched in chunks by a helper thread on this thread's connection.

    While the caller formats a chunk, PostgreSQL produces the next one: the helper waits
    for the server with the GIL released, so on two cores the query's time disappears
    behind the caller's instead of adding to it. The rows come through a server-side
    cursor inside a transaction (streamed, never all in memory); at most two chunks wait
    in the queue. If the caller stops early, the helper is stopped and the cursor closed
    before this generator returns, so the connection is the caller's alone again. Until
    then the connection is the helper's: the caller must not run queries meanwhile.
    """
    # This thread's connection itself (django.db.connection would give the helper one
    # of its own, outside this thread's transaction).
    connection = connections[DEFAULT_DB_ALIAS]
    chunks: queue.Queue[Any] = queue.Queue(maxsize=2)
    stopped = threading.Event()

    def fetch() -> None:
        try:
            with connection.chunked_cursor() as cursor:
                cursor.execute(sql, params)
                while not stopped.is_set():
                    rows = cursor.fetchmany(chunk_size)
                    if not rows:
                        break
                    chunks.put(rows)
        except BaseException as error:  # handed to the caller, raised there
            chunks.put(error)
        else:
            chunks.put(_DONE)

    with transaction.atomic(using=connection.alias):
        connection.inc_thread_sharing()
        helper = threading.Thread(target=fetch, name="read-ahead", daemon=True)
        helper.start()
        try:
            while (rows := chunks.get()) is not _DONE:
                if isinstance(rows, BaseException):
                    raise rows
                yield from rows
        finally:
            stopped.set()
            while helper.is_alive():  # let a helper blocked on a full queue finish
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.01)
            helper.join()
            connection.dec_thread_sharing()
