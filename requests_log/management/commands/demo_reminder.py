"""Make a reminder fall due in a few seconds, to watch one go out under `make run` (and
for the first-run check in CI): the demo's "reminder check" person logs a request and
declines it, dated a day back, so the "confirm your answer in writing" reminder falls
due SECONDS from now. Everything goes through the services, as in the app; beat's
sweep and the worker send it."""

import secrets
import time
from datetime import time as dt_time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from boundary.models import User
from boundary.services import user_register
from requests_log.models import Decision, PromotionRequest, Reminder
from requests_log.services import decision_record, promotion_request_log

CHECK_EMAIL = "reminder-check@example.com"


class Command(BaseCommand):
    help = "Make a reminder fall due in SECONDS (demo data only); --wait for it to be sent."

    def add_arguments(self, parser):
        parser.add_argument("--in", dest="seconds", type=int, default=20, metavar="SECONDS")
        parser.add_argument(
            "--wait",
            type=int,
            default=0,
            metavar="SECONDS",
            help="wait this long for it to be sent; exit 1 if it was not",
        )

    def handle(self, *args, seconds, wait, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo_reminder makes up requests: not in production.")
        reminder = self.make_due(seconds)
        self.stdout.write(
            f"Reminder {reminder.pk} ({reminder.get_kind_display()}) for {CHECK_EMAIL} "
            f"falls due at {reminder.due_at:%H:%M:%S} UTC."
        )
        if wait:
            self.wait_until_sent(reminder, timeout=wait)

    @transaction.atomic
    def make_due(self, seconds: int) -> Reminder:
        person = User.objects.filter(email__iexact=CHECK_EMAIL).first() or user_register(
            email=CHECK_EMAIL,
            password=secrets.token_urlsafe(),  # never used: nobody logs in as it
            display_name="Reminder check",
            time_zone="UTC",
            # No quiet hours: the reminder goes out when it falls due, at any hour.
            quiet_hours_start=dt_time(0),
            quiet_hours_end=dt_time(0),
        )
        now = timezone.now()
        promotion_request = promotion_request_log(
            employee=person,
            actor=person,
            target_accounts=(),
            requester_name="Reminder check",
            occurred_at=now - timedelta(days=2),
            channel=PromotionRequest.Channel.MEETING,
            words_used="Would you post about it?",
            promoted_item="A reminder check",
            content_format=PromotionRequest.ContentFormat.POSTS,
            quantity=1,
            framing=PromotionRequest.Framing.ASKED,
        )
        decision_record(
            promotion_request=promotion_request,
            decided_by=person,
            kind=Decision.Kind.DECLINE,
            decided_at=now - timedelta(days=1) + timedelta(seconds=seconds),
        )
        return promotion_request.reminders.get(
            kind=Reminder.Kind.CONFIRM_REPLY, state=Reminder.State.SCHEDULED
        )

    def wait_until_sent(self, reminder: Reminder, *, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reminder.refresh_from_db()
            if reminder.state not in Reminder.OPEN_STATES:
                break
            time.sleep(1)
        late = (timezone.now() - reminder.due_at).total_seconds()
        if reminder.state != Reminder.State.SENT:
            raise CommandError(
                f"Reminder {reminder.pk} is {reminder.state}, {late:.0f} s past due."
            )
        sent_at = reminder.finished_at or timezone.now()
        sent_after = (sent_at - reminder.due_at).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(f"Reminder {reminder.pk} sent {sent_after:.0f} s after it fell due.")
        )
