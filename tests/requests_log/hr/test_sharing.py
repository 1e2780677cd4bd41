"""Sharing with HR: each share and each stop is one chained event naming its requests;
shared_with_hr_at is only a cache of them, replayed and checked by verify_chain."""

from datetime import timedelta

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from requests_log import access, chain, hr_selectors, sharing
from requests_log.models import HrView, PromotionRequest, TimelineEvent
from requests_log.timeline import verify_chain
from tests.factories import decline, log_request
from tests.support import as_owner

from .conftest import as_user, file_request

pytestmark = pytest.mark.django_db


def test_share_one_appends_an_event_naming_it_and_sets_the_cache(employee, hr):
    mine = log_request(employee)
    other = log_request(employee, promoted_item="Another thing")

    event = sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])

    mine.refresh_from_db()
    other.refresh_from_db()
    assert event.kind == TimelineEvent.Kind.SHARED_WITH_HR
    assert event.promotion_request_id == mine.pk
    assert (event.payload["requests"], event.payload["all"]) == ([mine.pk], False)
    assert mine.shared_with_hr_at == event.occurred_at
    assert other.shared_with_hr_at is None
    assert list(access.promotion_requests_for_hr(hr)) == [mine]
    assert verify_chain(employee=employee).ok


def test_her_dashboard_names_a_few_shared_requests_and_counts_the_rest(employee):
    for _ in range(8):
        log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=None)
    sharing.promotion_requests_share_stop(employee=employee, request_pks=None)

    html = as_user(employee).get(reverse("requests_log:my-record")).content.decode()
    history = html[html.index('class="list-unstyled small mb-0 sharing-history"') :]

    assert "Shared all you logged (#1, #2, #3, #4, #5 and 3 more)" in history
    assert "Stopped sharing all (#1, #2, #3, #4, #5 and 3 more)" in history
    assert "#8" not in history


def test_share_all_is_one_event_and_skips_filed_and_already_shared(employee, manager, hr):
    first = log_request(employee)
    second = log_request(employee, promoted_item="Second")
    filed = file_request(manager, employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[first.pk])

    event = sharing.promotion_requests_share(employee=employee)

    assert event.payload["requests"] == [second.pk]
    assert event.payload["all"] is True
    assert event.promotion_request_id == second.pk
    assert set(access.promotion_requests_for_hr(hr)) == {first, second, filed}
    assert sharing.promotion_requests_share(employee=employee) is None
    assert verify_chain(employee=employee).ok


def test_stop_hides_it_from_hr_and_is_one_event(employee, hr):
    first = log_request(employee)
    second = log_request(employee, promoted_item="Second")
    sharing.promotion_requests_share(employee=employee)

    stop = sharing.promotion_requests_share_stop(employee=employee)

    assert stop.kind == TimelineEvent.Kind.SHARING_WITHDRAWN
    assert sorted(stop.payload["requests"]) == sorted([first.pk, second.pk])
    assert stop.promotion_request_id is None
    assert not access.promotion_requests_for_hr(hr).exists()
    assert sharing.promotion_requests_share_stop(employee=employee) is None
    assert verify_chain(employee=employee).ok


def test_sharing_someone_elses_or_a_filed_request_is_refused(employee, second_employee, manager):
    theirs = log_request(second_employee)
    filed = file_request(manager, employee)

    for pks in ([theirs.pk], [filed.pk]):
        with pytest.raises(ValidationError):
            sharing.promotion_requests_share(employee=employee, request_pks=pks)

    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.SHARED_WITH_HR).exists()
    assert PromotionRequest.objects.filter(shared_with_hr_at__isnull=False).count() == 0


def test_only_hr_gets_an_hr_scope(employee, manager, administrator, second_employee):
    mine = log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])
    file_request(manager, second_employee)

    for viewer in (employee, second_employee, manager, administrator):
        assert not access.promotion_requests_for_hr(viewer).exists()
    assert list(access.promotion_requests_for(second_employee)) != []
    assert mine not in access.promotion_requests_for(second_employee)


def test_replay_folds_shares_and_stops_into_windows(employee):
    mine = log_request(employee)
    share = sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])
    stop = sharing.promotion_requests_share_stop(employee=employee, request_pks=[mine.pk])
    again = sharing.promotion_requests_share(employee=employee)
    replay = chain.Replay()
    for event in TimelineEvent.objects.filter(employee=employee).order_by("seq"):
        replay.add(
            {
                "seq": event.seq,
                "employee": event.employee_id,
                "request": event.promotion_request_id,
                "kind": event.kind,
                "actor": event.actor_id,
                "occurred_at": chain.utc_iso(event.occurred_at),
            },
            event.payload,
        )

    told = replay.requests[mine.pk]
    assert told["shared_with_hr_at"] == chain.utc_iso(again.occurred_at)
    assert [(w["from_seq"], w.get("to_seq")) for w in told["sharing"]] == [
        (share.seq, stop.seq),
        (again.seq, None),
    ]


def test_verify_chain_reports_a_cache_edited_behind_the_services_back(employee):
    mine = log_request(employee)

    with pgtrigger.ignore():
        as_owner(
            "UPDATE requests_log_promotionrequest SET shared_with_hr_at = now() WHERE id = %s",
            [mine.pk],
        )

    report = verify_chain(employee=employee)
    assert not report.ok
    assert any("shared_with_hr_at" in line for line in report.drift)


def test_hr_sees_the_record_so_far_then_nothing_recorded_while_not_shared(employee, hr):
    mine = log_request(employee)
    decline(mine, at=timezone.now() - timedelta(minutes=30))
    sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])
    sharing.promotion_requests_share_stop(employee=employee, request_pks=[mine.pk])
    from requests_log import services

    hidden = services.follow_up_add(
        promotion_request=mine,
        actor=employee,
        kind="other",
        occurred_at=timezone.now(),
        who="Me",
        what_was_said="A note while not sharing",
    )
    sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])

    shown = hr_selectors.hr_request_get(viewer=hr, pk=mine.pk)

    kinds = [event.kind for event in shown.events]
    assert kinds == [
        "logged",
        "decision",
        "shared_with_hr",
        "sharing_withdrawn",
        "shared_with_hr",
    ]
    assert hidden.pk not in {event.payload.get("follow_up") for event in shown.events}


def test_hr_view_is_coalesced_per_hr_user_request_and_day(employee, hr, time_machine):
    mine = log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])

    first = sharing.hr_view_record(viewer=hr, promotion_request_id=mine.pk)
    second = sharing.hr_view_record(viewer=hr, promotion_request_id=mine.pk)
    time_machine.move_to(timezone.now() + timedelta(days=1))
    next_day = sharing.hr_view_record(viewer=hr, promotion_request_id=mine.pk)

    assert first is not None
    assert first.kind == TimelineEvent.Kind.VIEWED_BY_HR
    assert first.payload["actor_name"] == hr.display_name
    assert second is None
    assert next_day is not None
    assert HrView.objects.count() == 2
    assert verify_chain(employee=employee).ok


def test_hr_view_of_an_unshared_request_is_a_404_and_appends_nothing(employee, hr, manager):
    from django.http import Http404

    mine = log_request(employee)
    before = TimelineEvent.objects.count()

    for viewer in (hr, manager, employee):
        with pytest.raises(Http404):
            sharing.hr_view_record(viewer=viewer, promotion_request_id=mine.pk)

    assert TimelineEvent.objects.count() == before
    assert not HrView.objects.exists()


def test_promotion_requests_for_hr_holds_filed_and_shared_only(
    hr, employee, manager, second_employee
):
    shared = log_request(employee)
    sharing.promotion_requests_share(employee=employee, request_pks=[shared.pk])
    private = log_request(employee, promoted_item="Private")
    filed = file_request(manager, second_employee)
    own = log_request(hr, promoted_item="Hana's own, unshared")

    assert set(access.promotion_requests_for(hr)) == {shared, filed, own}
    assert private not in access.promotion_requests_for_hr(hr)
    assert own not in access.promotion_requests_for_hr(hr)
