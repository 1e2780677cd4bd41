"""`make run`'s demo data: Maya's story through the services, with an intact chain."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from boundary.models import User
from requests_log import access, selectors, timeline
from requests_log.management.commands.load_demo import DEMO_EMAIL, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_load_demo_tells_maya_s_story_once_with_an_intact_chain(capsys):
    call_command("load_demo")
    call_command("load_demo")

    maya = User.objects.get(email=DEMO_EMAIL)
    requests = list(selectors.with_flag_data(access.own_promotion_requests(maya)))
    flags = {item.promoted_item: item_flags for item, item_flags in selectors.flagged(requests)}
    output = capsys.readouterr().out
    assert authenticate(username=DEMO_EMAIL, password=DEMO_PASSWORD) == maya
    assert "Demo data loaded." in output
    assert "nothing to do" in output
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1
    assert timeline.verify_chain(employee=maya).ok
    meeting = next(text for text in flags if "product line" in text)
    assert {"closed_account", "framing", "asked_after_decline"} <= {
        flag.code for flag in flags[meeting]
    }


def test_load_demo_has_daniel_file_two_requests_in_boundary_and_an_admin():
    call_command("load_demo")

    daniel = User.objects.get(email="daniel@example.com")
    filed = {item.promoted_item: item for item in access.promotion_requests_filed_by(daniel)}
    answered = filed["the spring design-system release"]
    decision = answered.decisions.get()
    assert set(filed) == {"the spring design-system release", "the autumn launch"}
    assert (answered.status, filed["the autumn launch"].status) == ("accepted", "pending")
    assert decision.message_to_requester
    assert decision.seen_by_requester_at is not None
    assert answered.events.filter(kind="seen_by_requester").count() == 1
    assert User.objects.filter(role=User.Role.ADMIN, is_superuser=True).exists()
    assert User.objects.filter(role=User.Role.HR).exists()


def test_load_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="not in production"):
        call_command("load_demo")

    assert not User.objects.filter(email=DEMO_EMAIL).exists()


def test_load_demo_proves_one_accepted_request_s_disclosure_and_leaves_one_pending():
    call_command("load_demo")

    maya = User.objects.get(email=DEMO_EMAIL)
    accepted = access.own_promotion_requests(maya).filter(status="accepted")
    pending = selectors.promotion_requests_disclosure_pending(accepted)
    assert sorted(accepted.values_list("promoted_item", "disclosure_pending")) == [
        ("the design-system talk at the Portland meetup", False),
        ("the spring design-system release", True),
    ]
    assert list(pending.values_list("promoted_item", flat=True)) == [
        "the spring design-system release"
    ]
    assert timeline.verify_chain(employee=maya).drift == ()


def test_load_demo_gives_hr_shared_and_filed_requests_across_departments_and_months():
    from requests_log import hr_selectors
    from requests_log.models import PromotionRequest

    call_command("load_demo")

    hr = User.objects.get(role=User.Role.HR)
    board = hr_selectors.hr_dashboard(viewer=hr, filters=hr_selectors.Filters())
    visible = access.promotion_requests_for_hr(hr)
    private = PromotionRequest.objects.exclude(pk__in=visible.values("pk"))
    assert len(board.by_department) >= 4
    assert len([month for month in board.by_month if month.total]) >= 4
    assert all(count for _, count in board.patterns[:3])
    assert private.filter(promoted_item="the holiday campaign").count() == 6
    meeting = visible.get(promoted_item="the new product line")
    assert list(meeting.events.filter(kind="viewed_by_hr").values_list("actor", flat=True)) == [
        hr.pk
    ]
    assert all(timeline.verify_chain(employee=person).ok for person in User.objects.all())
