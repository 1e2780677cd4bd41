from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from boundary.models import SocialAccount
from requests_log import selectors, services
from requests_log.models import FollowUp, PromotionRequest
from tests.factories import SocialAccountFactory, UserFactory, decline, log_request
from tests.support import plain

pytestmark = pytest.mark.django_db

Boundary = SocialAccount.Boundary
Framing = PromotionRequest.Framing
MONDAY = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)


def flags_of(promotion_request):
    fresh = selectors.with_flag_data(PromotionRequest.objects.filter(pk=promotion_request.pk))
    return selectors.flags_of(fresh.get())


def flag_codes(promotion_request):
    return [(flag.code, flag.level) for flag in flags_of(promotion_request)]


def earlier_decline(promotion_request):
    """The declined request that the "asked again" flag names, if any."""
    return next((flag.earlier for flag in flags_of(promotion_request) if flag.earlier), None)


def test_flags_none_for_a_free_paid_request_to_open_accounts(employee):
    account = SocialAccountFactory(owner=employee, boundary=Boundary.OPEN)

    promotion_request = log_request(
        employee, target_accounts=[account], deadline=timezone.now() + timedelta(days=10)
    )

    assert flag_codes(promotion_request) == []


def test_flags_closed_account_naming_it(employee):
    account = SocialAccountFactory(
        owner=employee, platform="instagram", handle="maya.makes", boundary=Boundary.CLOSED
    )
    promotion_request = log_request(employee, target_accounts=[account])

    flags = flags_of(promotion_request)

    assert [(f.code, f.level, plain(f.text())) for f in flags] == [
        (
            "closed_account",
            "danger",
            "Targets an account closed to employer content: Instagram @maya.makes",
        )
    ]


def test_flags_ask_first_account(employee):
    account = SocialAccountFactory(owner=employee, boundary=Boundary.ASK_FIRST)

    promotion_request = log_request(employee, target_accounts=[account])

    assert flag_codes(promotion_request) == [("ask_first_account", "warning")]


@pytest.mark.parametrize(
    ("framing", "level"),
    [
        (Framing.EXPECTED, "warning"),
        (Framing.REQUIRED, "danger"),
        (Framing.CONSEQUENCES, "danger"),
    ],
)
def test_flags_framing_expected_is_warning_required_or_consequences_danger(
    employee, framing, level
):
    promotion_request = log_request(employee, framing=framing)

    assert flag_codes(promotion_request) == [("framing", level)]


@pytest.mark.parametrize("compensation", ["", "   "])
def test_flags_no_compensation(employee, compensation):
    promotion_request = log_request(employee, compensation_offered=compensation)

    assert flag_codes(promotion_request) == [("no_compensation", "warning")]


@pytest.mark.parametrize(
    ("deadline_after", "expected"),
    [
        (timedelta(days=2, hours=23), [("short_deadline", "warning")]),
        (timedelta(days=3), []),
    ],
)
def test_flags_deadline_under_three_days_after_the_ask(employee, deadline_after, expected):
    promotion_request = log_request(employee, occurred_at=MONDAY, deadline=MONDAY + deadline_after)

    assert flag_codes(promotion_request) == expected


def test_flags_pressure_follow_up_after_decline(employee):
    now = timezone.now()
    promotion_request = log_request(employee, occurred_at=now - timedelta(days=2))
    decline(promotion_request, at=now - timedelta(days=1))

    services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=now - timedelta(hours=1),
        who="Daniel Reyes",
        what_was_said="You are not a team player.",
    )

    assert flag_codes(promotion_request) == [("asked_after_decline", "danger")]


def test_flags_pressure_follow_up_logged_before_a_backdated_earlier_decline(employee):
    # Maya declined in Monday's meeting, logs Wednesday's pressure first and her
    # Monday answer afterwards: the pressure still came after the decline.
    now = timezone.now()
    promotion_request = log_request(employee, occurred_at=now - timedelta(days=3))
    services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=now - timedelta(days=1),
        who="Daniel Reyes",
        what_was_said="You are not a team player.",
    )

    decline(promotion_request, at=now - timedelta(days=3) + timedelta(minutes=5))

    assert flag_codes(promotion_request) == [("asked_after_decline", "danger")]


@pytest.mark.parametrize(
    ("kind", "follow_up_after"),
    [
        (FollowUp.Kind.PRESSURE, timedelta(hours=-1)),  # before the decline
        (FollowUp.Kind.OTHER, timedelta(hours=1)),  # after it, but not pressure
    ],
)
def test_flags_no_asked_again_for_follow_up_before_decline_or_not_pressure(
    employee, kind, follow_up_after
):
    now = timezone.now()
    promotion_request = log_request(employee, occurred_at=now - timedelta(days=2))
    declined_at = now - timedelta(days=1)
    decline(promotion_request, at=declined_at)

    services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        kind=kind,
        occurred_at=declined_at + follow_up_after,
        who="Daniel Reyes",
        what_was_said="About that video…",
    )

    assert flag_codes(promotion_request) == []


@pytest.mark.parametrize("name_again", ["Daniel Reyes", "  daniel   REYES "])
def test_flags_new_request_from_same_requester_after_earlier_decline(employee, name_again):
    now = timezone.now()
    earlier = log_request(employee, occurred_at=now - timedelta(days=5))
    decline(earlier, at=now - timedelta(days=4))

    again = log_request(employee, occurred_at=now - timedelta(days=1), requester_name=name_again)

    assert earlier_decline(again).pk == earlier.pk
    assert flag_codes(again) == [("asked_after_decline", "danger")]


def test_flags_new_request_from_same_app_user_after_earlier_decline(employee):
    now = timezone.now()
    manager = UserFactory(role="manager", display_name="Daniel Reyes")
    earlier = log_request(employee, requester_user=manager, occurred_at=now - timedelta(days=5))
    decline(earlier, at=now - timedelta(days=4))

    again = log_request(
        employee,
        requester_user=manager,
        requester_name="D. Reyes",
        occurred_at=now - timedelta(days=1),
    )

    assert earlier_decline(again).pk == earlier.pk


@pytest.mark.parametrize(
    ("requester_name", "declined_days_ago"),
    [
        ("Priya Shah", 4),  # someone else asked
        ("Daniel Reyes", 0),  # the decline came after the new ask
    ],
)
def test_flags_new_request_not_after_decline(employee, requester_name, declined_days_ago):
    now = timezone.now()
    earlier = log_request(employee, occurred_at=now - timedelta(days=5))
    decline(earlier, at=now - timedelta(days=declined_days_ago))

    other = log_request(
        employee, requester_name=requester_name, occurred_at=now - timedelta(days=1)
    )

    assert earlier_decline(other) is None
    assert flag_codes(other) == []


def test_flags_declined_request_of_another_employee_does_not_count(employee):
    now = timezone.now()
    colleague = UserFactory()
    earlier = log_request(colleague, occurred_at=now - timedelta(days=5))
    decline(earlier, at=now - timedelta(days=4))

    mine = log_request(employee, occurred_at=now - timedelta(days=1))

    assert earlier_decline(mine) is None
    assert flag_codes(mine) == []


# --- One answer everywhere ---------------------------------------------------------------

WEDNESDAY = MONDAY + timedelta(days=2)
THURSDAY = MONDAY + timedelta(days=3)


def log_story(employee, *, decline_last: bool):
    """Monday's ask, Maya's "no" half an hour later, Wednesday's pressure and Thursday's
    new ask from the same person; logged as it happened, or with the "no" logged last
    (backdated), as someone catching up on her record would."""
    meeting = log_request(employee, occurred_at=MONDAY, promoted_item="the new product line")

    def record_decline():
        decline(meeting, at=MONDAY + timedelta(minutes=30))

    if not decline_last:
        record_decline()
    services.follow_up_add(
        promotion_request=meeting,
        actor=employee,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=WEDNESDAY,
        who="Daniel Reyes",
        what_was_said="Not a team player.",
    )
    again = log_request(employee, occurred_at=THURSDAY, promoted_item="the autumn line")
    if decline_last:
        record_decline()
    return meeting, again


def what_each_surface_says(client, employee, meeting, again):
    """Whether the pressure and the new ask count as "after a decline", as the request
    page, the dashboard, the timeline badge, the PDF and the CSV each tell it."""
    from tests.requests_log.exports.test_formats import csv_rows, make_csv, make_pdf
    from tests.requests_log.exports.test_record import pdf_text

    client.force_login(employee)
    pages = {item: client.get(item.get_absolute_url()).context for item in (meeting, again)}
    dashboard = dict(client.get(reverse("requests_log:my-record")).context["requests"])
    csv_summaries = {
        (row[6], row[8]): plain(row[12])
        for row in csv_rows(make_csv(employee))
        if row[0] == "event"
    }
    pdf = " ".join(plain(pdf_text(make_pdf(employee))).split())

    def page_flags(item):
        return "asked_after_decline" in [flag.code for flag in pages[item]["flags"]]

    return {
        "page": (page_flags(meeting), page_flags(again)),
        "dashboard": tuple(
            "asked_after_decline" in [flag.code for flag in dashboard[item]]
            for item in (meeting, again)
        ),
        "timeline badge": (
            [marked for event, marked in pages[meeting]["timeline"] if event.kind == "follow_up"]
            == [True],
            pages[again]["flags"].earlier_decline is not None,
        ),
        "pdf": (
            "Pressure remark (after a decline)" in pdf,
            "you declined “the new product line” from the same person" in pdf,
        ),
        "csv": (
            "(after a decline)" in csv_summaries[(str(meeting.pk), "follow_up")],
            "you declined “the new product line” from the same person"
            in csv_summaries[(str(again.pk), "logged")],
        ),
    }


@pytest.mark.parametrize("decline_last", [False, True], ids=["as-it-happened", "decline-last"])
def test_page_dashboard_timeline_pdf_and_csv_agree_in_either_order(client, employee, decline_last):
    meeting, again = log_story(employee, decline_last=decline_last)

    told = what_each_surface_says(client, employee, meeting, again)

    assert told == dict.fromkeys(told, (True, True))


def test_flags_name_platforms_as_the_pages_do():
    from requests_log.flags import PLATFORM_LABELS

    assert dict(SocialAccount.Platform.choices) == PLATFORM_LABELS


def test_a_closed_account_is_cited_with_the_boundary_in_force_when_asked(employee):
    with time_machine.travel(MONDAY - timedelta(days=30)):
        account = services.account_link(
            owner=employee, platform="instagram", handle="maya.makes", boundary="closed"
        )
    with time_machine.travel(MONDAY + timedelta(days=1)):  # opened after the ask
        account.boundary = "open"
        services.account_update(account=account, actor=employee, boundary="open")
        promotion_request = log_request(employee, target_accounts=[account], occurred_at=MONDAY)

    closed = next(flag for flag in flags_of(promotion_request) if flag.code == "closed_account")

    # The account was open when the request was logged; it was closed when it was made.
    assert plain(closed.text()) == (
        "Targets an account closed to employer content: "
        "Instagram @maya.makes (so since 31 May 2025)"
    )
