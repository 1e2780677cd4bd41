"""`make bench-export`: how fast exports and their verification are on a large record.

On a generated employee with 2,000 requests and 100,000 timeline events (real hashes,
computed through requests_log.chain) in a dedicated database, it measures in one run:

- CSV export (streamed, as the download view streams it) against PostgreSQL's COPY of
  the same rows; target: at most 5x COPY's time;
- the process's peak memory growth while streaming that CSV; target: under 100 MB;
- the PDF of one dispute of 50 events, built as the direct download builds it;
  target: under 0.5 s;
- the PDF of 200 requests / 10,000 events, built by the `requests_log.build_export`
  Celery task in a real worker; target: under 30 s;
- verification of the JSON export per 100,000 events; target: under 1 s.

Not a test: timings on shared machines vary by about 20 %, so each figure is the best
of a few runs and COPY runs beside the CSV export. The database is dropped and filled
afresh each run (about 30 s), so earlier runs' exports do not pile up on the record.
Exits 1 if a target is missed. Usage:

    .venv/bin/python scripts/bench_export.py [--keep] [--only csv,verify,pdf,task]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/boundary_bench_export) and
BENCH_BROKER_URL (default redis://127.0.0.1:6379/6) say where to run.
"""

import argparse
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/boundary_bench_export"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
WORK = Path(tempfile.gettempdir()) / "boundary-bench-export"
REQUESTS = 2000
EVENTS = 100_000
EMAIL = "bench-export@example.com"

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "boundary.settings",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "BOUNDARY_SIGNING_KEY": str(WORK / "keys" / "signing.pem"),
        "EXPORTS_ROOT": str(WORK / "exports"),
        "LOG_LEVEL": "WARNING",
    }
)


def ensure_database(fresh: bool) -> None:
    import psycopg2

    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    admin = psycopg2.connect(
        dbname="postgres", user=url.username, host=url.hostname, port=url.port or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        if fresh:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Samples the process's resident memory every 5 ms while in use."""

    def __enter__(self):
        self.baseline = self.peak = rss_bytes()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20


def generate(employee) -> None:
    """2,000 requests, 50 events each, chained with real hashes; bulk inserted."""
    from django.utils import timezone

    from requests_log import chain
    from requests_log.models import PromotionRequest, TimelineEvent
    from requests_log.timeline import chained_event

    start = timezone.now() - timedelta(days=900)
    per_request = EVENTS // REQUESTS
    requests = PromotionRequest.objects.bulk_create(
        PromotionRequest(
            employee=employee,
            requester_name=f"Manager {number % 40}",
            requester_title="Head of Marketing",
            requester_key=f"name:manager {number % 40}",
            occurred_at=start + timedelta(hours=10 * number),
            channel="meeting",
            setting="Weekly marketing meeting",
            words_used=f"You're expected to post {number % 5 + 1} videos about product {number}.",
            promoted_item=f"Product line {number}",
            content_format="videos",
            quantity=number % 5 + 1,
            framing=["asked", "expected", "required", "consequences"][number % 4],
            compensation_offered="" if number % 3 else "€200",
            witnesses="Priya Shah, Tom Becker",
            status="declined",
        )
        for number in range(REQUESTS)
    )
    seq, prev_hash, batch = 0, chain.GENESIS_HASH, []
    for item in requests:
        for step in range(per_request):
            seq += 1
            occurred = item.occurred_at + timedelta(minutes=7 * step)
            kind, payload = bench_event(item, step)
            event = chained_event(
                employee=employee,
                seq=seq,
                prev_hash=prev_hash,
                kind=kind,
                actor=employee,
                payload=payload,
                promotion_request=item,
                occurred_at=occurred,
                recorded_at=occurred,
            )
            batch.append(event)
            prev_hash = event.hash
        if len(batch) >= 10_000:
            TimelineEvent.objects.bulk_create(batch)
            batch = []
            print(f"  {seq:>7,} events", end="\r", flush=True)
    TimelineEvent.objects.bulk_create(batch)
    print(f"  {seq:>7,} events")


def bench_event(item, step: int) -> tuple[str, dict]:
    if step == 0:
        return "logged", {
            "requester_name": item.requester_name,
            "requester_title": item.requester_title,
            "occurred_at": item.occurred_at,
            "channel": item.channel,
            "setting": item.setting,
            "words_used": item.words_used,
            "promoted_item": item.promoted_item,
            "content_format": item.content_format,
            "quantity": item.quantity,
            "deadline": None,
            "framing": item.framing,
            "compensation_offered": item.compensation_offered,
            "witnesses": item.witnesses,
            "notes": "",
            "requester_user": None,
            "source": "employee",
            "targets": [],
        }
    if step == 1:
        return "decision", {
            "decision": step,
            "kind": "decline",
            "revises": False,
            "decline_reasons": ["personal_separate"],
            "details": "I keep my personal accounts apart from work.",
            "accounts": [],
        }
    if step % 3 == 0:
        return "follow_up", {
            "follow_up": step,
            "kind": "pressure",
            "who": item.requester_name,
            "what_was_said": f"Still waiting for those videos (reminder {step}).",
            "witnesses": "Priya Shah",
        }
    if step % 3 == 1:
        return "reminder_sent", {"reminder": step, "kind": "no_decision", "channel": "email"}
    return "corrected", {
        "changes": {"notes": {"old": "", "new": f"Context added at step {step}."}},
        "reason": "Added context",
    }


def best_of(runs: int, action) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - started)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", action="store_true", help="reuse the data of an earlier run if there is one"
    )
    parser.add_argument(
        "--only",
        default="csv,verify,pdf,task",
        help="comma-separated parts to run: csv, verify, pdf, task (default: all)",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if unknown := parts - {"csv", "verify", "pdf", "task"}:
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}")
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_database(fresh=not args.keep)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from boundary.models import User
    from requests_log.exports import services
    from requests_log.exports.record import Scope
    from requests_log.exports.signing import signing_key
    from requests_log.models import TimelineEvent

    call_command("migrate", verbosity=0)
    employee = User.objects.filter(email=EMAIL).first()
    if employee is None:
        print(f"Generating {REQUESTS:,} requests and {EVENTS:,} events in {DATABASE_URL} …")
        employee = User.objects.create_user(EMAIL, display_name="Bench Export")
        started = time.perf_counter()
        generate(employee)
        print(f"  generated in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    events = TimelineEvent.objects.filter(employee=employee).count()
    request_ids = list(
        employee.promotion_requests.order_by("occurred_at").values_list("pk", flat=True)
    )
    trusted = {signing_key().fingerprint}
    print(f"Record: {len(request_ids):,} requests, {events:,} events\n")
    results = []

    # 1. CSV export against COPY, and memory while streaming.
    copy_sql = (
        "COPY (SELECT seq, promotion_request_id, kind, actor_id, occurred_at, recorded_at, "
        "payload, salt, prev_hash, hash FROM requests_log_timelineevent "
        "WHERE employee_id = %s ORDER BY seq) TO STDOUT WITH CSV HEADER"
    )

    def copy_rows():
        sink = io.BytesIO()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            raw.copy_expert(raw.mogrify(copy_sql, [employee.pk]).decode(), sink)
        return sink.tell()

    def stream_csv():
        export = services.export_claim(
            export_id=services.export_request(
                employee=employee, requested_by=employee, format="csv", scope=Scope()
            ).pk
        )
        chunks, _ = services.export_stream(export=export)
        size = 0
        for chunk in chunks:
            size += len(chunk)
        return size

    if "csv" in parts:
        results += bench_csv(copy_rows, stream_csv)
    if "verify" in parts:
        results += bench_verify(employee, trusted)
    if "pdf" in parts:
        results += bench_dispute_pdf(employee, request_ids)
    if "task" in parts:
        results += bench_task_pdf(employee, request_ids)
    report(results)


def bench_csv(copy_rows, stream_csv) -> list[tuple]:
    copy_time, copy_size = best_of(3, copy_rows)
    with PeakMemory() as memory:
        first_csv, csv_size = best_of(1, stream_csv)
    csv_time, _ = best_of(2, stream_csv)
    csv_time = min(csv_time, first_csv)
    copy_time_after, _ = best_of(2, copy_rows)
    copy_time = min(copy_time, copy_time_after)
    ratio = csv_time / copy_time
    return [
        ("COPY of the same rows", f"{copy_time:.2f} s ({copy_size / 2**20:.0f} MB)", "", ""),
        (
            f"CSV export, streamed ({csv_size / 2**20:.0f} MB)",
            f"{csv_time:.2f} s = {ratio:.1f}x COPY",
            "≤ 5x COPY",
            ratio <= 5,
        ),
        (
            "Peak memory growth while streaming",
            f"{memory.growth_mb:.0f} MB",
            "< 100 MB",
            memory.growth_mb < 100,
        ),
    ]


def bench_verify(employee, trusted) -> list[tuple]:
    from requests_log.exports import fileformat, verifier
    from requests_log.exports.csvexport import csv_chunks
    from requests_log.exports.jsonexport import json_chunks
    from requests_log.exports.record import Record, Scope

    results = []
    json_path = WORK / "record.json"
    with open(json_path, "wb") as handle:
        for chunk in json_chunks(Record(employee=employee, scope=Scope())):
            handle.write(chunk)

    jobs = os.cpu_count() or 1

    def verify_json(limits):
        with open(json_path, "rb") as handle:
            return verifier.verify_file(handle, trusted=trusted, limits=limits)

    # The target is for the command line (verify_record, verifier.py), which checks a long
    # record.json in as many processes as there are CPUs; the web page uses one.
    for label, limits, target in (
        (f"command line, {jobs} processes", fileformat.Limits(jobs=jobs), True),
        ("one process, as the web page", fileformat.Limits(), False),
    ):
        verify_time, verified = best_of(3, lambda limits=limits: verify_json(limits))
        per_100k = verify_time * 100_000 / verified.chain.events
        results.append(
            (
                f"Verify the JSON export ({verified.chain.events:,} events, {verified.verdict}), "
                + label,
                f"{verify_time:.2f} s = {per_100k:.2f} s per 100,000",
                "< 1 s per 100,000" if target else "",
                per_100k < 1 and verified.verdict == "intact" if target else "",
            )
        )
    csv_path = WORK / "record.csv"
    with open(csv_path, "wb") as handle:
        for chunk in csv_chunks(Record(employee=employee, scope=Scope())):
            handle.write(chunk)
    with open(csv_path, "rb") as handle:
        csv_verify, csv_result = best_of(1, lambda: verifier.verify_file(handle, trusted=trusted))
    results.append(
        (
            f"Verify the CSV export ({csv_result.verdict})",
            f"{csv_verify:.2f} s",
            "",
            "",
        )
    )
    return results


def bench_dispute_pdf(employee, request_ids) -> list[tuple]:
    from requests_log.exports import services
    from requests_log.exports.record import Scope

    dispute = request_ids[len(request_ids) // 2]

    def dispute_pdf():
        export = services.export_claim(
            export_id=services.export_request(
                employee=employee,
                requested_by=employee,
                format="pdf",
                scope=Scope(mode="chosen", requests=(dispute,)),
            ).pk
        )
        return services.export_build(export=export)

    cold, _ = best_of(1, dispute_pdf)
    pdf_time, pdf_export = best_of(3, dispute_pdf)
    return [
        (
            f"PDF of one dispute ({pdf_export.events_shown} events shown)",
            f"{pdf_time:.2f} s (first {cold:.2f} s)",
            "< 0.5 s",
            pdf_time < 0.5,
        )
    ]


def bench_task_pdf(employee, request_ids) -> list[tuple]:
    from requests_log.exports import services
    from requests_log.exports.record import Scope
    from requests_log.exports.tasks import build_export
    from requests_log.models import Export

    results = []
    worker_log = open(WORK / "worker.log", "wb")  # noqa: SIM115 - closed after the table
    worker = subprocess.Popen(  # noqa: S603 - a fixed argument list
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "boundary",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"bench-export-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        export = services.export_request(
            employee=employee,
            requested_by=employee,
            format="pdf",
            scope=Scope(mode="chosen", requests=tuple(request_ids[:200])),
        )
        started = time.perf_counter()
        build_export.delay(export.pk)
        last = None
        while True:
            export.refresh_from_db()
            if export.is_done:
                break
            if (export.progress, export.progress_note) != last:
                last = (export.progress, export.progress_note)
                print(f"  task: {export.progress:>3}% {export.progress_note}")
            if time.perf_counter() - started > 600:
                raise SystemExit("The PDF task did not finish in 10 minutes.")
            time.sleep(0.2)
        wall = time.perf_counter() - started
        in_task = (export.finished_at - export.started_at).total_seconds()
        results.append(
            (
                f"PDF of 200 requests / {export.events_shown:,} events, Celery task "
                f"({export.state}, {export.size / 2**20:.1f} MB)",
                f"{in_task:.1f} s in the task, {wall:.1f} s from enqueue",
                "< 30 s",
                export.state == Export.State.READY and wall < 30,
            )
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)

    worker_log.close()
    return results


def report(results: list[tuple]) -> None:
    width = max(len(row[0]) for row in results)
    print()
    print(f"{'Measure':<{width}}  {'Result':<36}  {'Target':<18}  Met")
    print(f"{'-' * width}  {'-' * 36}  {'-' * 18}  ---")
    for name, value, target, met in results:
        mark = "" if met == "" else ("yes" if met else "NO")
        print(f"{name:<{width}}  {value:<36}  {target:<18}  {mark}")
    if any(met is False for *_, met in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
