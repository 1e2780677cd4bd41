"""Benchmark the reminder sweep on 1,000,000 reminder rows, 10,000 of them due.

    make bench-reminders            (or: .venv/bin/python scripts/bench_reminders.py)

Uses its own database (BENCH_DATABASE_URL, default boundary_bench_reminders), dropped,
created and migrated on each run, so it never touches anyone else's data. Measures, in
one run:

1. the sweep's claim query, exactly as `reminders_claim_due` issues it (captured with
   CaptureQueriesContext), with its partial index and with index scans disabled,
   alternating the two so machine noise hits both alike; each run in a transaction
   that is rolled back, so every run sees the same 10,000 due rows;
2. EXPLAIN of that query (it must use `reminder_due_idx`);
3. the time for two sweepers side by side (threads, one connection each, calling
   `reminders_claim_due` until nothing is left, with a dispatch that records the ids)
   to claim all 10,000, and one sweeper alone for comparison, checking that no id is
   claimed twice and none is missed.

Exits 1 if a target is missed: claim query ≤ 1/100 of the no-index time, median ≤ 5 ms,
EXPLAIN names the partial index, 0 duplicates, 0 missed.
"""

import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/boundary_bench_reminders"
)
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["DATABASE_CONN_MAX_AGE"] = "0"
os.environ["CELERY_BROKER_URL"] = "memory://"  # nothing is queued: dispatch records ids
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boundary.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

TOTAL_ROWS = 1_000_000
DUE_ROWS = 10_000
FUTURE_ROWS = 190_000  # scheduled, not yet due; the rest are sent/cancelled/skipped
REQUESTS = 1_000  # reminders per request = TOTAL_ROWS / REQUESTS, numbered 1..1000
RUNS = 31
NO_INDEX = (
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_bitmapscan = off",
    "SET LOCAL enable_indexonlyscan = off",
)


def recreate_database() -> None:
    import psycopg2
    from psycopg2 import sql

    name = urlsplit(DATABASE_URL).path.lstrip("/")
    admin = psycopg2.connect(DATABASE_URL, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def generate_rows() -> tuple[float, int]:
    """1,000 requests (one logged through the service, copied in SQL) and 1,000,000
    reminders in one INSERT … SELECT generate_series. Returns (seconds, due rows)."""
    from django.db import connection
    from django.utils import timezone

    from boundary.models import User
    from requests_log import services
    from requests_log.models import PromotionRequest, Reminder

    started = time.perf_counter()
    employee = User.objects.create_user(email="bench@example.com", display_name="Bench")
    template = services.promotion_request_log(
        employee=employee,
        actor=employee,
        target_accounts=(),
        requester_name="Daniel Reyes",
        requester_title="Head of Marketing",
        occurred_at=timezone.now() - timedelta(days=30),
        channel=PromotionRequest.Channel.MEETING,
        setting="Marketing meeting",
        words_used="Would you post about the new line?",
        promoted_item="The new product line",
        content_format=PromotionRequest.ContentFormat.VIDEOS,
        quantity=3,
        framing=PromotionRequest.Framing.ASKED,
        compensation_offered="€400 per video",
    )
    Reminder.objects.all().delete()  # the service's own; the numbers below replace them
    requests_table = PromotionRequest._meta.db_table
    columns = ", ".join(
        f'"{field.column}"'
        for field in PromotionRequest._meta.concrete_fields
        if not field.primary_key
    )
    reminder = Reminder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {requests_table} ({columns}) SELECT {columns} FROM {requests_table}, "  # noqa: S608
            "generate_series(2, %s) WHERE id = %s",
            [REQUESTS, template.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO {reminder} (promotion_request_id, employee_id, kind, number, due_at,
                state, queued_at, claimed_at, finished_at, attempts, last_error, created_at)
            SELECT r.id, r.employee_id, 'no_decision', g / %(requests)s + 1,
                CASE WHEN g < %(due)s THEN now() - make_interval(secs => 1 + g %% 3600)
                     WHEN g < %(due)s + %(future)s
                         THEN now() + make_interval(secs => 60 + g)
                     ELSE now() - make_interval(secs => g) END,
                CASE WHEN g < %(due)s + %(future)s THEN 'scheduled'
                     WHEN g %% 10 < 7 THEN 'sent'
                     WHEN g %% 10 < 9 THEN 'cancelled'
                     ELSE 'skipped' END,
                CASE WHEN g >= %(due)s + %(future)s THEN now() - make_interval(secs => g) END,
                CASE WHEN g >= %(due)s + %(future)s THEN now() - make_interval(secs => g) END,
                CASE WHEN g >= %(due)s + %(future)s THEN now() - make_interval(secs => g) END,
                CASE WHEN g >= %(due)s + %(future)s THEN 1 ELSE 0 END,
                '', now()
            FROM generate_series(0, %(total)s - 1) AS g
            JOIN (SELECT id, employee_id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM {requests_table}) AS r ON r.n = g %% %(requests)s
            """,  # noqa: S608
            {"requests": REQUESTS, "due": DUE_ROWS, "future": FUTURE_ROWS, "total": TOTAL_ROWS},
        )
        cursor.execute(f"VACUUM ANALYZE {reminder}")
    due = Reminder.objects.filter(state="scheduled", due_at__lte=timezone.now()).count()
    return time.perf_counter() - started, due


class Rollback(Exception):
    pass


def capture_sweep_queries() -> list[str]:
    """The SQL `reminders_claim_due` sends, captured and then rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from requests_log import reminders

    with CaptureQueriesContext(connection) as captured:
        try:
            with transaction.atomic():
                reminders.reminders_claim_due(dispatch=lambda ids: None)
                raise Rollback
        except Rollback:
            pass
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith(("SELECT", "UPDATE"))
    ]


def timed(cursor, sql: str, settings: tuple[str, ...] = ()) -> tuple[float, int]:
    """Run `sql` in its own transaction, rolled back; milliseconds and row count."""
    cursor.execute("BEGIN")
    for setting in settings:
        cursor.execute(setting)
    started = time.perf_counter()
    cursor.execute(sql)
    rows = len(cursor.fetchall())
    elapsed = (time.perf_counter() - started) * 1000
    cursor.execute("ROLLBACK")
    return elapsed, rows


def explain(cursor, sql: str, settings: tuple[str, ...] = ()) -> str:
    cursor.execute("BEGIN")
    for setting in settings:
        cursor.execute(setting)
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    cursor.execute("ROLLBACK")
    return plan


def sweep_side_by_side(sweepers: int) -> tuple[float, list[list[int]], int]:
    """`sweepers` threads, each sweeping until a sweep claims nothing. Returns the
    wall time, the ids each dispatched, and how many sweeps ran in all."""
    from django.db import connection

    from requests_log import reminders

    claimed: list[list[int]] = [[] for _ in range(sweepers)]
    sweeps = [0] * sweepers
    errors: list[BaseException] = []
    gate = threading.Barrier(sweepers + 1)

    def sweeper(n: int) -> None:
        try:
            connection.ensure_connection()
            gate.wait()
            while reminders.reminders_claim_due(dispatch=claimed[n].extend):
                sweeps[n] += 1
        except BaseException as error:  # reported below, after the threads end
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper, args=(n,)) for n in range(sweepers)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, claimed, sum(sweeps)


def reset_claims(due_ids: set[int]) -> None:
    from django.db import connection

    from requests_log.models import Reminder

    Reminder.objects.filter(pk__in=due_ids).update(state="scheduled", queued_at=None)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Reminder._meta.db_table}")


def main() -> int:
    started = time.perf_counter()
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from requests_log.models import Reminder

    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    generated, due = generate_rows()
    total = Reminder.objects.count()
    due_ids = set(
        Reminder.objects.filter(state="scheduled", due_at__lte=timezone.now()).values_list(
            "pk", flat=True
        )
    )
    print(f"Database {urlsplit(DATABASE_URL).path.lstrip('/')}: migrated in {migrated:.1f} s,")
    print(f"{total:,} reminder rows ({due:,} due) generated in {generated:.1f} s.\n")

    queries = capture_sweep_queries()
    claim_sql = queries[0]
    print("The sweep issues:")
    for sql in queries:
        print("  " + (sql if len(sql) < 600 else sql[:300] + " …)"))
    print()

    with connection.cursor() as cursor:
        with_index, without_index = [], []
        for _ in range(3):  # warm the cache for both
            timed(cursor, claim_sql)
            timed(cursor, claim_sql, NO_INDEX)
        for _ in range(RUNS):
            ms, rows_indexed = timed(cursor, claim_sql)
            with_index.append(ms)
            ms, rows_scanned = timed(cursor, claim_sql, NO_INDEX)
            without_index.append(ms)
        plan = explain(cursor, claim_sql)
        plan_no_index = explain(cursor, claim_sql, NO_INDEX)
        lost_sql = queries[1]
        lost_ms = statistics.median(timed(cursor, lost_sql)[0] for _ in range(RUNS))
        lost_plan = explain(cursor, lost_sql)
        # What-if: the same query claiming smaller batches. The indexed query's cost
        # grows with the rows it locks and returns; without the index, the scan of
        # the whole table costs the same whatever the batch.
        smaller_batches = {}
        for limit in (200, 100):
            sql = claim_sql.replace(" LIMIT 500 ", f" LIMIT {limit} ")
            pairs = [(timed(cursor, sql)[0], timed(cursor, sql, NO_INDEX)[0]) for _ in range(RUNS)]
            smaller_batches[limit] = (
                statistics.median(a for a, _ in pairs),
                statistics.median(b for _, b in pairs),
            )

    sweeps = []
    for label, sweepers in (
        ("two sweepers side by side", 2),
        ("one sweeper alone", 1),
        ("two sweepers side by side, again", 2),
    ):
        reset_claims(due_ids)
        sweeps.append((label, *sweep_side_by_side(sweepers)))

    print("EXPLAIN ANALYZE of the claim query:")
    print("\n".join("  " + line for line in plan.splitlines()))
    print("\nThe same with index scans disabled:")
    print("\n".join("  " + line for line in plan_no_index.splitlines()))
    print("\nEXPLAIN ANALYZE of the sweep's second query (claims gone stale):")
    print("\n".join("  " + line for line in lost_plan.splitlines()))

    median_index = statistics.median(with_index)
    median_scan = statistics.median(without_index)
    ratio = median_index / median_scan
    figures: list[tuple[str, str, str, bool | None]] = [
        ("rows in requests_log_reminder", f"{total:,}", "1,000,000", total == TOTAL_ROWS),
        ("due rows", f"{due:,}", "10,000", due == DUE_ROWS),
        (
            f"claim query, partial index: median of {RUNS} ({rows_indexed} rows)",
            f"{median_index:.2f} ms",
            "≤ 5 ms",
            median_index <= 5,
        ),
        ("  p90 / min / max", _spread(with_index), "", None),
        (
            f"claim query, index scans off: median of {RUNS} ({rows_scanned} rows)",
            f"{median_scan:.2f} ms",
            "",
            None,
        ),
        ("  p90 / min / max", _spread(without_index), "", None),
        ("ratio index / no index", f"1/{1 / ratio:.0f}", "≤ 1/100", ratio <= 0.01),
        (
            "EXPLAIN uses reminder_due_idx",
            str("reminder_due_idx" in plan),
            "True",
            "reminder_due_idx" in plan,
        ),
        ("stale-claims query, median", f"{lost_ms:.2f} ms", "", None),
    ]
    for limit, (indexed, scanned) in smaller_batches.items():
        figures.append(
            (
                f"what-if LIMIT {limit}: index / no index (ratio)",
                f"{indexed:.2f} / {scanned:.1f} ms (1/{scanned / indexed:.0f})",
                "",
                None,
            )
        )
    for label, elapsed, claimed, sweep_count in sweeps:
        ids = [pk for batch in claimed for pk in batch]
        duplicates = len(ids) - len(set(ids))
        missed = len(due_ids - set(ids))
        split = " + ".join(f"{len(batch):,}" for batch in claimed)
        figures += [
            (
                f"{label}: claim + dispatch all {len(due_ids):,}",
                f"{elapsed * 1000:.0f} ms",
                "",
                None,
            ),
            ("  sweeps of ≤ 500 / ids per sweeper", f"{sweep_count} / {split}", "", None),
            (
                "  duplicates / missed",
                f"{duplicates} / {missed}",
                "0 / 0",
                not duplicates and not missed,
            ),
        ]
    print("\n" + _table(figures))
    missed_targets = [label for label, _, _, ok in figures if ok is False]
    if missed_targets:
        print("\nMissed: " + "; ".join(missed_targets))
        return 1
    print(f"\nAll targets met ({time.perf_counter() - started:.0f} s in all).")
    return 0


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(len(ordered) * 0.9)]
    return f"{p90:.2f} / {ordered[0]:.2f} / {ordered[-1]:.2f} ms"


def _table(rows: list[tuple[str, str, str, bool | None]]) -> str:
    header = ("measure", "figure", "target", "")
    cells = [header] + [
        (label, figure, target, {True: "ok", False: "MISSED", None: ""}[ok])
        for label, figure, target, ok in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


if __name__ == "__main__":
    sys.exit(main())
