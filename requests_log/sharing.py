"""Sharing with HR, and HR's reads: the writes, each with its chained event.

A share or a stop is one event on the employee's chain whose payload names the
requests it covers (`requests`: one, or every request she logged herself), so "share
all" is one entry, not many. `PromotionRequest.shared_with_hr_at` is only a cache of
what those events say (chain.Replay folds it the same way; verify_chain reports drift),
kept here and nowhere else. Sharing is for the future: a stop hides from HR what is
recorded after it, and HR's earlier reads stay on the record.
"""

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from boundary.models import User

from . import access
from .models import HrExport, HrView, PromotionRequest, TimelineEvent
from .timeline import timeline_append


def _own_logged(employee: User, pks: Iterable[int] | None) -> list[PromotionRequest]:
    """Her self-logged requests (`pks` of them, or all), locked, in number order. A pk
    that is not hers, or not self-logged, refuses the whole share."""
    queryset = (
        access.own_promotion_requests(employee)
        .filter(source=PromotionRequest.Source.LOGGED_BY_EMPLOYEE)
        .select_for_update()
        .order_by("number")
        .only("pk", "number", "shared_with_hr_at", "employee_id", "source")
    )
    if pks is None:
        return list(queryset)
    wanted = set(pks)
    found = list(queryset.filter(pk__in=wanted))
    if {item.pk for item in found} != wanted:
        raise ValidationError("You can share only requests you logged yourself.")
    return found


@transaction.atomic
def promotion_requests_share(
    *, employee: User, request_pks: Iterable[int] | None = None
) -> TimelineEvent | None:
    """Share with HR one or more of her self-logged requests (all of them when
    `request_pks` is None), from now until she stops.

    Side effects, in order: locks the requests; appends one SHARED_WITH_HR event naming
    those not already shared (the event of a single request also points at it, so it
    shows on that request's timeline); sets their shared_with_hr_at cache to the event's
    time. Returns None when everything named was already shared."""
    requests = [item for item in _own_logged(employee, request_pks) if not item.shared_with_hr_at]
    if not requests:
        return None
    event = _sharing_event(employee, requests, TimelineEvent.Kind.SHARED_WITH_HR, request_pks)
    PromotionRequest.objects.filter(pk__in=[item.pk for item in requests]).update(
        shared_with_hr_at=event.occurred_at
    )
    return event


@transaction.atomic
def promotion_requests_share_stop(
    *, employee: User, request_pks: Iterable[int] | None = None
) -> TimelineEvent | None:
    """Stop sharing one or more requests (all when `request_pks` is None): from now on HR
    no longer sees them, in no page, list, count or export. What HR read before stays
    read, and on the record.

    Side effects, in order: locks the requests; appends one SHARING_WITHDRAWN event
    naming those that were shared; clears their shared_with_hr_at cache. Returns None
    when none of them was shared."""
    requests = [item for item in _own_logged(employee, request_pks) if item.shared_with_hr_at]
    if not requests:
        return None
    event = _sharing_event(employee, requests, TimelineEvent.Kind.SHARING_WITHDRAWN, request_pks)
    PromotionRequest.objects.filter(pk__in=[item.pk for item in requests]).update(
        shared_with_hr_at=None
    )
    return event


def _sharing_event(
    employee: User,
    requests: list[PromotionRequest],
    kind: str,
    request_pks: Iterable[int] | None,
) -> TimelineEvent:
    """The one event a share or a stop appends: which requests, and whether it was "all"
    (the event of a single request also points at it, for that request's timeline)."""
    return timeline_append(
        employee=employee,
        kind=kind,
        actor=employee,
        payload={
            "requests": [item.pk for item in requests],
            "numbers": [item.number for item in requests],
            "all": request_pks is None,
        },
        promotion_request=requests[0] if len(requests) == 1 else None,
    )


def hr_day(viewer: User, moment: datetime) -> date:
    """The day a read falls on, in the HR user's own time zone."""
    zone = viewer.time_zone
    return timezone.localtime(
        moment, zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")
    ).date()


def hr_view_record(*, viewer: User, promotion_request_id: int) -> TimelineEvent | None:
    """HR opened a request: append VIEWED_BY_HR (who, when) to the employee's chain, once
    per HR user, per request, per day. The HrView row's unique constraint decides which
    of two simultaneous openings appends (the other waits on the index, then finds the
    row and appends nothing). Returns None when already recorded today.

    Runs in its own transaction (and savepoint), so a page's read never rolls it back
    and a lost race rolls back only the losing insert."""
    now = timezone.now()
    try:
        with transaction.atomic():
            promotion_request = access.get_or_404(
                access.promotion_requests_for_hr(viewer).only("pk", "employee_id"),
                pk=promotion_request_id,
            )
            HrView.objects.create(
                viewer=viewer,
                promotion_request_id=promotion_request.pk,
                day=hr_day(viewer, now),
                viewed_at=now,
            )
            return timeline_append(
                employee=User(pk=promotion_request.employee_id),
                kind=TimelineEvent.Kind.VIEWED_BY_HR,
                actor=viewer,
                payload={"viewed_at": now},
                promotion_request=promotion_request,
                occurred_at=now,
            )
    except IntegrityError:
        return None


def _hr_views_insert(*, viewer: User, request_ids: list[int], now: datetime) -> list[int]:
    """HrView rows for HR's reads of these requests today; the ids newly read, in order.

    On PostgreSQL one INSERT … ON CONFLICT DO NOTHING RETURNING: an export running at
    the same time waits on the unique index and gets only the rows it inserted, so no
    read is appended twice. SQLite (`make run`) has no unnest(): it reads which rows
    exist, then inserts the rest, which is as safe there, because its transactions
    take the database's write lock as they begin (settings: transaction_mode)."""
    day = hr_day(viewer, now)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {HrView._meta.db_table} "
                "(viewer_id, promotion_request_id, day, viewed_at) "
                "SELECT %s, unnest(%s::bigint[]), %s, %s "
                "ON CONFLICT (viewer_id, promotion_request_id, day) DO NOTHING "
                "RETURNING promotion_request_id",
                [viewer.pk, request_ids, day, now],
            )
            return sorted(row[0] for row in cursor.fetchall())
    read = set(
        HrView.objects.filter(
            viewer=viewer, day=day, promotion_request_id__in=request_ids
        ).values_list("promotion_request_id", flat=True)
    )
    new = [pk for pk in request_ids if pk not in read]
    HrView.objects.bulk_create(
        HrView(viewer=viewer, promotion_request_id=pk, day=day, viewed_at=now) for pk in new
    )
    return new


@transaction.atomic
def hr_export_record(
    *,
    viewer: User,
    request_ids: list[int],
    sha256: str,
    department: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> HrExport:
    """HR exported these requests: who, what, when on an HrExport row, and on each
    employee's chain a "viewed by HR" for every request in it not already read by this
    HR user today (the same HrView rows coalesce them, so a page opened and an export
    made the same day are one read).

    Side effects, in order: the HrExport row; HrView rows for those not read today
    (_hr_views_insert); one VIEWED_BY_HR event per new one, naming the export."""
    now = timezone.now()
    export = HrExport.objects.create(
        requested_by=viewer,
        department=department,
        date_from=date_from,
        date_to=date_to,
        rows=len(request_ids),
        sha256=sha256,
    )
    allowed = dict(
        access.promotion_requests_for_hr(viewer)
        .filter(pk__in=request_ids)
        .values_list("pk", "employee_id")
    )
    if not allowed:
        return export
    new = _hr_views_insert(viewer=viewer, request_ids=sorted(allowed), now=now)
    for request_id in new:
        timeline_append(
            employee=User(pk=allowed[request_id]),
            kind=TimelineEvent.Kind.VIEWED_BY_HR,
            actor=viewer,
            payload={"viewed_at": now, "export": export.pk},
            promotion_request=PromotionRequest(pk=request_id, employee_id=allowed[request_id]),
            occurred_at=now,
        )
    return export
