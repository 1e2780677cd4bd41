"""`make bench`'s measures without HTTP, in this process, on the big data set (issue 14):

- a list page at 10 and at 100 rows (the heavy employee's requests, the page size set
  for the run): at most 3x the time, the same number of queries;
- a chained event insert with its checkpoint bookkeeping against a plain INSERT of the
  same rows (scripts/bench_export.py's comparison): at least 0.8x the plain rows/s;
- again here: the reminder sweep's claim query (scripts/bench_reminders.py), the CSV
  export, the PDF of the longest timeline, verification (scripts/bench_export.py) and
  HR's CSV export of one department's last 90 days;
- HR's dashboard loaded right after a write to what it counts (its cache misses): under
  150 ms, like its p50; and, for comparison, the same counted afresh from the record.

Each returns rows of {"measure", "value", "target", "passed"} (passed None: no target).
Called by measure.py with Django set up on the bench database.
"""

import statistics
import sys
import time

from config import OUT, ROOT

sys.path.insert(0, str(ROOT / "scripts"))
RUNS = 5
LIST_SECONDS = 8
INSERT_ROWS = 150  # each of bench_export's variants, in each of its INSERT_ROUNDS
INSERT_ROUNDS = 2
HR_EXPORT_DAYS = 90
WRITES = 25  # HR dashboard loads, each after a write


def run(cast) -> list[dict]:
    import bench_export

    # Its work files go beside ours, not in the folder `make bench-export` uses.
    bench_export.WORK = OUT / "export-work"
    bench_export.WORK.mkdir(parents=True, exist_ok=True)
    bench_export.INSERT_ROWS = INSERT_ROWS
    bench_export.INSERT_ROUNDS = INSERT_ROUNDS
    figures = []
    for measure in (
        lambda: list_rows(cast),
        insert,
        reminder_sweep,
        lambda: csv_export(cast),
        lambda: pdf(cast),
        lambda: verification(cast),
        lambda: hr_export(cast),
        lambda: hr_dashboard_after_a_write(cast),
    ):
        started = time.monotonic()
        rows = measure()
        figures += rows
        for row in rows:
            print(f"  {row['measure']}: {row['value']} ({row['target'] or 'no target'})")
        print(f"    ({time.monotonic() - started:.0f} s)", flush=True)
    return figures


def figure(measure: str, value: str, target: str = "", passed: bool | None = None) -> dict:
    return {"measure": measure, "value": value, "target": target, "passed": passed}


def list_rows(cast) -> list[dict]:
    """The heavy employee's request list (her dashboard) at 10 and 100 rows a page."""
    import personas
    from capture import client_for
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from requests_log import views

    client = client_for(personas.session_key(cast.heavy))
    kept = views.PAGE_SIZE
    times: dict[int, list[float]] = {10: [], 100: []}
    queries = {}
    started = time.monotonic()
    try:
        # Pairs in turn (the page was warmed by capture.py) for LIST_SECONDS, at least one.
        while not times[10] or time.monotonic() - started < LIST_SECONDS:
            for size in (10, 100):
                views.PAGE_SIZE = size
                with CaptureQueriesContext(connection) as captured:
                    request_started = time.perf_counter()
                    if client.get("/my-record/").status_code != 200:
                        raise SystemExit("The heavy employee's dashboard did not answer 200")
                    times[size].append(time.perf_counter() - request_started)
                queries[size] = len(captured)
    finally:
        views.PAGE_SIZE = kept
    small, large = (statistics.median(times[size]) for size in (10, 100))
    ratio = large / small
    return [
        figure(
            "Requests list at 100 rows ÷ at 10 rows, time (heavy employee's dashboard)",
            f"{ratio:.2f} ({large * 1000:.0f} ms ÷ {small * 1000:.0f} ms)",
            "≤ 3",
            ratio <= 3,
        ),
        figure(
            "Requests list at 100 rows and at 10 rows, queries",
            f"{queries[100]} and {queries[10]}",
            "equal",
            queries[100] == queries[10],
        ),
    ]


def insert() -> list[dict]:
    import bench_export

    rates = bench_export.insert_rates(one_transaction=False)
    plain, chained, booked = (rates[variant] for variant in bench_export.INSERT_VARIANTS)
    return [
        figure(
            f"Chained insert + checkpoint bookkeeping ÷ plain INSERT ({INSERT_ROWS} events, "
            "a transaction each)",
            f"{booked / plain:.2f} ({booked:,.0f} ÷ {plain:,.0f} rows/s)",
            "≥ 0.8",
            booked / plain >= 0.8,
        ),
        figure(
            "  the same ÷ chained without the bookkeeping",
            f"{booked / chained:.2f} ({chained:,.0f} rows/s without)",
        ),
    ]


def reminder_sweep() -> list[dict]:
    """The sweep's claim query as it runs, each run rolled back (bench_reminders)."""
    import bench_reminders
    from django.db import connection

    from requests_log.models import Reminder

    claim_sql = bench_reminders.capture_sweep_queries()[0]
    with connection.cursor() as cursor:
        runs = [bench_reminders.timed(cursor, claim_sql) for _ in range(RUNS * 3)]
        plan = bench_reminders.explain(cursor, claim_sql)
    median = statistics.median(ms for ms, _ in runs)
    rows = runs[-1][1]
    total = Reminder.objects.count()
    return [
        figure(
            f"Reminder sweep's claim query ({total:,} reminders, {rows} claimed), median",
            f"{median:.1f} ms, {'with' if 'reminder_due_idx' in plan else 'WITHOUT'} "
            "reminder_due_idx",
            "≤ 5 ms",
            median <= 5,
        )
    ]


def csv_export(cast) -> list[dict]:
    """The heavy employee's whole record as CSV, streamed, against COPY of its rows."""
    import bench_export

    from boundary.models import User

    employee = User.objects.get(pk=cast.heavy)
    rows = bench_export.bench_csv(lambda: copy_events(employee.pk), lambda: stream_csv(employee))
    return [
        figure(f"{name} (heavy employee)", value, target, met if target else None)
        for name, value, target, met in rows
    ]


def copy_events(employee_id: int) -> int:
    import io

    from django.db import connection

    sink = io.BytesIO()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        query = raw.mogrify(
            "COPY (SELECT seq, promotion_request_id, kind, actor_id, occurred_at, recorded_at, "
            "payload, salt, prev_hash, hash FROM requests_log_timelineevent "
            "WHERE employee_id = %s ORDER BY seq) TO STDOUT WITH CSV HEADER",
            [employee_id],
        )
        raw.copy_expert(query.decode(), sink)
    return sink.tell()


def stream_csv(employee) -> int:
    from requests_log.exports import services
    from requests_log.exports.record import Scope

    requested = services.export_request(
        employee=employee, requested_by=employee, format="csv", scope=Scope()
    )
    chunks, _ = services.export_stream(export=services.export_claim(export_id=requested.pk))
    return sum(len(chunk) for chunk in chunks)


def pdf(cast) -> list[dict]:
    import bench_export

    from boundary.models import User

    owner = User.objects.get(pk=cast.long_request_owner)
    rows = bench_export.bench_dispute_pdf(owner, [cast.long_request])
    return [
        figure(f"{name}, longest timeline", value, target, met) for name, value, target, met in rows
    ]


def verification(cast) -> list[dict]:
    import bench_export

    from boundary.models import User
    from requests_log.exports.signing import signing_key

    employee = User.objects.get(pk=cast.heavy)
    rows = bench_export.bench_verify(employee, {signing_key().fingerprint})
    return [
        figure(f"{name}, heavy employee", value, target, met if target else None)
        for name, value, target, met in rows
    ]


def hr_export(cast) -> list[dict]:
    """HR's CSV export of the largest department's last HR_EXPORT_DAYS, as the export
    button posts it (each request in it is marked on its employee's chain as read)."""
    from datetime import timedelta

    import personas
    from capture import client_for
    from django.utils import timezone

    from boundary.models import User
    from requests_log import hr_selectors

    hr = User.objects.get(pk=cast.hr)
    department = largest_department(hr_selectors.department_choices(viewer=hr))
    since = timezone.localdate() - timedelta(days=HR_EXPORT_DAYS)
    client = client_for(personas.session_key(cast.hr))
    started = time.perf_counter()
    response = client.post("/hr/export/", {"department": department, "date_from": since})
    seconds = time.perf_counter() - started
    rows = response.content.count(b"\n") - 1
    return [
        figure(
            f"HR's CSV export, {department}, last {HR_EXPORT_DAYS} days ({rows:,} requests, "
            f"HTTP {response.status_code})",
            f"{seconds:.2f} s = {seconds / max(rows, 1) * 1000:.1f} ms a request",
        )
    ]


def hr_dashboard_after_a_write(cast) -> list[dict]:
    """HR's dashboard, each load right after a write to a filed request (a new version of
    what it counts, its employee marked stale): the employee recounted, the kept rows
    counted. Then one count afresh from the record, what SQLite does and this replaces."""
    import personas
    from capture import client_for

    from boundary.models import User
    from requests_log import hr_selectors
    from requests_log.models import PromotionRequest

    client = client_for(personas.session_key(cast.hr))
    written = PromotionRequest.objects.filter(source=PromotionRequest.Source.FILED_IN_APP)
    times = []
    for pk, status in written.values_list("pk", "status")[:WRITES]:
        PromotionRequest.objects.filter(pk=pk).update(status=status)
        started = time.perf_counter()
        if client.get("/hr/").status_code != 200:
            raise SystemExit("HR's dashboard did not answer 200")
        times.append(time.perf_counter() - started)
    after_write = statistics.median(times) * 1000
    hr = User.objects.get(pk=cast.hr)
    started = time.perf_counter()
    hr_selectors.count_afresh(hr, hr_selectors.Filters())
    afresh = (time.perf_counter() - started) * 1000
    return [
        figure(
            f"HR's dashboard, first load after a write (median of {WRITES}, in-process)",
            f"{after_write:.0f} ms (max {max(times) * 1000:.0f} ms)",
            "< 150 ms",
            after_write < 150,
        ),
        figure("  its counts afresh from the record instead of the kept rows", f"{afresh:,.0f} ms"),
    ]


def largest_department(departments: list[str]) -> str:
    from django.db.models import Count

    from boundary.models import User

    sizes = dict(
        User.objects.filter(department__in=departments)
        .values_list("department")
        .annotate(people=Count("id"))
    )
    return max(departments, key=lambda name: sizes.get(name, 0))
