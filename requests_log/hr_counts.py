"""Keeps what HR's dashboard counts (HrCountedRequest) up to date with the record.

Migration 0019's trigger marks an employee stale (HrCountsStale) in the same transaction
as any write to what is counted. counted_requests_refresh recomputes the stale employees'
rows with the same pattern rules as an afresh count (hr_patterns), so the two cannot
drift apart: the dashboard calls it before counting, and a minutely task keeps the marks
few.

PostgreSQL only: SQLite (`make run`) has no such trigger and counts afresh.
"""

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, QuerySet

from . import access
from .hr_patterns import PATTERN_FILTERS, PATTERNS
from .models import HrCountedRequest, PromotionRequest

# An advisory lock key no other code uses (0017's is 7301014): one refresh at a time, so
# two never write the same employee's rows.
REFRESH_LOCK = 7301015


def counts_kept() -> bool:
    """Whether the database keeps the counted rows (migration 0019's trigger)."""
    return connection.vendor == "postgresql"


# Employees' marks taken per transaction: a first recount of everyone (migration 0019)
# or a long backlog commits as it goes, within the minutely task's time limit.
RECOUNT_BATCH = 2_000


def counted_requests_refresh() -> int:
    """Recompute the counted requests of every employee marked stale, and take away the
    marks this read: a mark written meanwhile stays for the next refresh. Returns how
    many employees were recomputed. Its lock is held to the end of the caller's
    transaction, if any: call it outside a long one."""
    if not counts_kept():
        return 0
    recounted = 0
    while True:
        taken, employees = _recount_batch()
        recounted += employees
        if taken < RECOUNT_BATCH:
            return recounted


def _recount_batch() -> tuple[int, int]:
    """Take up to RECOUNT_BATCH marks (with every other mark of their employees) and
    recount those employees, in one transaction: (marks taken, employees recounted)."""
    # No savepoint of its own: a failure here fails the caller's transaction, if any.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        # Deletes marks committed by now, exactly those it returns.
        cursor.execute(
            "DELETE FROM requests_log_hrcountsstale WHERE employee_id IN ("
            " SELECT employee_id FROM requests_log_hrcountsstale LIMIT %s"
            ") RETURNING employee_id",
            [RECOUNT_BATCH],
        )
        marks = [employee for (employee,) in cursor.fetchall()]
        stale = set(marks)
        if stale:
            HrCountedRequest.objects.filter(employee_id__in=stale).delete()
            _insert_counted(PromotionRequest.objects.filter(employee_id__in=stale), cursor)
    return len(marks), len(stale)


def counted_requests_rebuild() -> int:
    """Recount every employee's requests: after data was loaded with the triggers off
    (pg_restore --disable-triggers, session_replication_role = replica), which marked
    nobody stale. Returns how many employees were recounted. One transaction, batches
    and all, so no dashboard load sees the rows half replaced."""
    if not counts_kept():
        return 0
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO requests_log_hrcountsstale (employee_id) "
            "SELECT DISTINCT employee_id FROM requests_log_promotionrequest"
        )
        # Rows of requests that are gone, whoever they were of.
        HrCountedRequest.objects.all().delete()
        return counted_requests_refresh()


def _insert_counted(requests: QuerySet[PromotionRequest], cursor) -> None:
    """INSERT … SELECT the counted rows of those of `requests` HR may see, in one
    statement: the SELECT is the ORM's, with the patterns' rules as in an afresh count."""
    scoped = requests.filter(access.hr_visible()).order_by()
    # Annotations named apart from the request's own fields (it has disclosure_pending).
    patterns = {
        f"counted_{pattern.field}": ExpressionWrapper(
            PATTERN_FILTERS[pattern.key](scoped), output_field=BooleanField()
        )
        for pattern in PATTERNS
    }
    # Fields first, then annotations, in the columns' order (values_list keeps it).
    fields = ("pk", "employee_id", "occurred_at", "deadline", "status")
    rows = scoped.annotate(counted_department=F("employee__department"), **patterns).values_list(
        *fields, "counted_department", *patterns
    )
    columns = [
        "promotion_request_id",
        "employee_id",
        "occurred_at",
        "deadline",
        "status",
        "department",
        *(pattern.field for pattern in PATTERNS),
    ]
    select, params = rows.query.sql_with_params()
    table = HrCountedRequest._meta.db_table
    cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) {select}", params)
