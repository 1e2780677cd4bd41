"""`make bench`, the measuring part (issue 14): every page against its floor.

    .venv/bin/python scripts/bench/measure.py [--reuse] [--pages a,b] [--rounds 4]

1. Copies the template database (boundary_bench_template, from scripts/bench/dataset.py)
   to a fresh boundary_bench, unless --reuse (then BENCH_DATABASE is used as it is: a
   development database with `manage.py load_demo` works).
2. Signs the personas in (personas.py) and captures each page's SQL (capture.py) into
   var/bench/queries.json, and plans the reads: none may scan a big table (plans.py).
3. Serves Boundary (production settings) and the floor (floor.py) with gunicorn, 2 sync
   workers each on 127.0.0.1, and drives them with wrk: per page a warm-up, then ROUNDS
   rounds of page then floor on 2 connections, each round giving page ÷ floor requests
   per second (interleaved, so a busy spell on this shared machine weighs on both), then
   the page alone on one connection for its p50 and p95 latency.
4. Runs the in-process measures (inprocess.py) and writes var/bench/results.json,
   results.md and ratios.png (report.py). Exits 1 if a target is missed.
"""

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

import psycopg2
from config import (
    APP_PORT,
    DATABASE,
    FLOOR_PORT,
    OUT,
    REDIS,
    ROOT,
    TEMPLATE_DATABASE,
    VENV_BIN,
    database_url,
    production_environment,
)
from psycopg2 import sql

sys.path.insert(0, str(ROOT))
# A page slower than this (seconds, as captured) is not load-tested, and missed (slow_page).
SLOW_SECONDS = 0.4


@dataclass
class PageResult:
    name: str
    label: str
    path: str
    queries: int
    writes: int
    ratios: list[float]
    rounds: list[tuple[float, float]]  # page's and floor's requests per second
    p50_ms: float
    p95_ms: float
    errors: int
    slow: bool  # over SLOW_SECONDS a request: not served, a miss (slow_page)
    min_ratio: float
    target: str
    passed: bool
    reference: bool = False

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="measure BENCH_DATABASE as it is")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    parser.add_argument("--rounds", type=int, default=4, help="page/floor rounds per page")
    parser.add_argument("--seconds", type=int, default=1, help="seconds of each wrk run")
    parser.add_argument("--latency-seconds", type=int, default=2, help="the one-connection run")
    parser.add_argument("--no-inprocess", action="store_true", help="pages only")
    args = parser.parse_args()

    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.reuse:
        copy_template()
    empty_cache()
    environment = {**os.environ, **production_environment()}
    os.environ.update(environment)
    collect_static(environment)

    import django

    django.setup()
    import capture
    import personas
    import preloaded  # noqa: F401 - Boundary all imported: capture times pages, not imports
    from django.core.management import call_command

    # Migrations newer than the template (cheap ones, or dataset.py's version is bumped).
    call_command("migrate", verbosity=0)
    # HR's kept counts up to date before anything is timed (a migration may mark them all).
    from requests_log import hr_counts

    hr_counts.counted_requests_refresh()
    from django.conf import settings
    from django.db import connection
    from pages import pages_of, planned_pages

    # One JSON line per sign-in and per export made here is the security log's business
    # in production, not this report's (set after migrate, which configures logging anew).
    logging.getLogger("boundary.security").setLevel(logging.WARNING)

    cast = personas.cast()
    pages = pages_of(cast)
    if args.pages:
        wanted = set(args.pages.split(","))
        pages = [page for page in pages if page.name in wanted]
    sessions = {user: personas.session_key(user) for user in {page.user for page in pages}}
    captured = {}
    for page in pages:
        page_started = time.monotonic()
        captured[page.name] = capture.capture(
            capture.client_for(sessions[page.user]), page.path, slow=SLOW_SECONDS * 5
        )
        if captured[page.name].status != 200:
            raise SystemExit(f"{page.path} answered {captured[page.name].status}, not 200")
        print(
            f"  {page.name}: {captured[page.name].queries} queries, "
            f"{captured[page.name].seconds:.2f} s ({time.monotonic() - page_started:.1f} s in all)",
            flush=True,
        )
    queries_file = OUT / "queries.json"
    queries_file.write_text(json_dump({name: page.reads for name, page in captured.items()}))
    import plans

    # The pages above and the forms and pages not load-tested, planned on Django's
    # connection, so with the pages' planner settings.
    planned = {name: page.reads for name, page in captured.items()}
    for extra in planned_pages(cast) if not args.pages else ():
        if extra.user not in sessions:
            sessions[extra.user] = personas.session_key(extra.user)
        page = capture.captured_get(capture.client_for(sessions[extra.user]), extra.path)
        if page.status != 200:
            raise SystemExit(f"{extra.path} answered {page.status}, not 200")
        planned[extra.name] = page.reads
    figures = [plans.figure(planned)]
    connection.close()
    print(f"Captured the SQL of {len(pages)} pages in {time.monotonic() - started:.0f} s")

    import servers

    results = []
    floor_environment = {
        **environment,
        "BENCH_FLOOR_QUERIES": str(queries_file),
        # The planner settings Django's connections start with (settings.py), so that the
        # floor's PostgreSQL plans the same SQL the same way.
        "BENCH_FLOOR_PG_OPTIONS": connection.settings_dict["OPTIONS"].get("options", ""),
    }
    with (
        servers.gunicorn("preloaded:application", APP_PORT, environment),
        servers.gunicorn(
            "floor:application", FLOOR_PORT, floor_environment, ROOT / "scripts/bench"
        ),
    ):
        fast = [page for page in pages if captured[page.name].seconds <= SLOW_SECONDS]
        if fast:
            warm_workers(fast[0], f"{settings.SESSION_COOKIE_NAME}={sessions[fast[0].user]}")
        for page in pages:
            cookie = f"{settings.SESSION_COOKIE_NAME}={sessions[page.user]}"
            results.append(measure_page(page, captured[page.name], cookie, args))
            print_result(results[-1])

    if not args.no_inprocess:
        import inprocess

        figures += inprocess.run(cast)
    import report

    report.write(
        pages=[{**asdict(result), "ratio": result.ratio} for result in results],
        figures=figures,
        seconds=time.monotonic() - started,
    )
    print((OUT / "results.md").read_text())
    print(f"Done in {time.monotonic() - started:.0f} s; results in {OUT}")
    missed = [result.name for result in results if not result.passed]
    missed += [figure["measure"] for figure in figures if figure["passed"] is False]
    return 1 if missed else 0


def measure_page(page, captured, cookie: str, args) -> PageResult:
    from load import wrk

    if captured.seconds > SLOW_SECONDS:
        return slow_page(page, captured)

    def app(seconds: int, connections: int = 2):
        return wrk(APP_PORT, page.path, cookie=cookie, seconds=seconds, connections=connections)

    def floor(seconds: int):
        return wrk(FLOOR_PORT, f"/{page.name}", cookie=cookie, seconds=seconds, connections=2)

    runs = warm_up(app)  # the floor was warmed once: it keeps nothing per page
    pairs = [(app(args.seconds), floor(args.seconds)) for _ in range(args.rounds)]
    one = app(args.latency_seconds, connections=1)
    runs += [one, *(run for pair in pairs for run in pair)]
    # A round whose floor answered nothing (a stall on this shared machine) has no ratio.
    ratios = [
        page_run.per_second / floor_run.per_second
        for page_run, floor_run in pairs
        if floor_run.requests
    ]
    errors = sum(run.not_200 + run.socket_errors for run in runs) + len(pairs) - len(ratios)
    ratios = ratios or [0.0]
    passed = (
        statistics.median(ratios) >= page.min_ratio
        and (page.max_p50_ms is None or one.p50_ms < page.max_p50_ms)
        and errors == 0
    )
    return PageResult(
        name=page.name,
        label=page.label,
        path=page.path,
        queries=captured.queries,
        writes=len(captured.writes),
        ratios=ratios,
        rounds=[(page_run.per_second, floor_run.per_second) for page_run, floor_run in pairs],
        p50_ms=one.p50_ms,
        p95_ms=one.p95_ms,
        errors=errors,
        slow=False,
        min_ratio=page.min_ratio,
        target=page.target,
        passed=passed,
        reference=page.reference,
    )


def slow_page(page, captured) -> PageResult:
    """A page slower than SLOW_SECONDS is not served: wrk counts only answers within its
    whole seconds, each such request holds a worker for seconds, and the ratio would say
    little (the page's own SQL is most of the page and of the floor alike). Its time is
    the captured request's, in-process; it is a miss."""
    milliseconds = captured.seconds * 1000
    return PageResult(
        name=page.name,
        label=page.label,
        path=page.path,
        queries=captured.queries,
        writes=len(captured.writes),
        ratios=[],
        rounds=[],
        p50_ms=milliseconds,
        p95_ms=milliseconds,
        errors=0,
        slow=True,
        min_ratio=page.min_ratio,
        target=page.target,
        passed=False,
    )


def warm_workers(page, cookie: str) -> None:
    """Each worker's first request imports most of Boundary (weasyprint, fontTools…), which
    takes seconds here and longer than a wrk run on a busy machine: two requests at once,
    one per worker, until both answer quickly. The floor's workers open their connections."""
    from concurrent.futures import ThreadPoolExecutor

    from load import get

    targets = [(APP_PORT, page.path), (FLOOR_PORT, f"/{page.name}")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for port, path in targets:
            for _ in range(10):
                answers = list(pool.map(get, [port] * 2, [path] * 2, [cookie] * 2))
                if max(answers) < 1:
                    break


def warm_up(run, seconds: int = 1, enough: int = 3, tries: int = 4) -> list:
    """Runs until one answers `enough` requests: each worker's first requests load code
    and templates, open its database connection and fill PostgreSQL's buffers."""
    runs = []
    while len(runs) < tries and (not runs or runs[-1].requests < enough):
        runs.append(run(seconds))
    return runs


def print_result(result: PageResult) -> None:
    import report

    if result.slow:
        measured = f"{result.p50_ms / 1000:.1f} s a request, in-process"
    else:
        page_rate, floor_rate = (
            statistics.median(side) for side in zip(*result.rounds, strict=True)
        )
        measured = (
            f"{result.ratio:.3f} ({min(result.ratios):.3f}-{max(result.ratios):.3f}) of the "
            f"floor, {page_rate:.0f} vs {floor_rate:.0f}/s; p50 {result.p50_ms:.1f} ms, "
            f"p95 {result.p95_ms:.1f} ms"
        )
    verdict = report.verdict(asdict(result))
    verdict = f"{verdict} ({result.target})" if verdict else result.target
    print(f"  {result.label:<38} {measured}; {result.queries} queries; {verdict}", flush=True)


def empty_cache() -> None:
    """Empty the bench's Redis database (its cache, sessions and broker). Each copy of the
    template starts HR's counts version where the template left it, so an earlier run's
    cached dashboards would answer under the same versions: a 'first load after a write'
    would be a cache hit (12 ms instead of about 130)."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()


def copy_template() -> None:
    """DROP and CREATE boundary_bench from the template: a few seconds, against the
    data set's minutes. WITH (FORCE) ends connections an earlier run left behind."""
    started = time.monotonic()
    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        cursor.execute(
            # FILE_COPY copies the files once; PostgreSQL 15's default (WAL_LOG) also
            # writes all of them to the WAL, several times slower for gigabytes.
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(DATABASE), sql.Identifier(TEMPLATE_DATABASE)
            )
        )
    admin.close()
    print(f"{DATABASE}: a copy of {TEMPLATE_DATABASE} in {time.monotonic() - started:.0f} s")


def collect_static(environment: dict[str, str]) -> None:
    """Production settings serve hashed static files from a manifest: make it when there
    is none, or a file in static/ is newer (a page naming a file the manifest lacks
    answers 500). About 15 s, so not on every run."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    if manifest.exists():
        collected = manifest.stat().st_mtime
        if all(path.stat().st_mtime <= collected for path in (ROOT / "static").rglob("*")):
            return
    subprocess.run(  # noqa: S603 - a fixed argument list
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )


def json_dump(value) -> str:
    import json

    return json.dumps(value, indent=1)


if __name__ == "__main__":
    sys.exit(main())
