from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from requests_log import reminders, services
from requests_log.models import Notification, PromotionRequest, Reminder, ReminderDelivery
from requests_log.reminders import at_local_time, outside_quiet_hours
from requests_log.tasks import send_reminder
from tests.factories import UserFactory, log_request

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT_21_TO_8 = {"start": time(21), "end": time(8)}


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server refused the connection")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def live(promotion_request):
    """(kind, number, due_at in the employee's zone) of the scheduled reminders."""
    zone = promotion_request.employee.time_zone
    return [
        (r.kind, r.number, r.due_at.astimezone(zone).replace(tzinfo=None))
        for r in promotion_request.reminders.filter(state=Reminder.State.SCHEDULED).order_by(
            "due_at", "kind"
        )
    ]


@pytest.fixture
def maya(maya):
    """Maya, working from Berlin (the times below are Berlin's)."""
    maya.time_zone = ZoneInfo("Europe/Berlin")
    maya.save(update_fields=["time_zone"])
    return maya


# --- When --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(BERLIN, 2026, 11, 24, 22, 30), local(BERLIN, 2026, 11, 25, 8, 0)),
        (local(BERLIN, 2026, 11, 24, 6, 0), local(BERLIN, 2026, 11, 24, 8, 0)),
        (local(BERLIN, 2026, 11, 24, 21, 0), local(BERLIN, 2026, 11, 25, 8, 0)),
        (local(BERLIN, 2026, 11, 24, 8, 0), local(BERLIN, 2026, 11, 24, 8, 0)),
        (local(BERLIN, 2026, 11, 24, 12, 0), local(BERLIN, 2026, 11, 24, 12, 0)),
    ],
)
def test_quiet_hours_move_a_reminder_to_their_end(moment, expected):
    assert outside_quiet_hours(moment, zone=BERLIN, **NIGHT_21_TO_8) == expected


def test_quiet_hours_within_one_day_and_switched_off():
    lunch = {"start": time(12), "end": time(14)}
    at_one = local(BERLIN, 2026, 11, 24, 13, 0)

    assert outside_quiet_hours(at_one, zone=BERLIN, **lunch) == local(BERLIN, 2026, 11, 24, 14, 0)
    assert outside_quiet_hours(at_one, zone=BERLIN, start=time(9), end=time(9)) == at_one


def test_local_morning_keeps_its_wall_clock_time_across_dst():
    before_change = at_local_time(datetime(2026, 10, 31).date(), time(9), NEW_YORK)
    after_change = at_local_time(datetime(2026, 11, 2).date(), time(9), NEW_YORK)

    assert (before_change, after_change) == (utc(2026, 10, 31, 13), utc(2026, 11, 2, 14))


def test_deadline_gets_a_reminder_two_days_before_and_on_its_morning(maya):
    promotion_request = log_request(
        maya,
        occurred_at=local(BERLIN, 2026, 11, 16, 10, 30),
        deadline=local(BERLIN, 2026, 11, 20, 17, 0),
    )

    with time_machine.travel(utc(2026, 11, 16, 10), tick=False):
        services.promotion_request_correct(
            promotion_request=promotion_request, actor=maya, notes="re-time"
        )
        reminders.reminders_reschedule(promotion_request=promotion_request)

    assert live(promotion_request) == [
        ("before_deadline", 1, datetime(2026, 11, 18, 9, 0)),
        ("on_deadline", 1, datetime(2026, 11, 20, 9, 0)),
    ]


def test_early_deadline_is_reminded_at_the_deadline_itself(maya):
    with time_machine.travel(utc(2026, 11, 16, 10), tick=False):
        promotion_request = log_request(
            maya,
            occurred_at=local(BERLIN, 2026, 11, 16, 10, 30),
            deadline=local(BERLIN, 2026, 11, 20, 8, 30),
        )

    assert live(promotion_request)[-1] == ("on_deadline", 1, datetime(2026, 11, 20, 8, 30))


def test_reminders_already_past_when_logged_are_not_planned(maya):
    with time_machine.travel(local(BERLIN, 2026, 11, 19, 12, 0), tick=False):
        promotion_request = log_request(
            maya,
            occurred_at=local(BERLIN, 2026, 11, 19, 11, 0),
            deadline=local(BERLIN, 2026, 11, 20, 17, 0),
        )

    assert live(promotion_request) == [("on_deadline", 1, datetime(2026, 11, 20, 9, 0))]


def test_no_deadline_reminds_after_three_days_then_weekly_three_times(maya):
    with time_machine.travel(utc(2026, 11, 2, 9), tick=False):
        promotion_request = log_request(maya, occurred_at=local(BERLIN, 2026, 11, 2, 10, 0))

    assert live(promotion_request) == [
        ("no_decision", 1, datetime(2026, 11, 5, 9, 0)),
        ("no_decision", 2, datetime(2026, 11, 12, 9, 0)),
        ("no_decision", 3, datetime(2026, 11, 19, 9, 0)),
    ]


def test_quiet_hours_of_the_employee_shift_the_morning_reminder(maya):
    maya.quiet_hours_start, maya.quiet_hours_end = time(20), time(10)
    maya.save()

    with time_machine.travel(utc(2026, 11, 2, 9), tick=False):
        promotion_request = log_request(maya, occurred_at=local(BERLIN, 2026, 11, 2, 10, 0))

    assert live(promotion_request)[0] == ("no_decision", 1, datetime(2026, 11, 5, 10, 0))


def test_dst_change_in_the_employees_zone_fires_once_at_local_morning():
    employee = UserFactory(time_zone="America/New_York")
    with time_machine.travel(utc(2026, 10, 28, 12), tick=False):
        promotion_request = log_request(
            employee,
            occurred_at=local(NEW_YORK, 2026, 10, 28, 10, 0),
            deadline=local(NEW_YORK, 2026, 11, 3, 17, 0),
        )
    before = promotion_request.reminders.get(kind="before_deadline")
    sent = []

    # Sweep and send every half hour across the night the clocks go back (1 Nov 2026).
    moment = utc(2026, 10, 31, 12)
    while moment < utc(2026, 11, 2, 12):
        with time_machine.travel(moment, tick=False):
            for reminder_id in reminders.reminders_claim_due(dispatch=lambda ids: None):
                reminders.reminder_send(reminder_id=reminder_id)
                sent.append((reminder_id, moment))
        moment += timedelta(minutes=30)

    assert sent == [(before.pk, utc(2026, 11, 1, 14))]
    assert before.due_at.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 11, 1, 9, 0)
    assert before.due_at == utc(2026, 11, 1, 14)


# --- Keeping rows in line ----------------------------------------------------------------


def test_decision_cancels_deadline_reminders_and_asks_to_confirm_in_writing(maya):
    with time_machine.travel(utc(2026, 11, 16, 10), tick=False):
        promotion_request = log_request(
            maya,
            occurred_at=local(BERLIN, 2026, 11, 16, 10, 30),
            deadline=local(BERLIN, 2026, 11, 20, 17, 0),
        )
        services.decision_record(
            promotion_request=promotion_request,
            decided_by=maya,
            kind="decline",
            decline_reasons=["personal_separate"],
            decided_at=local(BERLIN, 2026, 11, 16, 11, 0),
        )

    assert live(promotion_request) == [("confirm_reply", 1, datetime(2026, 11, 17, 11, 0))]
    assert sorted(promotion_request.reminders.values_list("kind", "state")) == [
        ("before_deadline", "cancelled"),
        ("confirm_reply", "scheduled"),
        ("on_deadline", "cancelled"),
    ]
    assert "reminder_sent" not in promotion_request.events.values_list("kind", flat=True)


def test_reply_sent_and_withdrawal_cancel_what_is_left(maya):
    with time_machine.travel(utc(2026, 11, 16, 10), tick=False):
        promotion_request = log_request(maya, occurred_at=local(BERLIN, 2026, 11, 16, 10, 30))
        decision = services.decision_record(
            promotion_request=promotion_request,
            decided_by=maya,
            kind="counter",
            details="One story",
        )
        services.reply_mark_sent(decision=decision, actor=maya)
        after_reply = live(promotion_request)
        services.promotion_request_withdraw(promotion_request=promotion_request, actor=maya)

    assert [kind for kind, _number, _due in after_reply] == ["no_decision"] * 3
    assert live(promotion_request) == []


def test_correcting_the_deadline_moves_the_reminders(maya):
    with time_machine.travel(utc(2026, 11, 16, 10), tick=False):
        promotion_request = log_request(
            maya,
            occurred_at=local(BERLIN, 2026, 11, 16, 10, 30),
            deadline=local(BERLIN, 2026, 11, 20, 17, 0),
        )
        services.promotion_request_correct(
            promotion_request=promotion_request,
            actor=maya,
            deadline=local(BERLIN, 2026, 11, 27, 17, 0),
        )

    assert live(promotion_request) == [
        ("before_deadline", 1, datetime(2026, 11, 25, 9, 0)),
        ("on_deadline", 1, datetime(2026, 11, 27, 9, 0)),
    ]


def test_a_sent_reminder_is_not_planned_again_but_a_new_deadline_gets_its_own(maya, mailoutbox):
    with time_machine.travel(utc(2026, 11, 16, 10), tick=False):
        promotion_request = log_request(
            maya,
            occurred_at=local(BERLIN, 2026, 11, 16, 10, 30),
            deadline=local(BERLIN, 2026, 11, 20, 17, 0),
        )
    with time_machine.travel(local(BERLIN, 2026, 11, 18, 9, 1), tick=False):
        for reminder_id in reminders.reminders_claim_due(dispatch=lambda ids: None):
            reminders.reminder_send(reminder_id=reminder_id)
        reminders.reminders_reschedule(promotion_request=promotion_request)
        unchanged = live(promotion_request)
        services.promotion_request_correct(
            promotion_request=promotion_request,
            actor=maya,
            deadline=local(BERLIN, 2026, 11, 27, 17, 0),
        )

    assert unchanged == [("on_deadline", 1, datetime(2026, 11, 20, 9, 0))]
    assert live(promotion_request) == [
        ("before_deadline", 11, datetime(2026, 11, 25, 9, 0)),
        ("on_deadline", 1, datetime(2026, 11, 27, 9, 0)),
    ]
    assert len(mailoutbox) == 1


def test_changing_time_zone_re_times_pending_reminders(maya):
    from requests_log.services import employee_profile_update

    with time_machine.travel(utc(2026, 11, 2, 9), tick=False):
        promotion_request = log_request(maya, occurred_at=local(BERLIN, 2026, 11, 2, 10, 0))
        employee_profile_update(user=maya, time_zone=ZoneInfo("America/New_York"))

    first = promotion_request.reminders.filter(state="scheduled").order_by("due_at").first()
    assert first.due_at.astimezone(NEW_YORK).time() == time(9, 0)


# --- Claiming and sending ----------------------------------------------------------------


@pytest.fixture
def due_reminder(maya):
    """A request with its first "no decision" reminder due right now."""
    with time_machine.travel(utc(2026, 11, 2, 9), tick=False):
        promotion_request = log_request(
            maya,
            occurred_at=local(BERLIN, 2026, 11, 2, 10, 0),
            promoted_item="the secret spring line",
            requester_name="Daniel Reyes",
        )
    reminder = promotion_request.reminders.get(number=1)
    traveller = time_machine.travel(reminder.due_at + timedelta(minutes=1), tick=False)
    traveller.start()
    yield reminder
    traveller.stop()


def claim(django_capture_on_commit_callbacks):
    dispatched = []
    with django_capture_on_commit_callbacks(execute=True):
        claimed = reminders.reminders_claim_due(dispatch=dispatched.extend)
    return claimed, dispatched


def test_sweep_claims_only_due_rows_and_dispatches_after_commit(
    due_reminder, django_capture_on_commit_callbacks
):
    claimed, dispatched = claim(django_capture_on_commit_callbacks)
    again, _ = claim(django_capture_on_commit_callbacks)

    assert claimed == dispatched == [due_reminder.pk]
    assert again == []
    due_reminder.refresh_from_db()
    assert due_reminder.state == Reminder.State.QUEUED
    assert Reminder.objects.filter(state="scheduled").count() == 2


def test_send_delivers_once_by_email_and_in_app_with_a_generic_subject(
    due_reminder, django_capture_on_commit_callbacks, mailoutbox
):
    claim(django_capture_on_commit_callbacks)

    first = reminders.reminder_send(reminder_id=due_reminder.pk)
    second = reminders.reminder_send(reminder_id=due_reminder.pk)

    assert (first, second) == ("sent", "not-claimed")
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.subject == "You have a pending decision"
    assert email.to == ["maya@example.com"]
    assert due_reminder.promotion_request.get_absolute_url() in email.body
    for secret in ("spring", "Daniel", "Reyes", "post"):
        assert secret not in email.subject
    assert "haven't posted" not in email.body
    assert list(Notification.objects.values_list("user__email", "reminder")) == [
        ("maya@example.com", due_reminder.pk)
    ]
    assert sorted(ReminderDelivery.objects.values_list("channel", flat=True)) == ["email", "in_app"]
    event = due_reminder.promotion_request.events.get(kind="reminder_sent")
    assert event.payload["kind"] == "no_decision"


def test_in_app_only_preference_sends_no_email(
    maya, due_reminder, django_capture_on_commit_callbacks, mailoutbox
):
    maya.no_decision_reminders = "app_only"
    maya.save()
    claim(django_capture_on_commit_callbacks)

    outcome = reminders.reminder_send(reminder_id=due_reminder.pk)

    assert (outcome, len(mailoutbox), Notification.objects.count()) == ("sent", 0, 1)


def test_turned_off_preference_cancels_the_reminder(
    maya, due_reminder, django_capture_on_commit_callbacks, mailoutbox
):
    maya.no_decision_reminders = "off"
    maya.save()
    claim(django_capture_on_commit_callbacks)

    outcome = reminders.reminder_send(reminder_id=due_reminder.pk)

    due_reminder.refresh_from_db()
    assert (outcome, due_reminder.state, len(mailoutbox)) == ("off", "cancelled", 0)


def test_decided_meanwhile_cancels_a_queued_reminder(
    maya, due_reminder, django_capture_on_commit_callbacks, mailoutbox
):
    claim(django_capture_on_commit_callbacks)
    PromotionRequest.objects.filter(pk=due_reminder.promotion_request_id).update(status="declined")

    outcome = reminders.reminder_send(reminder_id=due_reminder.pk)

    assert (outcome, len(mailoutbox)) == ("cancelled", 0)


def test_far_past_due_is_skipped_and_the_next_still_goes_out(
    due_reminder, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.REMINDER_STALE_AFTER = 3600
    second = due_reminder.promotion_request.reminders.get(number=2)

    with time_machine.travel(due_reminder.due_at + timedelta(days=2), tick=False):
        claimed, _ = claim(django_capture_on_commit_callbacks)
        outcomes = [reminders.reminder_send(reminder_id=pk) for pk in claimed]
    with time_machine.travel(second.due_at + timedelta(minutes=1), tick=False):
        claimed_later, _ = claim(django_capture_on_commit_callbacks)
        later = [reminders.reminder_send(reminder_id=pk) for pk in claimed_later]

    due_reminder.refresh_from_db()
    assert (outcomes, due_reminder.state) == (["skipped"], "skipped")
    assert (claimed_later, later, len(mailoutbox)) == ([second.pk], ["sent"], 1)


def test_transient_failure_releases_the_claim_and_keeps_in_app(
    due_reminder, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "tests.requests_log.test_reminders.RefusingBackend"
    claim(django_capture_on_commit_callbacks)

    with pytest.raises(reminders.TransientDeliveryError):
        reminders.reminder_send(reminder_id=due_reminder.pk)
    with pytest.raises(reminders.TransientDeliveryError):
        reminders.reminder_send(reminder_id=due_reminder.pk)

    due_reminder.refresh_from_db()
    assert (due_reminder.state, due_reminder.attempts) == ("queued", 2)
    assert "refused" in due_reminder.last_error
    assert Notification.objects.count() == 1
    assert not due_reminder.promotion_request.events.filter(kind="reminder_sent").exists()


def test_task_gives_up_after_its_last_retry_and_marks_failed(
    due_reminder, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "tests.requests_log.test_reminders.RefusingBackend"
    claim(django_capture_on_commit_callbacks)

    result = send_reminder.apply(args=[due_reminder.pk], retries=send_reminder.max_retries)

    due_reminder.refresh_from_db()
    assert result.get() == "failed"
    assert due_reminder.state == Reminder.State.FAILED


def test_task_run_twice_sends_once(due_reminder, django_capture_on_commit_callbacks, mailoutbox):
    claim(django_capture_on_commit_callbacks)

    outcomes = [send_reminder.apply(args=[due_reminder.pk]).get() for _ in range(2)]

    assert (outcomes, len(mailoutbox)) == (["sent", "not-claimed"], 1)


def test_stale_claims_are_taken_again_by_the_sweep(
    due_reminder, django_capture_on_commit_callbacks, settings
):
    settings.REMINDER_CLAIM_TIMEOUT = 60
    claim(django_capture_on_commit_callbacks)
    # A worker claimed it and died before finishing.
    Reminder.objects.filter(pk=due_reminder.pk).update(
        state="sending", claimed_at=timezone.now() - timedelta(minutes=5)
    )

    claimed, _ = claim(django_capture_on_commit_callbacks)

    assert claimed == [due_reminder.pk]
    assert reminders.reminder_send(reminder_id=due_reminder.pk) == "sent"


def test_sweep_marks_failed_when_attempts_are_used_up(
    due_reminder, django_capture_on_commit_callbacks, settings
):
    settings.REMINDER_QUEUE_TIMEOUT = 60
    Reminder.objects.filter(pk=due_reminder.pk).update(
        state="queued", queued_at=timezone.now() - timedelta(hours=1), attempts=6
    )

    claimed, _ = claim(django_capture_on_commit_callbacks)

    due_reminder.refresh_from_db()
    assert (claimed, due_reminder.state) == ([], "failed")


def test_send_reminders_command_sends_without_celery(
    due_reminder, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")

    due_reminder.refresh_from_db()
    assert (due_reminder.state, len(mailoutbox)) == ("sent", 1)


# --- Notifications -----------------------------------------------------------------------


def make_notifications(user, count):
    promotion_request = log_request(user)
    return Notification.objects.bulk_create(
        Notification(user=user, promotion_request=promotion_request, message=f"Notice {n}")
        for n in range(count)
    )


def test_bell_shows_unread_count_and_mark_all_read(client, maya):
    make_notifications(maya, 3)
    client.force_login(maya)

    before = client.get(reverse("requests_log:my-record")).content.decode()
    client.post(reverse("requests_log:notification-read-all"))
    after = client.get(reverse("requests_log:my-record")).content.decode()

    assert '3<span class="visually-hidden"> unread</span>' in before
    assert "unread-count" not in after
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_opening_a_notification_marks_it_read_and_goes_to_the_request(client, maya):
    notification = make_notifications(maya, 1)[0]
    client.force_login(maya)

    response = client.post(reverse("requests_log:notification-read", args=[notification.pk]))

    notification.refresh_from_db()
    assert response["Location"] == notification.promotion_request.get_absolute_url()
    assert notification.read_at is not None


@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_elses_notification_is_not_found(client, maya, method):
    notification = make_notifications(UserFactory(), 1)[0]
    client.force_login(maya)

    response = getattr(client, method)(
        reverse("requests_log:notification-read", args=[notification.pk])
    )

    notification.refresh_from_db()
    # A GET is refused before any lookup (405), whoever's notification it is.
    assert (response.status_code, notification.read_at) == ({"get": 405, "post": 404}[method], None)


@pytest.mark.parametrize("rows", [1, 30])
def test_notification_list_query_count_is_constant(client, maya, django_assert_num_queries, rows):
    make_notifications(maya, rows)
    client.force_login(maya)

    # session, user, count, page (with requests), unread count
    with django_assert_num_queries(5):
        response = client.get(reverse("requests_log:notification-list"))

    assert len(response.context["page_obj"]) == min(rows, 25)


def test_sweep_takes_a_backlog_larger_than_one_batch(maya, django_capture_on_commit_callbacks):
    promotion_request = log_request(maya)
    Reminder.objects.bulk_create(
        Reminder(
            promotion_request=promotion_request,
            employee=maya,
            kind=Reminder.Kind.NO_DECISION,
            number=100 + n,
            due_at=timezone.now() - timedelta(minutes=1),
        )
        for n in range(7)
    )
    dispatched = []

    with django_capture_on_commit_callbacks(execute=True):
        total = reminders.reminders_sweep(dispatch=dispatched.extend, batch=3)

    assert total == len(dispatched) == len(set(dispatched)) == 7


def test_reminder_email_has_a_stable_message_id(due_reminder, django_capture_on_commit_callbacks):
    first = reminders.reminder_email(due_reminder)
    second = reminders.reminder_email(due_reminder)

    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"] == f"<reminder-{due_reminder.pk}@127.0.0.1>"
