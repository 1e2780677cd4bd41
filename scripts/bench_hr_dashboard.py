"""Time HR's dashboard and the lists behind its patterns on generated data.

    .venv/bin/python scripts/bench_hr_dashboard.py [EMPLOYEES] [REQUESTS]

Defaults: 20,000 employees in 25 departments and 100,000 requests over two years (a
tenth filed in Boundary, four tenths shared with HR, the rest private), a decline on a
third of them, a pressure follow-up on a tenth, a closed account targeted by a fifth.
Uses its own database (BENCH_DATABASE_URL, default boundary_bench_hr), dropped, created
and migrated on each run. One request is made through the services and copied in SQL
(INSERT … SELECT generate_series), so rows look like the app's. Prints, for each page's
reads, the median of several runs and the number of queries; the dashboard must stay a
constant number of queries.
"""

# Generated data in a throw-away database: SQL built from constants, throw-away logins.
# ruff: noqa: S608, S106

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/boundary_bench_hr"
)
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["DATABASE_CONN_MAX_AGE"] = "0"
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boundary.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

EMPLOYEES = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
DEPARTMENTS = 25
RUNS = 7


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


def copy_sql(model, template_id: int, replace: dict[str, str], series: str) -> str:
    """INSERT … SELECT copying one row of `model` for each `n` of `series`, with some
    columns replaced by SQL expressions (over `n` and the template row `t`)."""
    columns = [
        field.column
        for field in model._meta.concrete_fields
        if not field.primary_key and field.column not in ("id",)
    ]
    values = [replace.get(column, f"t.{column}") for column in columns]
    return (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {model._meta.db_table} t, {series} AS n "
        f"WHERE t.id = {template_id}"
    )


def generate() -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from boundary.models import SocialAccount, User
    from requests_log import services
    from requests_log.models import Decision, FollowUp, PromotionRequest, RequestTarget

    started = time.perf_counter()
    with transaction.atomic():
        person = User.objects.create_user(
            email="template@example.com", password="x", display_name="Template"
        )
        account = SocialAccount.objects.create(
            owner=person, platform="instagram", handle="template", boundary="closed"
        )
        logged = services.promotion_request_log(
            employee=person,
            actor=person,
            target_accounts=[account],
            requester_name="Chris Doyle",
            occurred_at=timezone.now(),
            channel="meeting",
            promoted_item="A product",
            content_format="posts",
            framing="asked",
        )
        decision = services.decision_record(
            promotion_request=logged, decided_by=person, kind="decline"
        )
        follow_up = services.follow_up_add(
            promotion_request=logged,
            actor=person,
            kind="pressure",
            occurred_at=timezone.now(),
            who="Chris",
            what_was_said="Again",
        )
    with connection.cursor() as cursor:
        cursor.execute(
            copy_sql(
                User,
                person.pk,
                {
                    "email": "'person' || n || '@example.com'",
                    "display_name": "'Person ' || n",
                    "department": f"'Department ' || (n % {DEPARTMENTS})",
                },
                f"generate_series(1, {EMPLOYEES})",
            )
        )
        cursor.execute(
            copy_sql(
                SocialAccount,
                account.pk,
                {"owner_id": "u.id", "handle": "'h' || u.id"},
                "(SELECT id FROM boundary_user WHERE email LIKE 'person%') AS u, "
                "generate_series(1, 1)",
            ).replace("AS n WHERE", "WHERE")
        )
        # Requests: employee by n, spread over two years; status, framing and sharing
        # by n's remainders.
        cursor.execute(
            copy_sql(
                PromotionRequest,
                logged.pk,
                {
                    "employee_id": f"(SELECT min(id) FROM boundary_user) + 1 + n % {EMPLOYEES}",
                    "number": "n + 1",
                    "source": "CASE WHEN n % 10 = 0 THEN 'filed' ELSE 'employee' END",
                    "occurred_at": "now() - (n % 730) * interval '1 day'",
                    "deadline": "CASE WHEN n % 4 = 0 THEN now() - (n % 700 - 5) * interval "
                    "'1 day' END",
                    "framing": "(ARRAY['asked','expected','required','consequences'])[1 + n % 4]",
                    "status": "(ARRAY['pending','declined','accepted','negotiating',"
                    "'pending','withdrawn'])[1 + n % 6]",
                    "requester_key": "'name:chris' || (n % 500)",
                    "shared_with_hr_at": "CASE WHEN n % 10 BETWEEN 1 AND 4 THEN now() END",
                    "disclosure_pending": "n % 12 = 2",
                },
                f"generate_series(1, {REQUESTS})",
            )
        )
        cursor.execute(
            copy_sql(
                Decision,
                decision.pk,
                {
                    "promotion_request_id": "r.id",
                    "decided_at": "r.occurred_at + interval '1 day'",
                },
                "(SELECT id, occurred_at FROM requests_log_promotionrequest "
                "WHERE status = 'declined') AS r, generate_series(1, 1)",
            ).replace("AS n WHERE", "WHERE")
        )
        cursor.execute(
            copy_sql(
                FollowUp,
                follow_up.pk,
                {
                    "promotion_request_id": "r.id",
                    "occurred_at": "r.occurred_at + interval '2 days'",
                },
                "(SELECT id, occurred_at FROM requests_log_promotionrequest "
                "WHERE id % 10 = 3) AS r, generate_series(1, 1)",
            ).replace("AS n WHERE", "WHERE")
        )
        cursor.execute(
            copy_sql(
                RequestTarget,
                logged.targets.get().pk,
                {"promotion_request_id": "r.id"},
                "(SELECT id FROM requests_log_promotionrequest WHERE id % 5 = 1 "
                f"AND id <> {logged.pk}) AS r, generate_series(1, 1)",
            ).replace("AS n WHERE", "WHERE")
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def timed(action) -> tuple[float, int]:
    """Median seconds over RUNS and the number of queries of one run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    return statistics.median(times), len(queries)


def main() -> None:
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seconds = generate()
    from datetime import timedelta

    from django.utils import timezone

    from boundary.models import User
    from requests_log import access, hr_selectors

    hr = User.objects.create_user(
        email="hr@example.com", password="x", display_name="HR", role=User.Role.HR
    )
    visible = access.promotion_requests_for_hr(hr).count()
    print(f"{EMPLOYEES:,} employees, {REQUESTS:,} requests ({visible:,} HR may see), ")
    print(f"generated in {seconds:.1f} s\n")
    today = timezone.localdate()
    cases = {
        "dashboard, everything": hr_selectors.Filters(),
        "dashboard, one department": hr_selectors.Filters(department="Department 7"),
        "dashboard, last 90 days": hr_selectors.Filters(date_from=today - timedelta(days=90)),
    }
    print(f"{'reads':<50} {'median':>9} {'queries':>8}")
    for label, filters in cases.items():
        median, queries = timed(lambda f=filters: hr_selectors.hr_dashboard(viewer=hr, filters=f))
        print(f"{label:<50} {median * 1000:>7.0f} ms {queries:>8}")
    for pattern in hr_selectors.PATTERNS:

        def first_page(key=pattern.key):
            listed = hr_selectors.hr_request_list(
                viewer=hr, filters=hr_selectors.Filters(), pattern=key
            )
            listed.count()
            list(listed[:25])

        median, queries = timed(first_page)
        print(f"{'list: ' + pattern.label:<50} {median * 1000:>7.0f} ms {queries:>8}")


if __name__ == "__main__":
    main()
