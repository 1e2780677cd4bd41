"""HR opening the same request in several tabs at once: one "viewed by HR" event, however
the openings interleave (the HrView unique constraint decides); and HR's kept counts
recounted while people write."""

import itertools

import pytest

from requests_log import hr_counts, hr_selectors, sharing
from requests_log.hr_selectors import Filters
from requests_log.models import HrView, TimelineEvent
from requests_log.timeline import verify_chain
from tests.factories import log_request
from tests.requests_log.manager.test_races import at_once

from .test_dashboard_cache import numbers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_request_opened_by_hr_in_several_tabs_at_once_is_viewed_once(employee, hr):
    mine = log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])

    results = at_once(lambda: sharing.hr_view_record(viewer=hr, promotion_request_id=mine.pk))

    assert sum(result is not None for result in results) == 1
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR).count() == 1
    assert HrView.objects.count() == 1
    assert verify_chain(employee=employee).ok


def test_sharing_all_twice_at_once_shares_once(employee):
    log_request(employee)
    log_request(employee, promoted_item="Second")

    results = at_once(lambda: sharing.promotion_requests_share(employee=employee))

    assert sum(result is not None for result in results) == 1
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.SHARED_WITH_HR).count() == 1
    assert verify_chain(employee=employee).ok


def test_recounts_racing_writes_leave_the_kept_counts_equal_to_an_afresh_count(
    hr, employee, second_employee
):
    """Two people log and share while two HR loads recount, all at once: no write's mark
    is lost to a recount that read before it committed."""
    turns = itertools.count()

    def work() -> None:
        turn = next(turns)
        if turn < 2:
            person = (employee, second_employee)[turn]
            for ask in range(3):
                logged = log_request(person, promoted_item=f"Ask {turn}-{ask}")
                sharing.promotion_requests_share(employee=person, request_pks=[logged.pk])
        else:
            for _ in range(10):
                hr_counts.counted_requests_refresh()

    at_once(work)
    hr_counts.counted_requests_refresh()

    kept, _ = hr_selectors._count(hr, Filters(), None)
    afresh, _ = hr_selectors.count_afresh(hr, Filters())
    assert kept.totals.total == 6
    assert numbers(kept) == numbers(afresh)
