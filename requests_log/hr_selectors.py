"""What HR reads: a projection of what is filed or shared, never the whole record.

Everything here starts from access.promotion_requests_for_hr, so an unshared
self-logged request is in no page, list, count or chart, and neither is anything that
would reveal it (a decline on it is never what makes another request "asked again").

The dashboard is aggregates only: counts by department and month and pattern counts,
each one query whatever the data's size. Nothing groups by person: no selector here
returns a count per employee, so no page can rank people by what they said.
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Min, Model, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from boundary.models import User

from . import access, hr_counts
from .flags import Declines, RequestFlags, request_flags
from .hr_patterns import PATTERN_FILTERS, PATTERNS, Pattern
from .models import Decision, PromotionRequest, TimelineEvent
from .selectors import (
    TARGETS_WITH_ACCOUNTS,
    account_declarations,
    request_facts,
    shares_naming,
    with_flag_data,
)

OPEN = PromotionRequest.OPEN_STATUSES
S = PromotionRequest.Status
# The counts the dashboard shows, in its order: (key, label).
COUNTS = (
    ("pending", "Pending"),
    ("overdue", "Overdue"),
    ("negotiating", "Negotiating"),
    ("accepted", "Accepted"),
    ("declined", "Declined"),
)
M = TypeVar("M", bound=Model)  # what Filters narrow
SHARING_KINDS = (TimelineEvent.Kind.SHARED_WITH_HR, TimelineEvent.Kind.SHARING_WITHDRAWN)


def _count_filters(now: datetime) -> dict[str, Q]:
    return {
        "pending": Q(status=S.PENDING),
        "overdue": Q(status__in=OPEN, deadline__lt=now),
        "negotiating": Q(status=S.NEGOTIATING),
        "accepted": Q(status=S.ACCEPTED),
        "declined": Q(status=S.DECLINED),
    }


# --- Filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    department: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def apply(self, queryset: QuerySet[M], department: str = "employee__department") -> QuerySet[M]:
        """`queryset` (requests, or counted requests with their own `department`) narrowed
        to these filters."""
        zone = timezone.get_current_timezone()
        if self.department:
            queryset = queryset.filter(**{department: self.department})
        if self.date_from:
            start = datetime.combine(self.date_from, time.min, tzinfo=zone)
            queryset = queryset.filter(occurred_at__gte=start)
        if self.date_to:
            end = datetime.combine(self.date_to, time.max, tzinfo=zone)
            queryset = queryset.filter(occurred_at__lte=end)
        return queryset


def department_choices(*, viewer: User, version: int | None = None) -> list[str]:
    """The departments of people whose requests HR may see (one query, or none when
    cached under `version`, as hr_dashboard)."""

    def read() -> tuple[list[str], None]:
        if hr_counts.counts_kept():
            _recount_stale(version)
            found = access.hr_counted_departments(viewer)
        else:
            found = list(
                access.promotion_requests_for_hr(viewer)
                .values_list("employee__department", flat=True)
                .order_by()
                .distinct()
            )
        return sorted(department for department in found if department), None

    return _cached(viewer, version, "departments", read)[0]


# --- The cache of what the dashboard counts ---------------------------------------------

# Entries of versions since replaced expire by themselves.
CACHE_SECONDS = 15 * 60


def hr_counts_version() -> int | None:
    """The version of the tables the dashboard counts, or None while a write to them is
    in progress (migration 0017: a database sequence every such write advances), and on
    SQLite, which keeps no version."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT requests_log_hr_counts_version()")
        return cursor.fetchone()[0]


T = TypeVar("T")


def _cached(
    viewer: User,
    version: int | None,
    name: str,
    read: Callable[[], tuple[T, datetime | None]],
) -> tuple[T, str]:
    """What `read` returns, kept under `version` until the moment it says the value stops
    holding (a deadline passing changes "overdue"), and a name for that value while it
    holds (for what is made of it), "" when it is not kept. No version: read afresh.
    What HR may see is the same for every HR user, so entries are shared by them."""
    if version is None or not access.is_hr(viewer):
        return read()[0], ""
    what = f"{version}:{timezone.get_current_timezone_name()}:{name}"
    key = "hr-counts:" + hashlib.sha256(what.encode()).hexdigest()
    now = timezone.now()
    kept = cache.get(key)
    if kept is not None and (kept[1] is None or now < kept[1]):
        return kept[0], f"{key}:{kept[1]}"
    value, valid_until = read()
    timeout = CACHE_SECONDS
    if valid_until is not None:
        timeout = min(timeout, int((valid_until - now) / timedelta(seconds=1)))
    if timeout > 0:
        cache.set(key, (value, valid_until), timeout)
    return value, f"{key}:{valid_until}"


# --- The dashboard ---------------------------------------------------------------------


@dataclass
class Bucket:
    """Counts for one department or one month (never one person)."""

    label: str
    key: str
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, row: Mapping[str, Any]) -> None:
        self.total += row["total"]
        for key, _ in COUNTS:
            self.counts[key] = self.counts.get(key, 0) + row[key]

    @property
    def ordered(self) -> list[int]:
        return [self.counts.get(key, 0) for key, _ in COUNTS]

    @property
    def labelled(self) -> list[tuple[str, str, int]]:
        """(key, label, count) in the dashboard's order."""
        return [(key, label, self.counts.get(key, 0)) for key, label in COUNTS]


@dataclass
class Dashboard:
    totals: Bucket
    by_department: list[Bucket]
    by_month: list[Bucket]
    patterns: list[tuple[Pattern, int]]
    # Names these numbers while they hold, so the page may keep its drawing of them; ""
    # when they were read afresh.
    key: str = ""


def hr_dashboard(*, viewer: User, filters: Filters, version: int | None = None) -> Dashboard:
    """The dashboard, cached under `version` (hr_counts_version: it changes with every
    write to what is counted) until the next open request's deadline passes."""
    board, key = _cached(viewer, version, repr(filters), lambda: _count(viewer, filters, version))
    return replace(board, key=key)


def _recount_stale(version: int | None) -> None:
    """Bring the kept counts up to date with the record (hr_counts), unless that was done
    since `version` was read, which holds every write up to it: the departments and the
    counts of one page load recount once."""
    done = f"hr-counts-refreshed:{version}"
    if version is None or not cache.get(done):
        hr_counts.counted_requests_refresh()
        if version is not None:
            cache.set(done, True, CACHE_SECONDS)


def _count(
    viewer: User, filters: Filters, version: int | None
) -> tuple[Dashboard, datetime | None]:
    """The dashboard from the counted requests kept as the record changes (hr_counts):
    a pass over one narrow table. On SQLite, which keeps none, counted afresh."""
    if not hr_counts.counts_kept():
        return count_afresh(viewer, filters)
    _recount_stale(version)
    counted = filters.apply(access.hr_counted_requests_for(viewer), department="department")
    kept = {pattern.key: Q(**{pattern.field: True}) for pattern in PATTERNS}
    return _tally(counted, F("department"), kept)


def count_afresh(viewer: User, filters: Filters) -> tuple[Dashboard, datetime | None]:
    """The dashboard counted from the record itself, with the patterns' rules: what the
    kept counts must always equal."""
    scoped = filters.apply(access.promotion_requests_for_hr(viewer)).order_by()
    rules = {key: rule(scoped) for key, rule in PATTERN_FILTERS.items()}
    return _tally(scoped, F("employee__department"), rules)


def _tally(
    counted: QuerySet[Any], department: F, patterns: Mapping[str, Q]
) -> tuple[Dashboard, datetime | None]:
    """Counts by department and by month, and how many requests show each pattern, in one
    pass over `counted` (requests, or counted requests, with a status, a deadline and a
    date) grouped by department and month; and the earliest deadline still to come among
    the open ones, when the overdue count changes."""
    now = timezone.now()
    zone = timezone.get_current_timezone()
    counts = {key: Count("pk", filter=q) for key, q in _count_filters(now).items()}
    pattern_counts = {
        _pattern_column(pattern): Count("pk", filter=patterns[pattern.key]) for pattern in PATTERNS
    }
    rows = (
        counted.annotate(
            counted_department=department, month=TruncMonth("occurred_at", tzinfo=zone)
        )
        .values("counted_department", "month")
        .annotate(
            total=Count("pk"),
            **counts,
            **pattern_counts,
            next_deadline=Min("deadline", filter=Q(status__in=OPEN, deadline__gte=now)),
        )
    )
    totals = Bucket("All", "")
    departments: dict[str, Bucket] = {}
    months: dict[date, Bucket] = {}
    shown = dict.fromkeys(pattern_counts, 0)
    deadlines = []
    for row in rows:
        department_name = row["counted_department"] or "No department"
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        totals.add(row)
        departments.setdefault(department_name, Bucket(department_name, department_name)).add(row)
        months.setdefault(month, Bucket(f"{month:%b %Y}", f"{month:%Y-%m}")).add(row)
        for column in shown:
            shown[column] += row[column]
        if row["next_deadline"] is not None:
            deadlines.append(row["next_deadline"])
    board = Dashboard(
        totals=totals,
        by_department=sorted(departments.values(), key=lambda bucket: bucket.label.casefold()),
        by_month=_every_month(months),
        patterns=[(pattern, shown[_pattern_column(pattern)]) for pattern in PATTERNS],
    )
    return board, min(deadlines, default=None)


def _pattern_column(pattern: Pattern) -> str:
    """The column that counts, or exports, whether a request shows `pattern`."""
    return f"pattern_{pattern.field}"


def _every_month(months: dict[date, Bucket]) -> list[Bucket]:
    """The months from the first to the last with requests, the empty ones too, so the
    chart's time axis is even."""
    if not months:
        return []
    found, last = min(months), max(months)
    every = []
    while found <= last:
        every.append(months.get(found) or Bucket(f"{found:%b %Y}", f"{found:%Y-%m}"))
        found = date(found.year + found.month // 12, found.month % 12 + 1, 1)
    return every


def hr_request_list(
    *,
    viewer: User,
    filters: Filters,
    pattern: str = "",
    status: str = "",
    now: datetime | None = None,
) -> QuerySet[PromotionRequest]:
    """The requests behind a pattern or a count, newest first: only the columns the list
    shows, one query per page."""
    queryset = filters.apply(access.promotion_requests_for_hr(viewer))
    if pattern in PATTERN_FILTERS:
        queryset = queryset.filter(PATTERN_FILTERS[pattern](queryset))
    status_filters = _count_filters(now or timezone.now())
    if status in status_filters:
        queryset = queryset.filter(status_filters[status])
    return (
        queryset.select_related("employee")
        .only(
            "pk",
            "number",
            "source",
            "promoted_item",
            "content_format",
            "quantity",
            "requester_name",
            "requester_title",
            "occurred_at",
            "deadline",
            "status",
            "framing",
            "shared_with_hr_at",
            "employee__display_name",
            "employee__department",
        )
        .order_by("-occurred_at", "-id")
    )


def hr_export_rows(
    *, viewer: User, filters: Filters, now: datetime | None = None
) -> QuerySet[PromotionRequest, dict[str, Any]]:
    """What an HR export holds, one row per request HR may see in the filters, oldest
    first: the HR projection's columns and whether each pattern applies, in one query."""
    now = now or timezone.now()
    scoped = filters.apply(access.promotion_requests_for_hr(viewer))
    patterns = {
        _pattern_column(pattern): ExpressionWrapper(
            PATTERN_FILTERS[pattern.key](scoped.order_by()), output_field=BooleanField()
        )
        for pattern in PATTERNS
    }
    return (
        scoped.annotate(
            overdue=ExpressionWrapper(_count_filters(now)["overdue"], output_field=BooleanField()),
            **patterns,
        )
        .values(
            "pk",
            "employee_id",
            "employee__display_name",
            "employee__department",
            "number",
            "source",
            "shared_with_hr_at",
            "occurred_at",
            "requester_name",
            "requester_title",
            "channel",
            "framing",
            "content_format",
            "quantity",
            "promoted_item",
            "deadline",
            "compensation_offered",
            "status",
            "overdue",
            *patterns,
        )
        .order_by("occurred_at", "pk")
    )


def hr_overdue(*, viewer: User, now: datetime | None = None) -> QuerySet[PromotionRequest]:
    """Open requests past their deadline, for the weekly digest."""
    return hr_request_list(viewer=viewer, filters=Filters(), status="overdue", now=now)


# --- One request, as HR reads it --------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A stretch of the chain during which the request was shared: from `start_seq`
    (0: the record as it stood when first shared) to `end_seq` (None: still shared)."""

    start_seq: int
    end_seq: int | None

    def covers(self, seq: int) -> bool:
        return self.start_seq <= seq and (self.end_seq is None or seq <= self.end_seq)


def shared_windows(events: list[TimelineEvent], request_id: int) -> list[Window]:
    """The windows in which HR may read a request's events, from its share and stop
    events in chain order. A first share shares the record as it stands (from #0); a
    stop ends a window; a later share opens one from itself, so what she recorded
    while not sharing stays hers."""
    windows: list[Window] = []
    start: int | None = None
    for event in events:
        if event.kind not in SHARING_KINDS or request_id not in event.payload.get("requests", []):
            continue
        if event.kind == TimelineEvent.Kind.SHARED_WITH_HR and start is None:
            start = 0 if not windows else event.seq
        elif event.kind == TimelineEvent.Kind.SHARING_WITHDRAWN and start is not None:
            windows.append(Window(start, event.seq))
            start = None
    if start is not None:
        windows.append(Window(start, None))
    return windows


@dataclass
class HrRequest:
    """A filed or shared request as HR reads it: its details, its flags (from what HR
    may see), and the events recorded while it was shared (all of them, if filed)."""

    request: PromotionRequest
    employee_name: str
    department: str
    job_title: str
    flags: RequestFlags
    events: list[TimelineEvent]
    windows: list[Window]

    @property
    def is_filed(self) -> bool:
        return self.request.source == PromotionRequest.Source.FILED_IN_APP

    @property
    def timeline(self) -> list[tuple[TimelineEvent, bool]]:
        """Each shown event, and whether it came after a decline (as the employee's page)."""
        return [(event, self.flags.marks_event(event.kind, event.payload)) for event in self.events]


def hr_declines_for(promotion_request: PromotionRequest) -> Declines:
    """Declines by this request's requester on requests HR may see, so a flag never
    names (or hints at) one HR may not."""
    rows = (
        Decision.objects.filter(
            kind=Decision.Kind.DECLINE,
            promotion_request__employee_id=promotion_request.employee_id,
            promotion_request__requester_key=promotion_request.requester_key,
        )
        .filter(access.hr_visible_through("promotion_request"))
        .values_list(
            "promotion_request__employee_id",
            "promotion_request__requester_key",
            "promotion_request_id",
            "promotion_request__promoted_item",
            "decided_at",
        )
    )
    return Declines.from_rows(rows)


def hr_request_get(*, viewer: User, pk: int) -> HrRequest:
    """One request HR may see, with what its page shows; the same 404 for one that does
    not exist, one never shared and one no longer shared."""
    promotion_request = access.get_or_404(
        with_flag_data(
            access.promotion_requests_for_hr(viewer)
            .select_related("employee")
            .defer("notes")  # her own notes stay hers, even on a request she shares
            .prefetch_related(TARGETS_WITH_ACCOUNTS)  # shown, with their accounts
        ),
        pk=pk,
    )
    events = list(
        TimelineEvent.objects.filter(
            Q(promotion_request_id=promotion_request.pk)
            | shares_naming(employee_id=promotion_request.employee_id, pk=promotion_request.pk)
        )
        .select_related("actor")
        .defer("salt", "field_salts")
        .order_by("seq")
    )
    if promotion_request.source == PromotionRequest.Source.FILED_IN_APP:
        windows = [Window(0, None)]
    else:
        windows = shared_windows(events, promotion_request.pk)
    shown = [event for event in events if any(window.covers(event.seq) for window in windows)]
    declarations = account_declarations([promotion_request.employee_id])
    flags = request_flags(
        request_facts(promotion_request, declarations), declines=hr_declines_for(promotion_request)
    )
    employee = promotion_request.employee
    return HrRequest(
        request=promotion_request,
        employee_name=employee.display_name,
        department=employee.department,
        job_title=employee.job_title,
        flags=flags,
        events=shown,
        windows=windows,
    )
