"""`make load`: Boundary under a realistic mix, as a bigger deployment runs it.

Two gunicorn processes and two Celery workers with production settings share one
PostgreSQL database and one Redis; a headless locust run (locustfile.py) spreads
simulated employees across both web processes. A stepped ramp finds the highest rate
held with zero errors and p95 of pages under the target, then one run at that rate
is measured. Meanwhile every few seconds: each worker's RSS (/proc/<pid>/status) and
the database's connections (pg_stat_activity). Results: var/load/results.md and .json.

Data: the bench template database (boundary_bench_template, with its cast) is cloned
when it exists; otherwise a fresh database gets migrate, the demo data and a few
hundred employees (seed.py). Everything listens and connects on 127.0.0.1 only, and
every process started here is stopped on exit, on an error or on Ctrl-C.
"""

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import psycopg2.errors
import redis

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
OUT = REPO / "var" / "load"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
BROKER_DB, CACHE_DB = 13, 14
WEB_PORTS = (18081, 18082)
TEMPLATE_DB = "boundary_bench_template"
TEMPLATE_CAST = REPO / "var" / "bench" / "cast.json"
# Pages must answer within this at the 95th percentile. A login is measured but not held
# to it: its password check (PBKDF2, 1,000,000 rounds) alone takes about 0.25 s of CPU.
P95_TARGET_MS = 250.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Seconds between the last user's first login and the measured window.
SETTLE_SECONDS = 5.0
# The final minute is tried at the highest rates the ramp held, in turn, until one holds.
FINAL_TRIES = 3
CLASSES = {
    "dashboards and lists": ("dashboard:", "list:"),
    "request pages": ("request page",),
    "logging or deciding": ("log:", "decide:"),
    "logins": ("login:",),
    "exports": ("export:",),
    "actions that raised": ("error:",),
}
HELD_TO_TARGET = ("dashboards and lists", "request pages", "logging or deciding", "exports")


class Stopped(Exception):
    """SIGTERM or SIGHUP: leave through the same clean-up as Ctrl-C."""


def on_signal(signum: int, _frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


# --- data ---------------------------------------------------------------------------------


def admin_sql(*statements: str) -> None:
    connection = psycopg2.connect(f"{PG_SERVER}/postgres")
    connection.autocommit = True  # CREATE and DROP DATABASE refuse a transaction
    with contextlib.closing(connection), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def database_exists(name: str) -> bool:
    with psycopg2.connect(f"{PG_SERVER}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def clone_template(database: str, attempts: int = 10) -> None:
    """PostgreSQL copies a template only while no one is connected to it (make bench
    clones it too): try again for a while."""
    for attempt in range(attempts):
        try:
            admin_sql(f'CREATE DATABASE "{database}" TEMPLATE "{TEMPLATE_DB}"')
            return
        except psycopg2.errors.ObjectInUse:
            if attempt == attempts - 1:
                raise
            time.sleep(5)


def template_cast(database_url: str) -> dict | None:
    """The bench data set's logins for a load test (scripts/bench/dataset.py writes them
    to var/bench/cast.json and to the template's bench_cast table)."""
    if TEMPLATE_CAST.exists():
        return load_test_cast(json.loads(TEMPLATE_CAST.read_text()))
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_cast') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT cast_json FROM bench_cast")
        row = cursor.fetchone()
    return load_test_cast(row[0]) if row else None


def load_test_cast(bench_cast: dict) -> dict | None:
    """Ordinary employees (none of the heavy ones) and their password."""
    employees = bench_cast.get("load_test", {}).get("employees")
    if not employees:
        return None
    return {"source": "template", "password": bench_cast["password"], "employees": employees}


def cast_file(database: str) -> Path:
    """Who logs in to this database (locust reads it)."""
    return OUT / f"cast-{database}.json"


def prepare_data(database: str, env: dict, data: str) -> dict:
    """A fresh database to load: the bench template's clone, or seeded here ("reuse":
    the database and cast of the previous run, to try changes quickly)."""
    url = f"{PG_SERVER}/{database}"
    if data == "reuse":
        return json.loads(cast_file(database).read_text())
    # Tasks and cached rate limits left by an earlier run name rows of a dropped database.
    for number in (BROKER_DB, CACHE_DB):
        redis.Redis.from_url(f"{REDIS}/{number}").flushdb()
    admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    if data != "seed" and database_exists(TEMPLATE_DB):
        started = time.monotonic()
        clone_template(database)
        cast = template_cast(url)
        if cast:
            run_django(["manage.py", "migrate", "--no-input", "-v0"], env)
            print(f"data: cloned {TEMPLATE_DB} in {time.monotonic() - started:.0f} s")
            return cast
        print(f"data: {TEMPLATE_DB} has no cast yet; seeding instead")
        admin_sql(f'DROP DATABASE "{database}" WITH (FORCE)')
    elif data == "template":
        raise SystemExit(f"{TEMPLATE_DB} does not exist")
    admin_sql(f'CREATE DATABASE "{database}"')
    cast_path = cast_file(database)
    development = {**env, "DJANGO_ENV": "development"}  # load_demo refuses production
    run_django(["scripts/load/seed.py", str(cast_path)], development, log="seed.log")
    print("data: " + (OUT / "seed.log").read_text().strip().splitlines()[-1])
    return json.loads(cast_path.read_text())


def run_django(arguments: list[str], env: dict, log: str | None = None) -> None:
    output = open(OUT / log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    with contextlib.closing(output) if log else contextlib.nullcontext():
        subprocess.run(  # noqa: S603 - our own commands, no shell
            [BIN / "python", *arguments],
            cwd=REPO,
            env=env,
            check=True,
            stdout=output,
            stderr=output if log else None,
            timeout=600,
        )


def static_files_current() -> bool:
    """Production serves static files through collectstatic's manifest (a page whose file
    is missing from it fails): current when it is newer than every file in static/."""
    manifest = REPO / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return False
    newest = max(path.stat().st_mtime for path in (REPO / "static").rglob("*") if path.is_file())
    return manifest.stat().st_mtime >= newest


# --- processes ----------------------------------------------------------------------------


def app_env(database: str) -> dict:
    """Production settings, as `make check-deploy` sets them, on our own database, Redis
    databases and files; persistent database connections."""
    return {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(45),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"{PG_SERVER}/{database}",
        # Each gunicorn thread and Celery process keeps one connection for its lifetime.
        "DATABASE_CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": f"{REDIS}/{BROKER_DB}",
        "CACHE_URL": f"{REDIS}/{CACHE_DB}",
        "EXPORTS_ROOT": str(OUT / "exports"),
        "EVIDENCE_ROOT": str(OUT / "evidence"),
        "BOUNDARY_SIGNING_KEY": str(OUT / "keys" / "export-signing-key.pem"),
        "LOG_LEVEL": "WARNING",
        # Beat's sweeps (reminders, receipts) every 10 s instead of every minute, so
        # the workers have the background work of a busy minute within the run.
        "REMINDER_SWEEP_SECONDS": "10",
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Processes:
    """The servers under test, each in its own process group so that stopping it stops
    every process it started."""

    env: dict
    started: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, label: str, command: list[str]) -> None:
        log = open(OUT / f"{label}.log", "w")  # noqa: SIM115 - the child keeps it open
        self.started[label] = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            command, cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        log.close()

    def start_all(self, worker_class: str, web_workers: int, web_threads: int) -> None:
        # gunicorn turns a sync worker with threads into a gthread one.
        threads = web_threads if worker_class == "gthread" else 1
        for index, port in enumerate(WEB_PORTS, start=1):
            self.start(
                f"web-{index}",
                [
                    str(BIN / "gunicorn"),
                    "boundary.wsgi:application",
                    f"--bind=127.0.0.1:{port}",
                    f"--worker-class={worker_class}",
                    f"--workers={web_workers}",
                    f"--threads={threads}",
                    "--timeout=30",
                    "--keep-alive=5",
                    "--worker-tmp-dir=/dev/shm",
                    # Every gunicorn on the machine would share one control socket path.
                    "--no-control-socket",
                ],
            )
        for index in (1, 2):
            self.start(
                f"celery-{index}",
                [
                    str(BIN / "celery"),
                    "-A",
                    "boundary",
                    "worker",
                    f"--hostname=load{index}@%h",
                    "--concurrency=1",
                    # INFO: one line per task run, counted in the results.
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                ],
            )

        self.start(
            "celery-beat",
            [
                str(BIN / "celery"),
                "-A",
                "boundary",
                "beat",
                "--loglevel=WARNING",
                f"--schedule={OUT / 'celerybeat-schedule'}",
            ],
        )

    def wait_until_up(self, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        for port in WEB_PORTS:
            while True:
                self.check_alive()
                try:
                    request = urllib.request.Request(
                        f"http://127.0.0.1:{port}/health/",
                        headers={"X-Forwarded-Proto": "https"},
                    )
                    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} did not answer /health/ in {timeout:.0f} s")
                time.sleep(0.5)

    def check_alive(self) -> None:
        for label, process in self.started.items():
            if process.poll() is not None:
                log = f"var/load/{label}.log"
                raise RuntimeError(f"{label} exited ({process.returncode}): see {log}")

    def stop_all(self) -> None:
        """SIGTERM to each main process alone: gunicorn's master and Celery's worker stop
        their own children (a warm shutdown); whatever is left after 15 s is killed,
        group and all."""
        for process in self.started.values():
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.started.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def workers(self) -> dict[int, str]:
        """Every process to watch, by pid: gunicorn's masters and workers, Celery's
        workers and their pool processes."""
        watched = {}
        for label, process in self.started.items():
            watched[process.pid] = f"{label} main"
            kind = "worker" if label.startswith("web") else "pool"
            for number, child in enumerate(children(process.pid), start=1):
                watched[child] = f"{label} {kind} {number}"
        return watched


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return sorted(int(child) for child in text.split())


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a process has used (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Sampler(threading.Thread):
    """Every `every` seconds: each watched process's RSS, the database's connections, and
    the CPU time used so far by the servers, PostgreSQL's backends for the database and
    locust (to say where the two cores went)."""

    def __init__(self, processes: Processes, database: str, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.processes, self.database, self.every = processes, database, every
        self.rss: dict[str, list[tuple[float, int]]] = {}
        self.connections: list[tuple[float, int]] = []
        # {group: {pid: [(time, cpu seconds), ...]}}
        self.cpu: dict[str, dict[int, list[tuple[float, float]]]] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        # Connected to another database, so that this connection is not among those counted.
        connection = psycopg2.connect(f"{PG_SERVER}/postgres")
        connection.autocommit = True
        with contextlib.closing(connection), connection.cursor() as cursor:
            while not self.halt.is_set():
                now = time.time()
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
                )
                backends = [row[0] for row in cursor.fetchall()]
                self.connections.append((now, len(backends)))
                watched = self.processes.workers()
                for pid, label in watched.items():
                    if (kib := rss_kib(pid)) is not None:
                        self.rss.setdefault(f"{label} (pid {pid})", []).append((now, kib))
                groups = {
                    "gunicorn": [pid for pid, label in watched.items() if label.startswith("web")],
                    "celery": [pid for pid, label in watched.items() if label.startswith("cel")],
                    "postgres": backends,
                    "locust": children(os.getpid()),
                }
                for group, pids in groups.items():
                    for pid in pids:
                        if (used := cpu_seconds(pid)) is not None:
                            self.cpu.setdefault(group, {}).setdefault(pid, []).append((now, used))
                self.halt.wait(self.every)

    def stop(self) -> None:
        self.halt.set()
        if self.is_alive():
            self.join(timeout=10)

    def cores_used(self, start: float, end: float) -> dict[str, float]:
        """Each group's CPU time within [start, end], in cores (1.0 = one core busy)."""
        used = {}
        for group, by_pid in self.cpu.items():
            seconds = 0.0
            for points in by_pid.values():
                window = [cpu for at, cpu in points if start <= at <= end]
                if len(window) > 1:
                    seconds += window[-1] - window[0]
            used[group] = round(seconds / (end - start), 2)
        return used


# --- locust -------------------------------------------------------------------------------


def run_locust(
    env: dict, cast_path: Path, name: str, seconds: float, users: int = 0, ramp: str = ""
) -> dict:
    samples = OUT / f"{name}-samples.json"
    samples.unlink(missing_ok=True)
    command = [
        str(BIN / "locust"),
        "-f",
        str(REPO / "scripts" / "load" / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--loglevel=WARNING",
        "--stop-timeout=5",
        "--exit-code-on-error=0",
    ]
    if not ramp:
        command += [f"--users={users}", "--spawn-rate=10", f"--run-time={round(seconds)}s"]
    locust_env = {
        **os.environ,
        "LOAD_HOSTS": ",".join(f"http://127.0.0.1:{port}" for port in WEB_PORTS),
        "LOAD_CAST": str(cast_path),
        "LOAD_SAMPLES": str(samples),
        "LOAD_USER_RATE": str(env["user_rate"]),
        "LOAD_RAMP": ramp,
        "LOAD_STEP_SECONDS": str(env["step_seconds"]),
        "LOAD_MEASURE_SECONDS": str(env.get("measure_seconds", 0)),
        "LOAD_SETTLE_SECONDS": str(SETTLE_SECONDS),
    }
    with open(OUT / f"{name}-locust.log", "w") as log:
        subprocess.run(  # noqa: S603 - our own command, no shell
            command,
            cwd=REPO,
            env=locust_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=seconds + 120,
            check=True,
        )
    return json.loads(samples.read_text())


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def class_of(name: str) -> str:
    return next(
        (label for label, prefixes in CLASSES.items() if name.startswith(prefixes)), "other"
    )


def summarise(samples: list, start: float, end: float) -> dict:
    """Rates and latencies of the requests that started within [start, end). Each
    user's first login ("start:") is left out of the figures, but not its errors."""
    during = [sample for sample in samples if start <= sample[0] < end]
    window = [sample for sample in during if not sample[1].startswith("start:")]
    first_login_errors = sum(1 for sample in during if sample[3]) - sum(
        1 for sample in window if sample[3]
    )
    seconds = end - start

    def figures(subset: list) -> dict:
        times = [sample[2] for sample in subset]
        return {
            "requests": len(subset),
            "errors": sum(1 for sample in subset if sample[3]),
            "per_second": round(len(subset) / seconds, 1),
            "p50_ms": round(percentile(times, 0.50), 1) if times else None,
            "p95_ms": round(percentile(times, 0.95), 1) if times else None,
            "p99_ms": round(percentile(times, 0.99), 1) if times else None,
        }

    by_class = {label: figures([s for s in window if class_of(s[1]) == label]) for label in CLASSES}
    names = sorted({sample[1] for sample in window})
    held = [s for s in window if class_of(s[1]) in HELD_TO_TARGET]
    return {
        "seconds": round(seconds, 1),
        "all": figures(window),
        "first_login_errors": first_login_errors,
        "error_messages": dict(Counter(sample[3] for sample in during if sample[3])),
        "pages_held_to_target": figures(held),
        "classes": by_class,
        "pages": {name: figures([s for s in window if s[1] == name]) for name in names},
    }


def passes(summary: dict) -> bool:
    held = summary["pages_held_to_target"]
    return (
        summary["all"]["errors"] == summary["first_login_errors"] == 0
        and held["requests"] > 0
        and held["p95_ms"] is not None
        and held["p95_ms"] < P95_TARGET_MS
    )


def ramp(env: dict, cast_path: Path, rates: list[float]) -> list[dict]:
    """One locust run stepping through `rates` (actions per second); each step is judged
    on its last two thirds, after its new users have logged in and settled. The steps up
    to the first that did not hold."""
    step_seconds = env["step_seconds"]
    result = run_locust(
        env, cast_path, "ramp", step_seconds * len(rates), ramp=",".join(map(str, rates))
    )
    samples = result["samples"]
    started = min(sample[0] for sample in samples)
    steps = []
    for index, rate in enumerate(rates):
        step_start = started + index * step_seconds
        summary = summarise(samples, step_start + step_seconds / 3, step_start + step_seconds)
        ok = passes(summary)
        steps.append({"rate": rate, "passed": ok, **summary})
        print(
            f"ramp: {rate:>5.1f} actions/s -> {summary['all']['per_second']:>5.1f} requests/s, "
            f"p95 of pages {summary['pages_held_to_target']['p95_ms']} ms, "
            f"{summary['all']['errors']} errors: {'held' if ok else 'not held'}"
        )
        if not ok:
            break
    return steps


def memory_report(sampler: Sampler, start: float, end: float) -> dict:
    report = {}
    for label, points in sampler.rss.items():
        window = [kib for at, kib in points if start <= at <= end]
        if window:
            report[label] = {
                "start_mib": round(window[0] / 1024, 1),
                "end_mib": round(window[-1] / 1024, 1),
                "max_mib": round(max(window) / 1024, 1),
                "samples": len(window),
            }
    return report


def log_problems() -> dict[str, int]:
    """Tracebacks and errors the servers logged (a 500 or a failed task shows here)."""
    counts = {}
    for log in sorted(OUT.glob("*.log")):
        if log.name.startswith(("web-", "celery-")):
            text = log.read_text(errors="replace")
            counts[log.stem] = sum(text.count(sign) for sign in ("Traceback", "WORKER TIMEOUT"))
    return counts


def tasks_run() -> dict[str, int]:
    """How many tasks each Celery worker ran to success (from its INFO log)."""
    return {
        log.stem: log.read_text(errors="replace").count("] succeeded in ")
        for log in sorted(OUT.glob("celery-[0-9].log"))
    }


# --- report -------------------------------------------------------------------------------


def write_results(results: dict) -> str:
    final = results["final"]
    lines = [
        "# Load test (`make load`)",
        "",
        f"Run {results['finished']} on {os.cpu_count()} cores; data: {results['data']}; "
        f"{results['web']}; 2 Celery workers (1 process each); locust on the same machine.",
        "",
        f"Rate held: **{final['all']['per_second']} requests/s** for {final['seconds']:.0f} s "
        f"({results['rate']} actions/s by {results['users']} simulated employees), "
        f"**{final['all']['errors']} errors**, p95 of pages "
        f"**{final['pages_held_to_target']['p95_ms']} ms** (target < {P95_TARGET_MS:.0f} ms): "
        f"{'held' if results['passed'] else 'NOT held'}.",
        "",
    ]
    earlier = results.get("final_attempts", [])[:-1]
    if earlier:
        tried = "; ".join(
            f"{attempt['rate']} actions/s: {attempt['requests_per_second']} requests/s, "
            f"p95 {attempt['p95_ms']} ms"
            for attempt in earlier
        )
        lines += [f"Held in the ramp's short steps but not for the full run: {tried}.", ""]
    lines += [
        "| class | requests | per s | errors | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = {**final["classes"], "all": final["all"]}
    for label, figures in rows.items():
        lines.append(
            f"| {label} | {figures['requests']} | {figures['per_second']} | {figures['errors']} "
            f"| {figures['p50_ms']} | {figures['p95_ms']} | {figures['p99_ms']} |"
        )
    for message, count in final["error_messages"].items():
        lines.append(f"\nError, {count} times: {message}")
    lines += ["", "Slowest pages (p95):", "", "| request | count | p50 ms | p95 ms | p99 ms |"]
    lines.append("|---|---:|---:|---:|---:|")
    slowest = sorted(final["pages"].items(), key=lambda item: -(item[1]["p95_ms"] or 0))
    for name, figures in slowest[:8]:
        lines.append(
            f"| {name} | {figures['requests']} | {figures['p50_ms']} | {figures['p95_ms']} "
            f"| {figures['p99_ms']} |"
        )
    lines += [
        "",
        f"Database connections to `{results['database']}` (sampled every 2 s): "
        f"max {results['db_connections_max']} of max_connections {results['max_connections']}.",
        f"Tracebacks in the servers' logs: {results['log_problems']}. Celery tasks run to "
        f"success (beat sweeping every 10 s): {results['celery_tasks_succeeded']}.",
        "",
        f"Cores used during the run (of {os.cpu_count()}; other work on the machine not "
        f"counted): {results['cores_used']}.",
        "",
        "| process | RSS start MiB | end MiB | max MiB | end - start |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, memory in results["memory"].items():
        lines.append(
            f"| {label} | {memory['start_mib']} | {memory['end_mib']} | {memory['max_mib']} "
            f"| {memory['end_mib'] - memory['start_mib']:+.1f} |"
        )
    if results.get("ramp"):
        lines += ["", "Ramp (each step judged on its last two thirds):", ""]
        lines += ["| actions/s | requests/s | p95 of pages ms | errors | held |"]
        lines.append("|---:|---:|---:|---:|---|")
        for step in results["ramp"]:
            lines.append(
                f"| {step['rate']} | {step['all']['per_second']} | "
                f"{step['pages_held_to_target']['p95_ms']} | {step['all']['errors']} | "
                f"{'yes' if step['passed'] else 'no'} |"
            )
    markdown = "\n".join(lines) + "\n"
    (OUT / "results.md").write_text(markdown)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    return markdown


def max_connections() -> int:
    with psycopg2.connect(f"{PG_SERVER}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        return int(cursor.fetchone()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("LOAD_DATABASE", "boundary_load"))
    parser.add_argument("--data", choices=["auto", "seed", "template", "reuse"], default="auto")
    parser.add_argument("--rate", type=float, help="actions/s to measure at, skipping the ramp")
    parser.add_argument(
        "--ramp", default="10,15,20,25,30,35,40,50,60,70", help="actions/s, one step each"
    )
    parser.add_argument("--step-seconds", type=float, default=21)
    parser.add_argument("--seconds", type=float, default=60, help="the measured run")
    parser.add_argument("--user-rate", type=float, default=1.0, help="actions/s per user")
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=2)
    options = parser.parse_args()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    OUT.mkdir(parents=True, exist_ok=True)

    env = app_env(options.database)
    cast = prepare_data(options.database, env, options.data)
    cast_path = cast_file(options.database)
    cast_path.write_text(json.dumps(cast))
    if not static_files_current():
        run_django(["manage.py", "collectstatic", "--no-input", "-v0"], env)
    processes = Processes(env)
    sampler = Sampler(processes, options.database)
    settings = {"user_rate": options.user_rate, "step_seconds": options.step_seconds}
    try:
        processes.start_all(options.worker_class, options.web_workers, options.web_threads)
        processes.wait_until_up()
        sampler.start()
        steps: list[dict] = []
        candidates = [options.rate] if options.rate is not None else []
        if options.rate is None:
            steps = ramp(settings, cast_path, [float(r) for r in options.ramp.split(",")])
            held = [step["rate"] for step in steps if step["passed"]]
            # A short step can hold a rate that a minute does not: then the next lower.
            candidates = sorted(held, reverse=True)[:FINAL_TRIES]
            if not candidates:
                print("ramp: not even the first step held; measuring at it anyway")
                candidates = [steps[0]["rate"]]
        settings["measure_seconds"] = options.seconds
        attempts: list[dict] = []
        for rate in candidates:
            users = max(2, round(rate / options.user_rate))
            print(f"final: {rate} actions/s ({users} users) for {options.seconds:.0f} s")
            # locust stops by itself SETTLE_SECONDS + seconds after every user has logged in
            # once (a password check each, ~0.25 s of CPU); the run time is only a bound.
            bound = users / 10 + users + SETTLE_SECONDS + options.seconds + 30
            result = run_locust(settings, cast_path, "final", bound, users=users)
            processes.check_alive()
            if not result["ready_at"]:
                raise RuntimeError(f"not every user had logged in after {bound:.0f} s")
            start = result["ready_at"][0] + SETTLE_SECONDS
            end = start + options.seconds
            summary = summarise(result["samples"], start, end)
            attempts.append({"rate": rate, "passed": passes(summary), **summary})
            print(
                f"final: {summary['all']['per_second']} requests/s, p95 of pages "
                f"{summary['pages_held_to_target']['p95_ms']} ms, "
                f"{summary['all']['errors']} errors: {'held' if passes(summary) else 'not held'}"
            )
            if passes(summary):
                break
    finally:
        try:
            sampler.stop()
        finally:
            processes.stop_all()
    results = {
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "database": options.database,
        "data": f"{cast['source']} ({len(cast['employees'])} employees in the cast)",
        "web": f"2 gunicorn processes x {options.web_workers} {options.worker_class} workers"
        + (f" x {options.web_threads} threads" if options.worker_class == "gthread" else ""),
        "rate": rate,
        "users": users,
        "passed": passes(summary),
        "final": summary,
        "ramp": steps,
        "final_attempts": [
            {key: attempt[key] for key in ("rate", "passed")}
            | {
                "requests_per_second": attempt["all"]["per_second"],
                "p95_ms": attempt["pages_held_to_target"]["p95_ms"],
            }
            for attempt in attempts
        ],
        "db_connections_max": max((count for _, count in sampler.connections), default=0),
        "db_connections": sampler.connections,
        "max_connections": max_connections(),
        "memory": memory_report(sampler, start, end),
        "cores_used": sampler.cores_used(start, end),
        "log_problems": log_problems(),
        "celery_tasks_succeeded": tasks_run(),
    }
    print(write_results(results))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
