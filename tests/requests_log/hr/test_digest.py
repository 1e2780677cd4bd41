"""The weekly HR digest: one per HR user per week, claimed before sending, a generic
subject, overdue requests HR may see (by department and dates, no names), retried on
a transient failure, and sent once however many sweeps and senders run."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from requests_log import hr_digest, sharing
from requests_log.models import HrDigest
from tests.factories import UserFactory, log_request

from .conftest import file_request

pytestmark = pytest.mark.django_db

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def sweep(now: datetime) -> list[int]:
    found: list[int] = []
    hr_digest.hr_digests_sweep(dispatch=found.extend, now=now)
    return found


@pytest.fixture
def overdue(employee, manager, second_employee):
    """Maya's shared request and a request filed to Sam, both past their deadlines; and
    a private overdue one HR must never hear of."""
    past = MONDAY_9 - timedelta(days=2)
    shared = log_request(employee, deadline=past, occurred_at=past - timedelta(days=5))
    sharing.promotion_requests_share(employee=employee, request_pks=[shared.pk])
    log_request(
        employee, deadline=past, occurred_at=past - timedelta(days=5), promoted_item="Private"
    )
    filed = file_request(manager, second_employee)
    filed.deadline = past
    filed.save(update_fields=["deadline"])
    return shared, filed


def test_one_digest_per_hr_user_per_week_with_a_generic_subject(hr, overdue, mailoutbox):
    other_hr = UserFactory(role="hr", display_name="Ines Ali")

    first = sweep(MONDAY_9)
    again = sweep(MONDAY_9 + timedelta(hours=1))
    results = [hr_digest.hr_digest_send(digest_id=pk, now=MONDAY_9) for pk in first + again]

    assert len(first) == 2
    assert sorted(results) == ["not claimed", "not claimed", "sent", "sent"]
    assert sorted(m.to[0] for m in mailoutbox) == sorted([hr.email, other_hr.email])
    message = next(m for m in mailoutbox if m.to == [hr.email])
    assert message.subject == "Your weekly Boundary summary"
    assert "2 requests filed in Boundary or shared with HR are past their deadline" in message.body
    assert f"/hr/requests/{overdue[0].pk}/" in message.body
    for name in ("Maya Okafor", "Sam Ortiz", "Daniel Reyes", "Private"):
        assert name not in message.body
        assert name not in message.alternatives[0][0]
    assert HrDigest.objects.filter(state="sent", overdue_count=2).count() == 2
    assert sweep(MONDAY_9 + timedelta(days=2)) == []


def test_nothing_before_monday_morning_and_a_new_one_next_week(hr, mailoutbox):
    assert sweep(MONDAY_9.replace(hour=6)) == []

    [this_week] = sweep(MONDAY_9)
    hr_digest.hr_digest_send(digest_id=this_week, now=MONDAY_9)
    [next_week] = sweep(MONDAY_9 + timedelta(weeks=1))

    assert next_week != this_week
    assert HrDigest.objects.get(pk=next_week).week == (MONDAY_9 + timedelta(weeks=1)).date()


def test_a_transient_failure_puts_it_back_for_the_retry(hr, monkeypatch, mailoutbox):
    [digest_id] = sweep(MONDAY_9)

    def refuse(*args, **kwargs):
        raise TimeoutError("the mail server did not answer")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        with pytest.raises(hr_digest.TransientDigestError):
            hr_digest.hr_digest_send(digest_id=digest_id, now=MONDAY_9)
    retried = hr_digest.hr_digest_send(digest_id=digest_id, now=MONDAY_9)

    digest = HrDigest.objects.get(pk=digest_id)
    assert retried == "sent"
    assert (digest.state, digest.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_a_claim_left_by_a_crashed_sender_is_taken_again_later(hr, settings, mailoutbox):
    [digest_id] = sweep(MONDAY_9)
    HrDigest.objects.filter(pk=digest_id).update(state="sending", claimed_at=MONDAY_9)

    too_soon = sweep(MONDAY_9 + timedelta(seconds=60))
    later = sweep(MONDAY_9 + timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT + 60))
    sent = hr_digest.hr_digest_send(
        digest_id=digest_id, now=MONDAY_9 + timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT + 60)
    )

    assert (too_soon, later, sent) == ([], [digest_id], "sent")
    assert len(mailoutbox) == 1


def test_someone_no_longer_hr_gets_no_digest(hr, mailoutbox):
    [digest_id] = sweep(MONDAY_9)
    hr.role = "employee"
    hr.save(update_fields=["role"])

    assert hr_digest.hr_digest_send(digest_id=digest_id, now=MONDAY_9) == "not HR"
    assert mailoutbox == []


def test_the_tasks_run_twice_send_once(hr, overdue, monkeypatch, mailoutbox, time_machine):
    from requests_log.hr import tasks

    time_machine.move_to(MONDAY_9)
    queued: list[int] = []
    monkeypatch.setattr(tasks.send_hr_digest, "delay", queued.append)

    tasks.sweep_hr_digests()
    tasks.sweep_hr_digests()
    results = [tasks.send_hr_digest(digest_id) for digest_id in queued]

    assert len(queued) == 2
    assert sorted(results) == ["not claimed", "sent"]
    assert [m.to for m in mailoutbox] == [[hr.email]]
