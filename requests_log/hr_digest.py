"""The weekly digest for each HR user: the overdue requests HR may see, under a generic
subject, sent at most once per HR user per week.

As with reminders, the database decides: `hr_digests_sweep` (hourly, from Celery beat)
makes the week's HrDigest row for each HR user once the week's digest is due (the row is
unique per user and week), and hands the ids of rows not yet sent to a dispatcher;
`hr_digest_send` claims its row (scheduled → sending, a conditional update) before it
sends, so two sweeps, two workers or a redelivered message send one email. A claim left
by a crashed worker expires after REMINDER_CLAIM_TIMEOUT and is taken again. The email
names no one: each overdue request by department, dates and a link to HR's page.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from boundary.models import User

from . import hr_selectors
from .models import HrDigest

logger = logging.getLogger(__name__)

# Due on Monday morning (UTC); an hourly sweep sends it the first hour after.
DIGEST_DUE = time(7, 0)
DIGEST_MAX_ITEMS = 50


class TransientDigestError(Exception):
    """Sending failed in a way worth retrying (the mail server, a timeout)."""


def week_of(moment: datetime) -> date:
    """The Monday of the week `moment` falls in (UTC)."""
    day = timezone.localtime(moment, timezone.get_fixed_timezone(0)).date()
    return day - timedelta(days=day.weekday())


def hr_digests_sweep(
    *, dispatch: Callable[[Iterable[int]], None], now: datetime | None = None
) -> int:
    """Make this week's digest rows (once due) and dispatch the ids of those to send:
    scheduled ones, and those whose sender's claim has expired. Returns how many."""
    now = now or timezone.now()
    week = week_of(now)
    if now >= datetime.combine(week, DIGEST_DUE, tzinfo=timezone.get_fixed_timezone(0)):
        recipients = User.objects.filter(role=User.Role.HR, is_active=True).values_list(
            "pk", flat=True
        )
        HrDigest.objects.bulk_create(
            [HrDigest(recipient_id=pk, week=week) for pk in recipients], ignore_conflicts=True
        )
    stale = now - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT)
    ids = list(
        HrDigest.objects.filter(
            Q(state=HrDigest.State.SCHEDULED)
            | Q(state=HrDigest.State.SENDING, claimed_at__lt=stale),
            week__gte=week - timedelta(weeks=1),
        ).values_list("pk", flat=True)
    )
    if ids:
        dispatch(ids)
    return len(ids)


def _claim(digest_id: int, now: datetime) -> bool:
    stale = now - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT)
    return (
        HrDigest.objects.filter(
            Q(state=HrDigest.State.SCHEDULED)
            | Q(state=HrDigest.State.SENDING, claimed_at__lt=stale),
            pk=digest_id,
        ).update(state=HrDigest.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        == 1
    )


def hr_digest_send(*, digest_id: int, now: datetime | None = None) -> str:
    """Claim the digest, then email it. Returns "sent", or "not claimed" when another
    worker has it or it went already. A transient failure puts it back (scheduled) for
    the retry, and raises TransientDigestError."""
    now = now or timezone.now()
    if not _claim(digest_id, now):
        return "not claimed"
    digest = HrDigest.objects.select_related("recipient").get(pk=digest_id)
    recipient = digest.recipient
    if recipient.role != User.Role.HR or not recipient.is_active:
        HrDigest.objects.filter(pk=digest_id).update(
            state=HrDigest.State.FAILED, last_error="No longer HR."
        )
        return "not HR"
    overdue = hr_selectors.hr_overdue(viewer=recipient, now=now)
    items = list(overdue[:DIGEST_MAX_ITEMS])
    count = overdue.count() if len(items) == DIGEST_MAX_ITEMS else len(items)
    message = hr_digest_email(digest, items=items, count=count)
    try:
        message.send()
    except (OSError, TimeoutError) as error:
        HrDigest.objects.filter(pk=digest_id, state=HrDigest.State.SENDING).update(
            state=HrDigest.State.SCHEDULED, last_error=f"{type(error).__name__}: {error}"[:500]
        )
        raise TransientDigestError(str(error)) from error
    HrDigest.objects.filter(pk=digest_id).update(
        state=HrDigest.State.SENT, sent_at=timezone.now(), overdue_count=count
    )
    return "sent"


def hr_digest_email(digest: HrDigest, *, items: list, count: int) -> EmailMultiAlternatives:
    """A generic subject; in the body, each overdue request by department and dates with
    a link (no employee's or requester's name, no content)."""
    site = settings.SITE_URL.rstrip("/")
    context = {
        "user": digest.recipient,
        "week": digest.week,
        "count": count,
        "items": [
            {
                "department": item.employee.department or "No department",
                "asked": item.occurred_at,
                "deadline": item.deadline,
                "link": site + reverse("hr:request-detail", args=[item.pk]),
            }
            for item in items
        ],
        "more": count - len(items),
        "dashboard_link": site + reverse("hr:request-list") + "?status=overdue",
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/hr-digest-subject.txt", context).strip(),
        body=render_to_string("emails/hr-digest-body.txt", context),
        to=[digest.recipient.email],
        headers={
            "Auto-Submitted": "auto-generated",
            "Message-ID": f"<hr-digest-{digest.pk}@{urlsplit(settings.SITE_URL).hostname}>",
        },
    )
    message.attach_alternative(render_to_string("emails/hr-digest-body.html", context), "text/html")
    return message


@transaction.atomic
def hr_digest_mark_failed(*, digest_id: int, error: str) -> None:
    HrDigest.objects.filter(pk=digest_id).exclude(state=HrDigest.State.SENT).update(
        state=HrDigest.State.FAILED, last_error=error[:500]
    )
