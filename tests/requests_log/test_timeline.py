import threading
from io import StringIO

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import InternalError, connection, transaction

from requests_log import chain, services, timeline
from requests_log.models import FollowUp, TimelineEvent
from tests.factories import UserFactory, log_request

APPEND_ONLY_TRIGGER = "requests_log.TimelineEvent:timelineevent_append_only"
TABLE = TimelineEvent._meta.db_table


@pytest.fixture
def events(employee):
    """Three events on the employee's chain: logged, corrected, withdrawn."""
    promotion_request = log_request(employee, quantity=3)
    services.promotion_request_correct(
        promotion_request=promotion_request, actor=employee, quantity=4
    )
    services.promotion_request_withdraw(promotion_request=promotion_request, actor=employee)
    return list(TimelineEvent.objects.filter(employee=employee).order_by("seq"))


def run_bypassing_trigger(sql, params):
    """What someone with database access could do: raw SQL with the trigger ignored."""
    with pgtrigger.ignore(APPEND_ONLY_TRIGGER), connection.cursor() as cursor:
        cursor.execute(sql, params)


def event_count():
    return TimelineEvent.objects.count()


# --- Append-only ------------------------------------------------------------------------


def test_event_save_on_existing_event_raises(events):
    event = events[0]
    event.payload = {"promoted_item": "Something else"}

    with pytest.raises(ValidationError, match="append-only"):
        event.save()

    assert TimelineEvent.objects.get(pk=event.pk).payload["promoted_item"] == (
        "The new product line"
    )


def test_event_delete_raises(events):
    with pytest.raises(ValidationError, match="append-only"):
        events[0].delete()

    assert event_count() == 3


def test_queryset_update_raises(events):
    with pytest.raises(ValidationError, match="append-only"):
        TimelineEvent.objects.filter(pk=events[0].pk).update(kind="exported")

    assert TimelineEvent.objects.get(pk=events[0].pk).kind == "logged"


def test_queryset_bulk_update_raises(events):
    events[0].kind = "exported"

    # bulk_update opens no savepoint of its own: give it one so the test can go on.
    with pytest.raises(ValidationError, match="append-only"), transaction.atomic():
        TimelineEvent.objects.bulk_update([events[0]], ["kind"])

    assert TimelineEvent.objects.get(pk=events[0].pk).kind == "logged"


def test_queryset_delete_raises(events):
    with pytest.raises(ValidationError, match="append-only"):
        TimelineEvent.objects.all().delete()

    assert event_count() == 3


def test_raw_sql_update_refused_by_database(events):
    with (
        pytest.raises(InternalError, match="Cannot update or delete rows"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {TABLE} SET payload = %s::jsonb WHERE id = %s",
            ['{"quantity": 40}', events[1].pk],
        )

    assert TimelineEvent.objects.get(pk=events[1].pk).payload == events[1].payload


def test_raw_sql_update_of_every_row_refused_by_database(events):
    with (
        pytest.raises(InternalError, match="Cannot update or delete rows"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {TABLE} SET kind = 'exported'")

    assert set(TimelineEvent.objects.values_list("kind", flat=True)) == {
        "logged",
        "corrected",
        "withdrawn",
    }


def test_raw_sql_delete_refused_by_database(events):
    with (
        pytest.raises(InternalError, match="Cannot update or delete rows"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])

    assert event_count() == 3


def test_raw_sql_truncate_refused_by_database(events, truncate_trigger_enabled):
    with (
        pytest.raises(InternalError, match="Cannot truncate the append-only timeline"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {TABLE} CASCADE")

    assert event_count() == 3


# --- Verifying the chain ----------------------------------------------------------------


def test_verify_chain_ok_with_count_and_head(employee, events):
    report = timeline.verify_chain(employee=employee)

    assert report == timeline.ChainReport(ok=True, events_checked=3, head=events[-1].hash)
    assert [e.prev_hash for e in events] == [chain.GENESIS_HASH, events[0].hash, events[1].hash]


def test_verify_chain_of_employee_without_events_is_ok_and_empty(employee):
    report = timeline.verify_chain(employee=employee)

    assert report == timeline.ChainReport(ok=True, events_checked=0, head=chain.GENESIS_HASH)


def test_verify_chain_reports_changed_payload_value(employee, events):
    run_bypassing_trigger(
        f"UPDATE {TABLE} SET payload = jsonb_set(payload, '{{changes,quantity,new}}', '40') "
        "WHERE id = %s",
        [events[1].pk],
    )

    report = timeline.verify_chain(employee=employee)

    assert TimelineEvent.objects.get(pk=events[1].pk).payload["changes"]["quantity"]["new"] == 40
    assert report == timeline.ChainReport(
        ok=False,
        events_checked=2,
        head=events[0].hash,
        broken_seq=2,
        reason="its content does not match its hash (it was changed)",
    )


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("kind", "reminder_sent"),
        ("occurred_at", "2001-01-01T00:00:00Z"),
        ("recorded_at", "2001-01-01T00:00:00Z"),
        ("salt", "00" * 32),
    ],
)
def test_verify_chain_reports_changed_header_field(employee, events, column, value):
    run_bypassing_trigger(
        f"UPDATE {TABLE} SET {column} = %s WHERE id = %s",
        [value, events[2].pk],
    )

    report = timeline.verify_chain(employee=employee)

    assert (report.ok, report.broken_seq, report.reason) == (
        False,
        3,
        "its content does not match its hash (it was changed)",
    )


@pytest.mark.parametrize("stored", ['{"who":"' + "00" * 32 + '"}', "not json"])
def test_verify_chain_reports_changed_field_salts(employee, events, stored):
    run_bypassing_trigger(
        f"UPDATE {TABLE} SET field_salts = %s WHERE id = %s", [stored, events[1].pk]
    )

    report = timeline.verify_chain(employee=employee)

    assert (report.ok, report.broken_seq, report.reason) == (
        False,
        2,
        "its stored field salts do not derive from its salt (they were changed)",
    )


def test_verify_chain_reports_missing_event(employee, events):
    run_bypassing_trigger(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])

    report = timeline.verify_chain(employee=employee)

    assert report == timeline.ChainReport(
        ok=False,
        events_checked=2,
        head=events[0].hash,
        broken_seq=3,
        reason="event #2 is missing (found #3 next)",
    )


def test_verify_chain_reports_changed_prev_hash_link(employee, events):
    run_bypassing_trigger(
        f"UPDATE {TABLE} SET prev_hash = %s WHERE id = %s",
        ["f" * 64, events[2].pk],
    )

    report = timeline.verify_chain(employee=employee)

    assert report == timeline.ChainReport(
        ok=False,
        events_checked=3,
        head=events[1].hash,
        broken_seq=3,
        reason="does not link to the event before it",
    )


def test_verify_chain_of_one_employee_unaffected_by_tampering_with_another(employee, events):
    colleague = UserFactory()
    log_request(colleague)
    run_bypassing_trigger(
        f"UPDATE {TABLE} SET payload = '{{}}'::jsonb WHERE id = %s",
        [events[0].pk],
    )

    reports = [timeline.verify_chain(employee=p) for p in (employee, colleague)]

    assert [(r.ok, r.broken_seq) for r in reports] == [(False, 1), (True, None)]


# --- Concurrent writers -----------------------------------------------------------------


def run_in_threads(target, count):
    """Run target(i) in `count` threads started together; return their exceptions."""
    barrier = threading.Barrier(count)
    errors = []

    def worker(index):
        try:
            barrier.wait()
            target(index)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_timeline_concurrent_appends_make_one_chain_without_gaps():
    employee = UserFactory()

    def append_ten(index):
        for i in range(10):
            with transaction.atomic():
                timeline.timeline_append(
                    employee=employee,
                    kind=TimelineEvent.Kind.REMINDER_SENT,
                    actor=None,
                    payload={"thread": index, "i": i},
                )

    errors = run_in_threads(append_ten, 8)

    seqs = list(TimelineEvent.objects.filter(employee=employee).values_list("seq", flat=True))
    report = timeline.verify_chain(employee=employee)
    assert errors == []
    assert seqs == list(range(1, 81))
    assert (report.ok, report.events_checked) == (True, 80)


@pytest.mark.django_db(transaction=True)
def test_timeline_concurrent_logging_for_one_employee_makes_one_chain():
    employee = UserFactory()

    def log_ten(index):
        for i in range(10):
            log_request(employee, promoted_item=f"Item {index}-{i}")

    errors = run_in_threads(log_ten, 8)

    seqs = list(TimelineEvent.objects.filter(employee=employee).values_list("seq", flat=True))
    report = timeline.verify_chain(employee=employee)
    assert [repr(e) for e in errors] == []
    assert seqs == list(range(1, 81))
    assert (report.ok, report.events_checked) == (True, 80)


@pytest.mark.django_db(transaction=True)
def test_timeline_concurrent_follow_ups_on_one_request_make_one_chain():
    employee = UserFactory()
    promotion_request = log_request(employee)

    def add_ten(index):
        for i in range(10):
            services.follow_up_add(
                promotion_request=promotion_request,
                actor=employee,
                kind=FollowUp.Kind.ASKED_AGAIN,
                occurred_at=promotion_request.occurred_at,
                who="Daniel Reyes",
                what_was_said=f"Reminder {index}-{i}",
            )

    errors = run_in_threads(add_ten, 8)

    seqs = list(TimelineEvent.objects.filter(employee=employee).values_list("seq", flat=True))
    assert [repr(e) for e in errors] == []
    assert seqs == list(range(1, 82))
    assert timeline.verify_chain(employee=employee).ok


# --- The verify_chain command -----------------------------------------------------------


def test_verify_chain_command_prints_ok_for_every_chain(employee, events):
    colleague = UserFactory(email="ana@example.com")
    log_request(colleague)
    UserFactory(email="nobody@example.com")  # no events: not listed
    out = StringIO()

    call_command("verify_chain", stdout=out)

    colleague_head = TimelineEvent.objects.get(employee=colleague).hash
    assert out.getvalue().splitlines() == [
        f"OK     maya@example.com: 3 events, head {events[-1].hash}",
        f"OK     ana@example.com: 1 events, head {colleague_head}",
    ]


def test_verify_chain_command_reports_first_broken_event_and_exits_1(employee, events):
    colleague = UserFactory(email="ana@example.com")
    log_request(colleague)
    run_bypassing_trigger(
        f"UPDATE {TABLE} SET payload = '{{}}'::jsonb WHERE id = %s",
        [events[1].pk],
    )
    out = StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("verify_chain", stdout=out)

    lines = out.getvalue().splitlines()
    assert excinfo.value.returncode == 1
    assert lines[0] == (
        "BROKEN maya@example.com: event #2 its content does not match its hash (it was changed)"
    )
    assert lines[1].startswith("OK     ana@example.com: 1 events")


def test_verify_chain_command_for_one_employee(employee, events):
    log_request(UserFactory(email="ana@example.com"))
    out = StringIO()

    call_command("verify_chain", "--employee", "MAYA@example.com", stdout=out)

    assert out.getvalue().splitlines() == [
        f"OK     maya@example.com: 3 events, head {events[-1].hash}"
    ]


def test_verify_chain_command_unknown_employee_is_an_error(db):
    with pytest.raises(CommandError, match=r"No user with the email ghost@example\.com"):
        call_command("verify_chain", "--employee", "ghost@example.com", stdout=StringIO())
