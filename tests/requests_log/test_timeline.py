import threading
from io import StringIO

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import InternalError, ProgrammingError, connection, transaction

from requests_log import chain, services, timeline
from requests_log.models import FollowUp, TimelineEvent
from tests.factories import UserFactory, log_request
from tests.support import as_owner

APPEND_ONLY_TRIGGER = "requests_log.TimelineEvent:timelineevent_append_only"
TRUNCATE_TRIGGER = "requests_log.TimelineEvent:timelineevent_no_truncate"
TABLE = TimelineEvent._meta.db_table


def trigger_pgid(uri):
    model, trigger = pgtrigger.registry.registered(uri)[0]
    return trigger.get_pgid(model)


# What the outside test ran before its UPDATE: both timeline triggers ignored.
IGNORE_TRIGGERS = (
    "SET LOCAL pgtrigger.ignore = "
    f"'{{{trigger_pgid(APPEND_ONLY_TRIGGER)},{trigger_pgid(TRUNCATE_TRIGGER)}}}'"
)


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
    """What whoever runs the database could do: raw SQL as the role that owns the table,
    with the trigger ignored. The app's role cannot (see "Least privilege" below)."""
    with pgtrigger.ignore(APPEND_ONLY_TRIGGER):
        return as_owner(sql, params)


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


# --- Least privilege: the app's role ---------------------------------------------------
# The tests connect as the app does in production (tests/conftest.py): as a role that may
# only SELECT and INSERT events. The privilege is not there, so no session setting can
# give it back.


def test_tests_connect_as_an_app_role_that_owns_nothing(db, database_roles):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, session_user, rolsuper, tableowner"
            " FROM pg_roles, pg_tables WHERE rolname = current_user AND tablename = %s",
            [TABLE],
        )
        row = cursor.fetchone()

    assert row == (
        database_roles.app["USER"],
        database_roles.app["USER"],
        False,
        database_roles.owner["USER"],
    )


def test_app_role_may_insert_and_select_events(employee):
    log_request(employee)
    services.promotion_request_withdraw(promotion_request=log_request(employee), actor=employee)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, kind FROM {TABLE} ORDER BY seq")
        rows = cursor.fetchall()

    assert rows == [(1, "logged"), (2, "logged"), (3, "withdrawn")]


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET payload = '{{}}'::jsonb",
        f"UPDATE {TABLE} SET kind = kind",
        f"DELETE FROM {TABLE}",
        f"TRUNCATE {TABLE}",
        f"TRUNCATE {TABLE} CASCADE",
    ],
)
def test_app_role_cannot_change_events_with_the_triggers_ignored(events, statement):
    with (
        pytest.raises(ProgrammingError, match=f"permission denied for table {TABLE}"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"{IGNORE_TRIGGERS}; {statement}")

    assert list(TimelineEvent.objects.values_list("hash", flat=True)) == [e.hash for e in events]


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        (f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL", "must be owner of table"),
        (
            f'ALTER TABLE {TABLE} DISABLE TRIGGER "{trigger_pgid(APPEND_ONLY_TRIGGER)}"',
            "must be owner of table",
        ),
        (
            f'ALTER TABLE {TABLE} DISABLE TRIGGER "{trigger_pgid(TRUNCATE_TRIGGER)}"',
            "must be owner of table",
        ),
        (
            f'DROP TRIGGER "{trigger_pgid(APPEND_ONLY_TRIGGER)}" ON {TABLE}',
            "must be owner of (table|relation)",
        ),
        (f"ALTER TABLE {TABLE} OWNER TO CURRENT_USER", "must be owner of table"),
        ("SET LOCAL session_replication_role = replica", "permission denied to set parameter"),
    ],
)
def test_app_role_cannot_alter_or_switch_off_the_triggers(events, statement, refusal):
    with (
        pytest.raises(ProgrammingError, match=refusal),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


def test_app_role_cannot_become_the_owner(events, database_roles):
    with (
        pytest.raises(ProgrammingError, match="permission denied to set role"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f'SET LOCAL ROLE "{database_roles.owner["USER"]}"')


def test_app_role_cannot_grant_itself_update(events):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {TABLE} TO CURRENT_USER")
        cursor.execute(
            "SELECT has_table_privilege(%s, 'UPDATE'), has_table_privilege(%s, 'DELETE'),"
            " has_table_privilege(%s, 'TRUNCATE')",
            [TABLE] * 3,
        )

        assert cursor.fetchone() == (False, False, False)


# --- The triggers: a second line of defence, against the owner too ----------------------


def test_raw_sql_update_refused_by_database(events):
    with (
        pytest.raises(InternalError, match="Cannot update or delete rows"),
        transaction.atomic(),
    ):
        as_owner(
            f"UPDATE {TABLE} SET payload = %s::jsonb WHERE id = %s",
            ['{"quantity": 40}', events[1].pk],
        )

    assert TimelineEvent.objects.get(pk=events[1].pk).payload == events[1].payload


def test_raw_sql_update_of_every_row_refused_by_database(events):
    with (
        pytest.raises(InternalError, match="Cannot update or delete rows"),
        transaction.atomic(),
    ):
        as_owner(f"UPDATE {TABLE} SET kind = 'exported'")

    assert set(TimelineEvent.objects.values_list("kind", flat=True)) == {
        "logged",
        "corrected",
        "withdrawn",
    }


def test_raw_sql_delete_refused_by_database(events):
    with (
        pytest.raises(InternalError, match="Cannot update or delete rows"),
        transaction.atomic(),
    ):
        as_owner(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])

    assert event_count() == 3


def test_raw_sql_truncate_refused_by_database(events):
    with connection.cursor() as cursor:
        # TRUNCATE refuses to run while deferred foreign-key checks are pending, as they
        # are in a test's transaction after any insert: run them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    with (
        pytest.raises(InternalError, match="Cannot truncate the append-only timeline"),
        transaction.atomic(),
    ):
        as_owner(f"TRUNCATE {TABLE} CASCADE")

    assert event_count() == 3


def test_owner_may_ignore_the_triggers(events):
    """Why the app must not connect as the owner: for the owner, ignoring the trigger is
    enough (verify_chain then finds the change: tests below)."""
    updated = run_bypassing_trigger(f"UPDATE {TABLE} SET kind = 'exported'", None)

    assert updated == 3
    assert set(TimelineEvent.objects.values_list("kind", flat=True)) == {"exported"}


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
