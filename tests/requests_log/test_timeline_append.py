"""timeline_append's round trips: the lock, the bookkeeping and the head read share one,
the INSERT takes the other; and a writer that waited for the lock still links to the
event committed while it waited."""

import threading
import time
from datetime import date, datetime

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from requests_log import chain, timeline
from requests_log.models import ReceiptSchedule, TimelineEvent
from tests.factories import UserFactory

REMINDER = TimelineEvent.Kind.REMINDER_SENT


def append(employee, **payload) -> TimelineEvent:
    with transaction.atomic():
        return timeline.timeline_append(
            employee=employee, kind=REMINDER, actor=employee, payload=payload
        )


def stored_values(event: TimelineEvent) -> list:
    return [getattr(event, field.attname) for field in TimelineEvent._meta.concrete_fields]


def test_timeline_append_stores_the_event_it_returns(employee):
    first = append(employee, n=1)

    second = append(
        employee,
        on=date(2025, 3, 1),
        at=datetime(2025, 3, 1, 9, 30, tzinfo=timezone.get_current_timezone()),
        said="Ça ne se refuse pas « vraiment » 💬",
        accounts=[1, 2],
        nested={"b": None, "a": [True, 1.5]},
    )

    stored = TimelineEvent.objects.get(pk=second.pk)
    assert stored_values(stored) == stored_values(second)
    assert (stored.seq, stored.prev_hash) == (2, first.hash)
    assert stored.payload["on"] == "2025-03-01"
    assert stored.payload["at"] == "2025-03-01T09:30:00.000000Z"
    assert timeline.verify_chain(employee=employee).ok


def test_timeline_append_sends_the_save_signals(employee):
    sent = []

    def record(signal_name):
        def receiver(sender, instance, **kwargs):
            sent.append((signal_name, instance.pk, kwargs.get("created"), kwargs["raw"]))

        return receiver

    on_pre, on_post = record("pre_save"), record("post_save")
    pre_save.connect(on_pre, sender=TimelineEvent)
    post_save.connect(on_post, sender=TimelineEvent)
    try:
        event = append(employee, n=1)
    finally:
        pre_save.disconnect(on_pre, sender=TimelineEvent)
        post_save.disconnect(on_post, sender=TimelineEvent)

    assert sent == [("pre_save", None, None, False), ("post_save", event.pk, True, False)]


def test_timeline_append_takes_two_queries_with_its_bookkeeping(
    employee, django_assert_num_queries
):
    append(employee, n=1)

    with transaction.atomic(), django_assert_num_queries(2):
        timeline.timeline_append(employee=employee, kind=REMINDER, actor=None, payload={"n": 2})

    assert ReceiptSchedule.objects.get(employee=employee).due_at is not None


def test_timeline_append_without_bookkeeping_leaves_the_schedule_alone(employee, monkeypatch):
    monkeypatch.setattr(timeline, "APPEND_BOOKKEEPING", ())

    append(employee, n=1)

    assert not ReceiptSchedule.objects.filter(employee=employee).exists()


def test_chain_head_locked_of_an_empty_chain_is_genesis(employee):
    with transaction.atomic():
        head = timeline.chain_head_locked(employee_id=employee.pk)

    assert head == (0, chain.GENESIS_HASH)


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_timeline_append_that_waited_for_the_lock_links_to_the_event_committed_meanwhile():
    """The fork a head read in the lock's own statement would make: its snapshot predates
    the wait, so it would miss the event the lock holder committed."""
    employee = UserFactory()
    append(employee, n=1)
    holder_appended, release, results, errors = (
        threading.Event(),
        threading.Event(),
        {},
        [],
    )

    def holder():
        try:
            with transaction.atomic():
                results["holder"] = timeline.timeline_append(
                    employee=employee, kind=REMINDER, actor=None, payload={"n": 2}
                )
                holder_appended.set()
                release.wait(timeout=30)
        except Exception as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    def waiter():
        try:
            with transaction.atomic():
                results["waiter"] = timeline.timeline_append(
                    employee=employee, kind=REMINDER, actor=None, payload={"n": 3}
                )
        except Exception as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    threads[0].start()
    assert holder_appended.wait(timeout=30)
    threads[1].start()
    deadline = time.monotonic() + 30
    while not waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.01)
    waited = waiting_for_a_lock()
    release.set()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert waited
    assert (results["holder"].seq, results["waiter"].seq) == (2, 3)
    assert results["waiter"].prev_hash == results["holder"].hash
    assert timeline.verify_chain(employee=employee).ok
