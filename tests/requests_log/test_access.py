"""requests_log/access.py: what each viewer may see and do. The access matrix
(test_access_matrix.py) checks every URL; these check the scopes and predicates."""

import pytest
from django.http import Http404

from boundary.models import User
from requests_log import access, services
from requests_log.models import Notification, PromotionRequest
from tests.factories import UserFactory, log_request


def test_own_requests_are_the_viewers_alone(employee, second_employee):
    mine = log_request(employee)
    log_request(second_employee)

    assert list(access.own_promotion_requests(employee)) == [mine]
    assert list(access.promotion_requests_for(employee)) == [mine]


def test_a_logged_request_naming_a_manager_is_not_the_managers_to_see(employee, manager):
    """Naming Daniel as "who asked" does not give him the record: only filing does."""
    log_request(employee, requester_user=manager)

    assert not access.promotion_requests_for(manager).exists()
    assert not access.promotion_requests_filed_by(manager).exists()


def test_a_filed_request_is_seen_by_whoever_filed_it(employee, manager, other_manager):
    filed = log_request(employee)
    PromotionRequest.objects.filter(pk=filed.pk).update(
        source=PromotionRequest.Source.FILED_IN_APP, filed_by=manager
    )

    assert list(access.promotion_requests_filed_by(manager)) == [filed]
    assert list(access.promotion_requests_for(manager)) == [filed]
    assert not access.promotion_requests_for(other_manager).exists()


def test_get_or_404_refuses_missing_and_not_yours_alike(employee, second_employee):
    theirs = log_request(second_employee)
    scope = access.own_promotion_requests(employee)

    with pytest.raises(Http404) as not_yours:
        access.get_or_404(scope, pk=theirs.pk)
    with pytest.raises(Http404) as missing:
        access.get_or_404(scope, pk=theirs.pk + 1000)
    with pytest.raises(Http404) as malformed:
        access.get_or_404(scope, pk="not a number")

    assert str(not_yours.value) == str(missing.value) == str(malformed.value)


def test_decisions_and_notifications_are_the_owners(employee, manager):
    promotion_request = log_request(employee)
    decision = services.decision_record(
        promotion_request=promotion_request, decided_by=employee, kind="decline"
    )
    notice = Notification.objects.create(user=employee, message="A reminder")

    assert list(access.decisions_for(employee)) == [decision]
    assert list(access.notifications_for(employee)) == [notice]
    assert not access.decisions_for(manager).exists()
    assert not access.notifications_for(manager).exists()


def test_reports_are_direct_active_reports_of_a_filing_role(
    employee, second_employee, manager, other_manager
):
    UserFactory(manager=manager, is_active=False)

    assert set(access.reports_of(manager)) == {employee, second_employee}
    assert not access.reports_of(other_manager).exists()
    # An employee whose "manager" field somehow points at a plain employee files nothing.
    plain = UserFactory(role=User.Role.EMPLOYEE)
    UserFactory(manager=plain)
    assert not access.reports_of(plain).exists()


def test_can_file_for_own_reports_only(employee, manager, other_manager, hr):
    assert access.can_file_for(manager, employee)
    assert not access.can_file_for(other_manager, employee)
    assert not access.can_file_for(hr, employee)
    assert not access.can_file_for(employee, employee)
    employee.is_active = False
    assert not access.can_file_for(manager, employee)


def test_can_decide_until_withdrawn_and_only_the_owner(employee, manager):
    promotion_request = log_request(employee)

    assert access.can_decide(employee, promotion_request)
    assert not access.can_decide(manager, promotion_request)
    services.promotion_request_withdraw(promotion_request=promotion_request, actor=employee)
    promotion_request.refresh_from_db()
    assert not access.can_decide(employee, promotion_request)


def test_can_correct_only_what_the_employee_logged(employee, manager):
    logged = log_request(employee)
    filed = log_request(employee)
    PromotionRequest.objects.filter(pk=filed.pk).update(
        source=PromotionRequest.Source.FILED_IN_APP, filed_by=manager
    )
    filed.refresh_from_db()

    assert access.can_correct(employee, logged)
    assert not access.can_correct(employee, filed)
    assert not access.can_correct(manager, logged)


def test_can_withdraw_filed_only_the_filer_while_open(employee, manager, other_manager):
    filed = log_request(employee)
    PromotionRequest.objects.filter(pk=filed.pk).update(
        source=PromotionRequest.Source.FILED_IN_APP, filed_by=manager
    )
    filed.refresh_from_db()

    assert access.can_withdraw_filed(manager, filed)
    assert not access.can_withdraw_filed(other_manager, filed)
    assert not access.can_withdraw_filed(employee, filed)
    filed.status = PromotionRequest.Status.DECLINED
    assert not access.can_withdraw_filed(manager, filed)


def test_requester_picker_offers_only_people_related_to_the_employee(
    employee, manager, other_manager, hr
):
    skip_level = UserFactory(role=User.Role.MANAGER, display_name="Skip Level")
    manager.manager = skip_level
    manager.save(update_fields=["manager"])
    named_before = UserFactory(role=User.Role.MANAGER, display_name="Named Before")
    log_request(employee, requester_user=named_before)
    filer = UserFactory(role=User.Role.MANAGER, display_name="Filed Once")
    PromotionRequest.objects.filter(pk=log_request(employee).pk).update(
        source=PromotionRequest.Source.FILED_IN_APP, filed_by=filer
    )
    UserFactory(role=User.Role.MANAGER, display_name="A stranger")
    without_manager = UserFactory()
    log_request(without_manager, requester_user=named_before)

    assert set(access.requester_candidates(employee)) == {manager, skip_level, named_before, filer}
    assert other_manager not in access.requester_candidates(employee)
    assert hr not in access.requester_candidates(employee)
    assert list(access.requester_candidates(without_manager)) == [named_before]
    assert not access.requester_candidates(manager).filter(pk=manager.pk).exists()
