"""The dashboard's numbers on a hand-built record, and its cache: kept under the version of
what it counts, so each write that changes a number shows on the next load, and a passing
deadline too."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from boundary.models import User
from requests_log import hr_selectors, services, sharing
from requests_log.hr_selectors import Dashboard, Filters
from requests_log.models import FollowUp, PromotionRequest
from tests.factories import decline, log_request

from .conftest import file_request

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def shared_request(employee: User, **overrides) -> PromotionRequest:
    logged = log_request(employee, **overrides)
    sharing.promotion_requests_share(employee=employee, request_pks=[logged.pk])
    return logged


def numbers(board: Dashboard) -> dict[str, object]:
    return {
        "totals": (board.totals.total, board.totals.ordered),
        "departments": {b.label: (b.total, b.ordered) for b in board.by_department},
        "months": {b.key: b.total for b in board.by_month},
        "patterns": {pattern.key: count for pattern, count in board.patterns},
    }


def loaded(client) -> dict[str, object]:
    """The numbers the page counted, checked against what it draws (kept or not)."""
    response = client.get(reverse("hr:dashboard"))
    board, html = response.context["board"], response.content.decode()
    drawn = {
        "counts": [int(n) for n in re.findall(r'class="d-block hr-count">(\d+)<', html)],
        "patterns": [int(n) for n in re.findall(r'rounded-pill">(\d+)<', html)],
        "rows": re.findall(r'<th scope="row">([^<]+)<', html),
    }
    assert drawn == {
        "counts": board.totals.ordered,
        "patterns": [count for _, count in board.patterns],
        "rows": [b.label for b in board.by_month] + [b.label for b in board.by_department],
    }
    return numbers(board)


@pytest.fixture
def record(employee, second_employee, manager) -> dict[str, PromotionRequest]:
    """Maya (Design) shares three asks from Sept to Nov, one declined and asked again;
    Daniel files one to Sam (Marketing); one Maya keeps to herself."""
    with time_machine.travel(NOW, tick=False):
        first = shared_request(employee, occurred_at=NOW - timedelta(days=70))
        decline(first, at=NOW - timedelta(days=69))
        again = shared_request(
            employee,
            occurred_at=NOW - timedelta(days=40),
            framing=PromotionRequest.Framing.REQUIRED,
            deadline=NOW - timedelta(days=1),
        )
        later = shared_request(
            employee,
            requester_name="Lee Park",
            occurred_at=NOW - timedelta(days=5),
            deadline=NOW + timedelta(days=2),
        )
        filed = file_request(manager, second_employee)
        log_request(employee, framing=PromotionRequest.Framing.REQUIRED)  # never shared
    return {"first": first, "again": again, "later": later, "filed": filed}


def test_the_dashboard_pins_its_numbers(hana, record):
    with time_machine.travel(NOW, tick=False):
        first_load, second_load = loaded(hana), loaded(hana)

    # Counts in the order pending, overdue, negotiating, accepted, declined.
    assert first_load == {
        "totals": (4, [3, 1, 0, 0, 1]),
        "departments": {"Design": (3, [2, 1, 0, 0, 1]), "Marketing": (1, [1, 0, 0, 0, 0])},
        "months": {"2026-09": 1, "2026-10": 1, "2026-11": 2},
        "patterns": {
            "asked-after-decline": 1,
            "closed-account": 0,
            "required": 1,
            "disclosure-pending": 0,
        },
    }
    assert second_load == first_load


def test_a_second_load_asks_only_the_version(hr, record):
    version = hr_selectors.hr_counts_version()
    with time_machine.travel(NOW, tick=False):
        hr_selectors.hr_dashboard(viewer=hr, filters=Filters(), version=version)
        hr_selectors.department_choices(viewer=hr, version=version)
        with CaptureQueriesContext(connection) as queries:
            again = hr_selectors.hr_dashboard(viewer=hr, filters=Filters(), version=version)
            departments = hr_selectors.department_choices(viewer=hr, version=version)
        afresh, _ = hr_selectors.count_afresh(hr, Filters())

    assert len(queries) == 0  # both kept under the version the page reads first
    assert numbers(again) == numbers(afresh)
    assert departments == ["Design", "Marketing"]


def share_the_private_one(record, employee, manager) -> None:
    hidden = PromotionRequest.objects.get(employee=employee, shared_with_hr_at__isnull=True)
    sharing.promotion_requests_share(employee=employee, request_pks=[hidden.pk])


def stop_sharing(record, employee, manager) -> None:
    sharing.promotion_requests_share_stop(employee=employee, request_pks=[record["again"].pk])


def file_another(record, employee, manager) -> None:
    file_request(manager, record["filed"].employee)


def decline_the_filed_one(record, employee, manager) -> None:
    decline(record["filed"], at=NOW - timedelta(hours=1))


def correct_the_requester(record, employee, manager) -> None:
    """Lee Park was the same person as the first ask's: now asked again after a decline."""
    services.promotion_request_correct(
        promotion_request=record["later"],
        actor=employee,
        requester_name=record["first"].requester_name,
    )


def pick_the_same_person_on_each(record, employee, manager) -> None:
    """Each of Maya's shared asks linked to Daniel, picked rather than typed: Lee Park's
    is now asked again after a decline too."""
    for name in ("first", "again", "later"):
        services.promotion_request_correct(
            promotion_request=record[name], actor=employee, requester_user=manager
        )


def withdraw_the_filed_one(record, employee, manager) -> None:
    services.promotion_request_withdraw_filed(promotion_request=record["filed"], manager=manager)


def press_after_the_decline(record, employee, manager) -> None:
    services.follow_up_add(
        promotion_request=record["first"],
        actor=employee,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=NOW - timedelta(days=60),
        who="Daniel",
        what_was_said="Think again.",
    )


def move_to_another_department(record, employee, manager) -> None:
    User.objects.filter(pk=employee.pk).update(department="Sales")


@pytest.mark.parametrize(
    "write",
    [
        share_the_private_one,
        stop_sharing,
        file_another,
        decline_the_filed_one,
        correct_the_requester,
        pick_the_same_person_on_each,
        withdraw_the_filed_one,
        press_after_the_decline,
        move_to_another_department,
    ],
)
def test_each_write_shows_on_the_next_load(
    hana, hr, record, employee, manager, write: Callable[..., None]
):
    with time_machine.travel(NOW, tick=False):
        before = loaded(hana)

        write(record, employee, manager)
        after = loaded(hana)

        assert after != before
        assert after == numbers(hr_selectors.count_afresh(hr, Filters())[0])


def test_a_passing_deadline_shows_as_overdue_on_the_next_load(hana, record):
    with time_machine.travel(NOW, tick=False):
        before = loaded(hana)
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        after = loaded(hana)

    assert (before["totals"], after["totals"]) == ((4, [3, 1, 0, 0, 1]), (4, [3, 2, 0, 0, 1]))


def test_nothing_is_kept_while_another_write_is_in_progress():
    other = psycopg2.connect(dbname=connection.settings_dict["NAME"], **_where())
    try:
        with other.cursor() as cursor:
            # A statement's trigger fires even when it changes no row.
            cursor.execute("UPDATE requests_log_decision SET kind = kind WHERE false")
            during = hr_selectors.hr_counts_version()
        other.rollback()
        after = hr_selectors.hr_counts_version()
    finally:
        other.close()

    assert during is None
    assert isinstance(after, int)


def _where() -> dict[str, object]:
    settings = connection.settings_dict
    return {
        key: settings[name]
        for key, name in (("host", "HOST"), ("port", "PORT"), ("user", "USER"))
        if settings[name]
    }
