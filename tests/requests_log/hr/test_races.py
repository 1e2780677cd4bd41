"""HR opening the same request in several tabs at once: one "viewed by HR" event, however
the openings interleave (the HrView unique constraint decides)."""

import pytest

from requests_log import sharing
from requests_log.models import HrView, TimelineEvent
from requests_log.timeline import verify_chain
from tests.factories import log_request
from tests.requests_log.manager.test_races import at_once

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
