"""Do the pages' reads use indexes on the big data set? Each captured read (capture.py) is
planned with EXPLAIN; a sequential scan of a table holding more than BIG_TABLE_ROWS rows
(by PostgreSQL's own estimate) is a filter or an order without its index, and a miss.
Small tables (a few authenticators, an empty evidence table) are scanned whole by any
sensible planner, so they are not counted. Needs Django set up on the bench database.
"""

from collections.abc import Iterator
from dataclasses import dataclass

BIG_TABLE_ROWS = 10_000


@dataclass(frozen=True)
class SequentialScan:
    page: str
    table: str
    rows: int  # the table's estimated rows
    sql: str


def sequential_scans(reads_by_page: dict[str, list[str]]) -> list[SequentialScan]:
    """Every sequential scan of a big table in the plans of the pages' reads."""
    from django.db import connection

    found, sizes = [], {}
    with connection.cursor() as cursor:
        for page, reads in reads_by_page.items():
            for sql in reads:
                if ";" in sql:
                    # Several statements in one string: timeline_append's lock, bookkeeping
                    # and head read, a write's (EXPLAIN would plan only the first).
                    continue
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0][0]["Plan"]
                for table in scanned_tables(plan):
                    if table not in sizes:
                        sizes[table] = estimated_rows(cursor, table)
                    rows = sizes[table]
                    if rows > BIG_TABLE_ROWS:
                        found.append(SequentialScan(page, table, rows, sql))
    return found


def scanned_tables(plan: dict) -> Iterator[str]:
    if plan["Node Type"] == "Seq Scan":
        yield plan["Relation Name"]
    for child in plan.get("Plans", ()):
        yield from scanned_tables(child)


def estimated_rows(cursor, table: str) -> int:
    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
    return cursor.fetchone()[0]


def figure(reads_by_page: dict[str, list[str]]) -> dict:
    """The check as one of the report's figures, the scans found printed in full."""
    scans = sequential_scans(reads_by_page)
    for scan in scans:
        print(f"  sequential scan of {scan.table} ({scan.rows:,} rows) on {scan.page}: {scan.sql}")
    reads = sum(len(statements) for statements in reads_by_page.values())
    return {
        "measure": f"Pages' reads planned on the big data set ({reads} statements): "
        f"sequential scans of tables over {BIG_TABLE_ROWS:,} rows",
        "value": str(len(scans)),
        "target": "0",
        "passed": not scans,
    }
