"""Reminders about pending decisions: when they fall due, and sending each exactly once.

The database is the source of truth. `reminders_reschedule` keeps a request's rows in
line with its state; `reminders_claim_due` (the sweep) claims due rows and hands their
ids to a dispatcher; `reminder_send` claims one row again before it sends, so however
many sweeps, workers or redeliveries there are, a reminder has one effect per channel.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from boundary.models import User

from .models import (
    Decision,
    Notification,
    PromotionRequest,
    Reminder,
    ReminderDelivery,
    TimelineEvent,
)
from .timeline import timeline_append

logger = logging.getLogger(__name__)

REMINDER_TIME = time(9, 0)  # local morning, when a decision is easiest to make
DAYS_BEFORE_DEADLINE = 2
NO_DECISION_FIRST = timedelta(days=3)
NO_DECISION_REPEAT = timedelta(weeks=1)
NO_DECISION_MAX = 3
CONFIRM_REPLY_AFTER = timedelta(days=1)

CHANNEL_PREFERENCE: dict[str, str] = {
    Reminder.Kind.BEFORE_DEADLINE: "deadline_reminders",
    Reminder.Kind.ON_DEADLINE: "deadline_reminders",
    Reminder.Kind.NO_DECISION: "no_decision_reminders",
    Reminder.Kind.CONFIRM_REPLY: "reply_reminders",
    # A request filed for her is news, not a nudge: it follows her choice for "nothing
    # decided yet" reminders, but always reaches the bell (channels_for).
    Reminder.Kind.FILED: "no_decision_reminders",
}

MESSAGES: dict[str, str] = {
    Reminder.Kind.BEFORE_DEADLINE: "A request is waiting for your answer; it is due in two days.",
    Reminder.Kind.ON_DEADLINE: "A request is waiting for your answer; its deadline is today.",
    Reminder.Kind.NO_DECISION: "A request is still waiting for your answer.",
    Reminder.Kind.CONFIRM_REPLY: "You recorded an answer. Have you confirmed it in writing?",
    Reminder.Kind.FILED: "A request was filed for you in Boundary. Saying no carries no penalty.",
}


class TransientDeliveryError(Exception):
    """Sending failed in a way worth retrying (mail server down, a time-out)."""


# --- When -------------------------------------------------------------------------------


def at_local_time(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """`moment` on `day` in `zone`, as UTC. A time skipped by a DST change resolves to
    the same instant the wall clock shows after the jump (zoneinfo's fold=0 rule)."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # spans midnight


def outside_quiet_hours(moment: datetime, *, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The moment itself, or when the employee's quiet hours end if it falls in them."""
    local = moment.astimezone(zone)
    if not in_quiet_hours(local.time(), start, end):
        return moment
    day = local.date()
    if start > end and local.time() >= start:
        day += timedelta(days=1)  # evening part of an overnight window: ends tomorrow
    return at_local_time(day, end, zone)


@dataclass(frozen=True)
class PlannedReminder:
    kind: str
    number: int
    due_at: datetime


def planned_reminders(
    promotion_request: PromotionRequest, *, employee: User
) -> list[PlannedReminder]:
    """Every reminder this request should have, given its state now."""
    zone = employee.time_zone
    plans: list[PlannedReminder] = []
    latest = _latest_decision(promotion_request)
    if (
        promotion_request.is_open
        and promotion_request.source == PromotionRequest.Source.FILED_IN_APP
        and latest is None
    ):
        # The notice that it was filed: due when it was filed (after her quiet hours).
        plans.append(PlannedReminder(Reminder.Kind.FILED, 1, promotion_request.occurred_at))
    if promotion_request.is_open:
        if promotion_request.deadline:
            deadline_day = promotion_request.deadline.astimezone(zone).date()
            before = at_local_time(
                deadline_day - timedelta(days=DAYS_BEFORE_DEADLINE), REMINDER_TIME, zone
            )
            on_day = min(
                at_local_time(deadline_day, REMINDER_TIME, zone), promotion_request.deadline
            )
            plans += [
                PlannedReminder(Reminder.Kind.BEFORE_DEADLINE, 1, before),
                PlannedReminder(Reminder.Kind.ON_DEADLINE, 1, on_day),
            ]
        else:
            first_day = (promotion_request.occurred_at + NO_DECISION_FIRST).astimezone(zone).date()
            plans += [
                PlannedReminder(
                    Reminder.Kind.NO_DECISION,
                    number,
                    at_local_time(
                        first_day + (number - 1) * NO_DECISION_REPEAT, REMINDER_TIME, zone
                    ),
                )
                for number in range(1, NO_DECISION_MAX + 1)
            ]
    if (
        latest is not None
        # A request filed in Boundary: the filer reads the answer there (and its opening
        # is recorded), so there is no written reply to nudge about.
        and promotion_request.source != PromotionRequest.Source.FILED_IN_APP
        and latest.reply_sent_at is None
        and promotion_request.status != (PromotionRequest.Status.WITHDRAWN)
    ):
        plans.append(
            PlannedReminder(Reminder.Kind.CONFIRM_REPLY, 1, latest.decided_at + CONFIRM_REPLY_AFTER)
        )
    return [
        PlannedReminder(
            plan.kind,
            plan.number,
            outside_quiet_hours(
                plan.due_at,
                zone=zone,
                start=employee.quiet_hours_start,
                end=employee.quiet_hours_end,
            ),
        )
        for plan in plans
        if plan.due_at > promotion_request.occurred_at or plan.kind == Reminder.Kind.FILED
    ]


def _latest_decision(promotion_request: PromotionRequest) -> Decision | None:
    return promotion_request.decisions.order_by("-decided_at", "-id").first()


# --- Keeping rows in line -----------------------------------------------------------------


@transaction.atomic
def reminders_reschedule(
    *, promotion_request: PromotionRequest, employee: User | None = None
) -> None:
    """Bring the request's scheduled reminders in line with its state: keep what is
    still right, cancel what is not, add what is missing. Reminders already sent or
    skipped for the same moment are not planned again; rows in flight are left to
    the send step, which re-checks that they still apply.

    `employee`, when given, must be current (its zone and quiet hours are used);
    otherwise it is read afresh, never from a possibly stale cached relation."""
    now = timezone.now()
    employee = employee or User.objects.get(pk=promotion_request.employee_id)
    wanted = {
        (plan.kind, plan.number, plan.due_at)
        for plan in planned_reminders(promotion_request, employee=employee)
        # The filed notice falls due as it is planned: late is better than never.
        if plan.due_at > now or plan.kind == Reminder.Kind.FILED
    }
    rows = list(
        Reminder.objects.select_for_update()
        .filter(promotion_request=promotion_request)
        .exclude(state__in=[Reminder.State.CANCELLED, Reminder.State.FAILED])
    )
    done = {(r.kind, r.number, r.due_at) for r in rows if r.state not in Reminder.OPEN_STATES}
    in_flight = {
        (r.kind, r.number)
        for r in rows
        if r.state in (Reminder.State.QUEUED, Reminder.State.SENDING)
    }
    scheduled = [r for r in rows if r.state == Reminder.State.SCHEDULED]
    stale = [r.pk for r in scheduled if (r.kind, r.number, r.due_at) not in wanted]
    Reminder.objects.filter(pk__in=stale).update(state=Reminder.State.CANCELLED, finished_at=now)
    kept = {(r.kind, r.number, r.due_at) for r in scheduled if r.pk not in stale}
    sent_numbers = {(r.kind, r.number) for r in rows if r.state == Reminder.State.SENT}
    Reminder.objects.bulk_create(
        Reminder(
            promotion_request=promotion_request,
            employee_id=promotion_request.employee_id,
            kind=kind,
            number=_free_number(kind, number, sent_numbers),
            due_at=due_at,
        )
        for kind, number, due_at in sorted(wanted - kept - done)
        if (kind, number) not in in_flight
    )


def _free_number(kind: str, number: int, sent: set[tuple[str, int]]) -> int:
    # A new deadline after a sent reminder gets a new reminder: number it past the
    # sent one, so the one-live-row-per-kind-and-number constraint still holds.
    while (kind, number) in sent:
        number += 10
    return number


# Changing these in a profile moves when reminders fall due.
REMINDER_TIMING_FIELDS = frozenset({"time_zone", "quiet_hours_start", "quiet_hours_end"})


def reminders_retime_after_profile_change(*, employee: User, changed: Iterable[str]) -> None:
    """Re-plan the employee's pending reminders if her time zone or quiet hours moved."""
    if REMINDER_TIMING_FIELDS.intersection(changed):
        reminders_reschedule_for_employee(employee=employee)


def reminders_reschedule_for_employee(*, employee: User) -> None:
    """After a change of time zone or quiet hours."""
    for promotion_request in (
        PromotionRequest.objects.filter(employee=employee)
        .filter(
            Q(reminders__state=Reminder.State.SCHEDULED)
            | Q(status__in=PromotionRequest.OPEN_STATUSES)
        )
        .distinct()
    ):
        reminders_reschedule(promotion_request=promotion_request, employee=employee)


# --- Claiming -----------------------------------------------------------------------------


def reminders_claim_due(
    *, dispatch: Callable[[Iterable[int]], None], now: datetime | None = None, batch: int = 500
) -> list[int]:
    """The sweep: claim up to `batch` due rows (and rows whose claim went stale) and
    hand their ids to `dispatch` once the claim is committed.

    SKIP LOCKED lets any number of sweepers run at once without waiting on, or
    taking, each other's rows.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(state=Reminder.State.SCHEDULED, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch]
        )
        queue_timeout = now - timedelta(seconds=settings.REMINDER_QUEUE_TIMEOUT)
        claim_timeout = now - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT)
        lost = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(
                Q(state=Reminder.State.QUEUED, queued_at__lt=queue_timeout)
                | Q(state=Reminder.State.SENDING, claimed_at__lt=claim_timeout)
            )
            .values_list("pk", flat=True)[:batch]
        )
        exhausted = list(
            Reminder.objects.filter(
                pk__in=lost, attempts__gte=settings.REMINDER_MAX_ATTEMPTS
            ).values_list("pk", flat=True)
        )
        Reminder.objects.filter(pk__in=exhausted).update(
            state=Reminder.State.FAILED,
            finished_at=now,
            last_error="gave up after repeated attempts",
        )
        claimed = due + [pk for pk in lost if pk not in exhausted]
        if claimed:
            Reminder.objects.filter(pk__in=claimed).update(
                state=Reminder.State.QUEUED, queued_at=now
            )
            transaction.on_commit(lambda: dispatch(claimed))
    return claimed


SWEEP_BATCH = 500


def reminders_sweep(*, dispatch: Callable[[Iterable[int]], None], batch: int = SWEEP_BATCH) -> int:
    """Claim every due reminder, a batch (one short transaction) at a time, so a
    backlog goes out in one sweep without holding locks on all of it at once."""
    total = 0
    while True:
        claimed = reminders_claim_due(dispatch=dispatch, batch=batch)
        total += len(claimed)
        if len(claimed) < batch:
            return total


# --- Sending ------------------------------------------------------------------------------


def still_applies(reminder: Reminder) -> bool:
    promotion_request = reminder.promotion_request
    if reminder.kind == Reminder.Kind.CONFIRM_REPLY:
        latest = _latest_decision(promotion_request)
        return latest is not None and latest.reply_sent_at is None
    return promotion_request.is_open


def channels_for(reminder: Reminder) -> list[ReminderDelivery.Channel]:
    choice = getattr(reminder.employee, CHANNEL_PREFERENCE[reminder.kind])
    if reminder.kind == Reminder.Kind.FILED and choice == User.ReminderChannels.OFF:
        # Someone asked her something: she learns it in Boundary at least.
        return [ReminderDelivery.Channel.IN_APP]
    return {
        User.ReminderChannels.EMAIL_AND_APP: [
            ReminderDelivery.Channel.IN_APP,
            ReminderDelivery.Channel.EMAIL,
        ],
        User.ReminderChannels.APP_ONLY: [ReminderDelivery.Channel.IN_APP],
        User.ReminderChannels.OFF: [],
    }[choice]


def _finish(reminder: Reminder, state: str, note: str = "") -> None:
    Reminder.objects.filter(pk=reminder.pk, state=Reminder.State.SENDING).update(
        state=state, finished_at=timezone.now(), last_error=note[:500]
    )


def reminder_send(*, reminder_id: int, now: datetime | None = None) -> str:
    """Send one queued reminder; returns what happened, for logs and tests.

    Steps: claim the row (queued → sending) or stop; cancel it if the request no
    longer needs it, skip it if it is far past due; create the in-app notice; send
    the email; mark the row sent and append "reminder sent" to the timeline. Each
    channel's effect is recorded in ReminderDelivery, unique per channel, so a retry
    never repeats a channel that already went out.
    Raises TransientDeliveryError after releasing the claim, so a retry can take it.
    """
    now = now or timezone.now()
    claimed = Reminder.objects.filter(pk=reminder_id, state=Reminder.State.QUEUED).update(
        state=Reminder.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "not-claimed"
    reminder = Reminder.objects.select_related("promotion_request", "employee").get(pk=reminder_id)
    if not still_applies(reminder):
        _finish(reminder, Reminder.State.CANCELLED, "no longer pending")
        return "cancelled"
    if now - reminder.due_at > timedelta(seconds=settings.REMINDER_STALE_AFTER):
        _finish(
            reminder, Reminder.State.SKIPPED, f"processed {now - reminder.due_at} after it was due"
        )
        return "skipped"
    channels = channels_for(reminder)
    if not channels:
        _finish(reminder, Reminder.State.CANCELLED, "turned off by the employee")
        return "off"
    if ReminderDelivery.Channel.IN_APP in channels:
        _deliver_in_app(reminder)
    if ReminderDelivery.Channel.EMAIL in channels:
        try:
            _deliver_email(reminder)
        except TransientDeliveryError as error:
            Reminder.objects.filter(pk=reminder.pk, state=Reminder.State.SENDING).update(
                state=Reminder.State.QUEUED, queued_at=timezone.now(), last_error=str(error)[:500]
            )
            raise
    with transaction.atomic():
        finished = Reminder.objects.filter(pk=reminder.pk, state=Reminder.State.SENDING).update(
            state=Reminder.State.SENT, finished_at=timezone.now(), last_error=""
        )
        if finished:
            timeline_append(
                employee=reminder.employee,
                kind=TimelineEvent.Kind.REMINDER_SENT,
                actor=None,
                payload={
                    "reminder": reminder.pk,
                    "kind": reminder.kind,
                    "due_at": reminder.due_at,
                    "channels": sorted(channels),
                },
                promotion_request=reminder.promotion_request,
            )
    return "sent"


def _deliver_in_app(reminder: Reminder) -> None:
    try:
        with transaction.atomic():
            ReminderDelivery.objects.create(
                reminder=reminder,
                channel=ReminderDelivery.Channel.IN_APP,
                delivered_at=timezone.now(),
            )
            Notification.objects.create(
                user=reminder.employee,
                reminder=reminder,
                promotion_request=reminder.promotion_request,
                message=MESSAGES[reminder.kind],
            )
    except IntegrityError:
        pass  # delivered by an earlier attempt


def _deliver_email(reminder: Reminder) -> None:
    delivery, _ = ReminderDelivery.objects.get_or_create(
        reminder=reminder, channel=ReminderDelivery.Channel.EMAIL
    )
    if delivery.delivered_at is not None:
        return
    message = reminder_email(reminder)
    try:
        message.send()
    except (OSError, TimeoutError) as error:  # smtplib's errors are OSErrors too
        raise TransientDeliveryError(f"{type(error).__name__}: {error}") from error
    ReminderDelivery.objects.filter(pk=delivery.pk).update(delivered_at=timezone.now())


def reminder_email(reminder: Reminder) -> EmailMultiAlternatives:
    """Quiet and generic: nothing about the request or who asked is in the subject."""
    context = {
        "user": reminder.employee,
        "kind": reminder.kind,
        "message": MESSAGES[reminder.kind],
        "link": settings.SITE_URL.rstrip("/") + reminder.promotion_request.get_absolute_url(),
        "settings_link": settings.SITE_URL.rstrip("/") + "/me/profile/#reminders",
    }
    subject = render_to_string("emails/reminder-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/reminder-body.txt", context),
        to=[reminder.employee.email],
        # Stable per reminder, so a mail client drops the copy a crash between the mail
        # server's "accepted" and our record of it could cause.
        headers={
            "Auto-Submitted": "auto-generated",
            "Message-ID": f"<reminder-{reminder.pk}@{urlsplit(settings.SITE_URL).hostname}>",
        },
    )
    message.attach_alternative(render_to_string("emails/reminder-body.html", context), "text/html")
    return message


def reminder_mark_failed(*, reminder_id: int, error: str) -> None:
    """Give up on a reminder after its last retry; it stays visible as failed."""
    Reminder.objects.filter(pk=reminder_id).exclude(state=Reminder.State.SENT).update(
        state=Reminder.State.FAILED, finished_at=timezone.now(), last_error=error[:500]
    )
