"""read_ahead: the rows of a query, fetched by a helper thread on the caller's connection."""

import threading

import pytest
from django.db import DatabaseError, connection

from requests_log.exports.readahead import read_ahead

pytestmark = pytest.mark.django_db

NUMBERS = "SELECT n, repeat('x', n %% 7) FROM generate_series(1, %s) AS n ORDER BY n"


def test_every_row_comes_in_order_across_chunks():
    rows = list(read_ahead(NUMBERS, [2500], chunk_size=100))

    assert rows == [(n, "x" * (n % 7)) for n in range(1, 2501)]


def test_rows_written_in_the_callers_transaction_are_seen(maya):
    # The helper uses the caller's connection, so it sees what the caller has not committed.
    rows = list(read_ahead("SELECT email FROM boundary_user WHERE id = %s", [maya.pk]))

    assert rows == [(maya.email,)]


def test_stopping_early_gives_the_connection_back():
    rows = read_ahead(NUMBERS, [100_000], chunk_size=10)
    first = [next(rows) for _ in range(15)]

    rows.close()

    assert first[-1][0] == 15
    assert not any(thread.name == "read-ahead" for thread in threading.enumerate())
    with connection.cursor() as cursor:  # usable again, in this thread, at once
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_failing_query_raises_in_the_caller():
    with pytest.raises(DatabaseError, match="division by zero"):
        list(read_ahead("SELECT 1 / (n - 3) FROM generate_series(1, 5) AS n", [], chunk_size=1))

    with connection.cursor() as cursor:  # the failed transaction was rolled back
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)
