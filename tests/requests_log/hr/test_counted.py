"""HR's counts kept as the record changes (requests_log/hr_counts.py, migration 0019): the
trigger marks whose counts went stale, in the writing transaction; a refresh recounts
them with the afresh count's own rules; the kept numbers equal an afresh count under every
filter (each kind of write: test_dashboard_cache.test_each_write_shows_on_the_next_load)."""

import io
from datetime import date

import psycopg2
import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from boundary.models import User
from requests_log import access, hr_counts, hr_selectors, sharing
from requests_log.hr.tasks import refresh_hr_counts
from requests_log.hr_selectors import Filters
from requests_log.models import HrCountedRequest, HrCountsStale
from tests.factories import UserFactory, decline, log_request

from .test_dashboard_cache import (  # noqa: F401 (the record fixture)
    NOW,
    _where,
    numbers,
    record,
    shared_request,
)

pytestmark = pytest.mark.django_db


def stale() -> set[int]:
    return set(HrCountsStale.objects.values_list("employee_id", flat=True))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(department="Design"),
        Filters(department="Marketing"),
        Filters(date_from=date(2026, 10, 1), date_to=date(2026, 11, 30)),
        Filters(department="Design", date_to=date(2026, 10, 31)),
    ],
    ids=["all", "design", "marketing", "october-november", "design-until-october"],
)
@pytest.mark.usefixtures("record")
def test_kept_counts_equal_an_afresh_count(hr, filters):
    with time_machine.travel(NOW, tick=False):
        kept = hr_selectors.hr_dashboard(viewer=hr, filters=filters)
        afresh, _ = hr_selectors.count_afresh(hr, filters)

    assert kept.totals.total > 0
    assert numbers(kept) == numbers(afresh)


def test_each_write_marks_its_employee_and_a_refresh_takes_the_marks(employee, second_employee):
    hr_counts.counted_requests_refresh()  # what the fixtures wrote
    logged = log_request(employee)
    assert stale() == {employee.pk}

    assert hr_counts.counted_requests_refresh() == 1
    assert stale() == set()

    decline(logged, at=NOW)
    assert stale() == {employee.pk}
    hr_counts.counted_requests_refresh()

    User.objects.filter(pk=second_employee.pk).update(department=F("department"))
    assert stale() == set()  # the same department changes no count
    User.objects.filter(pk=second_employee.pk).update(department="Sales")
    assert stale() == {second_employee.pk}


@pytest.mark.parametrize("employees", [1, 30])
def test_a_recount_asks_as_many_queries_for_thirty_employees_as_for_one(employees):
    hr_counts.counted_requests_refresh()
    for _ in range(employees):
        shared_request(UserFactory(department="Design"))

    with CaptureQueriesContext(connection) as queries:
        recounted = hr_counts.counted_requests_refresh()

    assert recounted == employees
    # The lock, the marks taken, the old rows deleted, the new ones inserted.
    assert len(queries) == 4
    assert HrCountedRequest.objects.count() == employees


def test_a_long_backlog_is_recounted_a_batch_at_a_time(hr, monkeypatch):
    hr_counts.counted_requests_refresh()
    people = [UserFactory(department="Design") for _ in range(5)]
    for person in people:
        shared_request(person)  # a few marks each: the request, its sharing
    monkeypatch.setattr(hr_counts, "RECOUNT_BATCH", 3)

    with CaptureQueriesContext(connection) as queries:
        recounted = hr_counts.counted_requests_refresh()

    locks = [q for q in queries if "pg_advisory_xact_lock" in q["sql"]]
    assert recounted == 5  # each once: a batch takes every mark of its employees
    assert len(locks) > 1  # a transaction each
    assert stale() == set()
    kept, _ = hr_selectors._count(hr, Filters(), None)
    assert numbers(kept) == numbers(hr_selectors.count_afresh(hr, Filters())[0])


def test_only_what_hr_may_see_is_counted(employee):
    log_request(employee)  # kept to herself
    shared = shared_request(employee)
    hr_counts.counted_requests_refresh()
    assert list(HrCountedRequest.objects.values_list("promotion_request_id", flat=True)) == [
        shared.pk
    ]

    sharing.promotion_requests_share_stop(employee=employee, request_pks=[shared.pk])
    hr_counts.counted_requests_refresh()
    assert not HrCountedRequest.objects.exists()


def test_nobody_but_hr_reads_the_counted_requests(hr, employee, manager):
    shared_request(employee)
    hr_counts.counted_requests_refresh()

    readable = {
        user.role: access.hr_counted_requests_for(user).count() for user in (employee, manager, hr)
    }

    assert readable == {User.Role.EMPLOYEE: 0, User.Role.MANAGER: 0, User.Role.HR: 1}


def test_a_mark_written_during_a_refresh_outlives_it(employee, second_employee):
    shared_request(employee)
    other = psycopg2.connect(dbname=connection.settings_dict["NAME"], **_where())
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "INSERT INTO requests_log_hrcountsstale (employee_id) VALUES (%s)",
                [second_employee.pk],
            )
            # Not yet committed: the refresh neither waits for it nor takes it.
            assert hr_counts.counted_requests_refresh() == 1
        other.commit()
    finally:
        other.close()

    assert stale() == {second_employee.pk}
    assert HrCountedRequest.objects.filter(employee=employee).count() == 1


def test_one_refresh_at_a_time(employee):
    shared_request(employee)
    marked = stale()
    other = psycopg2.connect(dbname=connection.settings_dict["NAME"], **_where())
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [hr_counts.REFRESH_LOCK])
            with connection.cursor() as ours:
                ours.execute("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
                hr_counts.counted_requests_refresh()
        other.rollback()
    finally:
        other.close()

    assert employee.pk in marked
    assert stale() == marked  # the refresh that waited rolled back: the marks stay
    assert hr_counts.counted_requests_refresh() == len(marked)


def test_the_minutely_task_refreshes(employee):
    hr_counts.counted_requests_refresh()
    shared_request(employee)

    assert refresh_hr_counts() == 1
    assert stale() == set()
    assert settings.CELERY_BEAT_SCHEDULE["refresh-hr-counts"]["task"] == refresh_hr_counts.name


@pytest.mark.usefixtures("record")
def test_a_rebuild_recounts_everyone_after_a_load_that_marked_nobody(hr):
    with time_machine.travel(NOW, tick=False):
        hr_counts.counted_requests_refresh()
        expected = numbers(hr_selectors.count_afresh(hr, Filters())[0])
        # As after pg_restore --disable-triggers: rows of nobody's, and no marks.
        HrCountedRequest.objects.update(status="withdrawn", asked_after_decline=True)
        output = io.StringIO()

        call_command("hr_counts_rebuild", stdout=output)

        assert numbers(hr_selectors.hr_dashboard(viewer=hr, filters=Filters())) == expected
    assert "Recounted the requests of 2 employees" in output.getvalue()
    assert stale() == set()
