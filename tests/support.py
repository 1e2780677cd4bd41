"""Small helpers shared by tests."""

from collections.abc import Sequence
from typing import Any

from django.db import connection

from requests_log.flags import FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE

# A SECURITY DEFINER function that tests/conftest.py creates in the test database only.
OWNER_FUNCTION = "boundary_test_as_owner"


def plain(text: str) -> str:
    """`text` without the directional isolates that set typed words apart
    (requests_log.flags.isolated), for comparing what a person reads."""
    return text.replace(FIRST_STRONG_ISOLATE, "").replace(POP_DIRECTIONAL_ISOLATE, "")


def as_owner(sql: str, params: Sequence[Any] | None = None) -> int:
    """Run one statement as the role that owns the tables, in the test's own transaction,
    and return how many rows it touched: what whoever runs the database can do, and the
    role the tests (like the app) connect as cannot. Combine with pgtrigger.ignore() to
    get past the append-only triggers as well."""
    with connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params).decode() if params is not None else sql
        cursor.execute(f"SELECT {OWNER_FUNCTION}(%s)", [statement])
        return cursor.fetchone()[0]
