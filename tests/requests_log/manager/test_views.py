import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from requests_log import services
from requests_log.models import Decision, PromotionRequest, TimelineEvent
from tests.factories import decline, log_request
from tests.support import login_with_otp

from .conftest import accept, file_request

# Columns a manager's page must never read, whatever it shows.
PRIVATE_COLUMNS = (
    '"notes"',
    '"words_used"',
    '"witnesses"',
    '"setting"',
    '"decline_reasons"',
    "requests_log_followup",
    "requests_log_evidence",
)


def local_minute(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def daniel(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def as_user(user) -> Client:
    """Signed in, past the second factor where the role requires one."""
    client = Client()
    login_with_otp(client, user)
    return client


def filing_data(**overrides) -> dict:
    return {
        "promoted_item": "The autumn collection",
        "content_format": "videos",
        "quantity": "2",
        "deadline": local_minute(timezone.now() + timedelta(days=10)),
        "compensation_offered": "€400 per video",
        "disclosure_terms": "#ad first",
        **overrides,
    }


# --- Lists: the same number of queries for 1 and 30 rows -------------------------------------


@pytest.mark.parametrize("rows", [1, 30])
def test_requests_i_filed_takes_the_same_queries_for_1_and_30(
    rows, daniel, manager, employee, second_employee, django_assert_num_queries
):
    for number in range(rows):
        promotion_request = file_request(
            manager, employee if number % 2 else second_employee, promoted_item=f"Item {number}"
        )
        if number % 3 == 0:
            decision = accept(promotion_request)
            services.decision_mark_seen(decision_id=decision.pk, viewer=manager)

    with django_assert_num_queries(5):
        response = daniel.get(reverse("manager:filed-list"))

    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == min(rows, 25)


@pytest.mark.parametrize("rows", [1, 30])
def test_file_a_request_lists_reports_in_the_same_queries_for_1_and_30(
    rows, daniel, manager, django_assert_num_queries
):
    from tests.factories import UserFactory

    UserFactory.create_batch(rows, manager=manager)

    with django_assert_num_queries(5):
        response = daniel.get(reverse("manager:file-choose"))

    assert len(re.findall(r'href="/team/file/\d+/"', response.content.decode())) == min(rows, 25)


def test_many_reports_come_a_page_at_a_time_in_name_order_and_can_be_searched(daniel, manager):
    from tests.factories import UserFactory

    for number in range(30):
        UserFactory(manager=manager, display_name=f"Report {number:02}", job_title="Designer")
    UserFactory(manager=manager, display_name="Zoe Quinn", job_title="Video producer")
    url = reverse("manager:file-choose")

    first = daniel.get(url).content.decode()
    second = daniel.get(url, {"page": 2}).content.decode()
    found = daniel.get(url, {"q": "  video "}).content.decode()
    nobody = daniel.get(url, {"q": "Nobody here"}).content.decode()
    too_long = daniel.get(url, {"q": "x" * 101})

    names = re.findall(r"<bdi>([^<]+)</bdi></a>", first)
    assert names == [f"Report {number:02}" for number in range(25)]
    assert "Page 1 of 2" in first
    assert re.findall(r"<bdi>([^<]+)</bdi></a>", second)[-1] == "Zoe Quinn"
    assert re.findall(r"<bdi>([^<]+)</bdi></a>", found) == ["Zoe Quinn"]
    assert "Nobody who reports to you matches “Nobody here”" in nobody
    assert too_long.status_code == 200
    assert "Ensure this value has at most 100 characters" in too_long.content.decode()
    assert len(re.findall(r"<bdi>([^<]+)</bdi></a>", too_long.content.decode())) == 25


def test_the_list_shows_status_answer_and_whether_it_was_opened(daniel, manager, employee):
    pending = file_request(manager, employee, promoted_item="Pending thing")
    answered = file_request(manager, employee, promoted_item="Answered thing")
    accept(answered)

    page = daniel.get(reverse("manager:filed-list")).content.decode()

    assert "Pending thing" in page
    assert "No answer yet" in page
    assert "Accepted with conditions" in page
    assert "New answer" in page
    assert pending.pk != answered.pk


def test_team_pages_are_not_found_for_people_who_may_not_file(employee):
    client = as_user(employee)

    responses = [
        client.get(reverse("manager:filed-list")),
        client.get(reverse("manager:file-choose")),
    ]

    assert [r.status_code for r in responses] == [404, 404]


def test_my_team_is_in_the_menu_of_managers_only(daniel, employee):
    assert "My team" in daniel.get(reverse("requests_log:my-record")).content.decode()
    assert (
        "My team" not in as_user(employee).get(reverse("requests_log:my-record")).content.decode()
    )


# --- Filing ----------------------------------------------------------------------------------


def test_the_form_lists_the_reports_accounts_with_their_boundaries(
    daniel, employee, closed_account, open_account
):
    page = daniel.get(reverse("manager:file-create", args=[employee.pk])).content.decode()

    assert "Instagram @maya.makes" in page
    assert "TikTok @mayamakes" in page
    assert "Maya Okafor has closed this account to employer content." in page
    assert "Declining carries no penalty" in page
    assert "31200" not in page
    assert "31,200" not in page


def test_filing_creates_the_request_and_sends_the_manager_to_it(
    daniel, manager, employee, open_account
):
    response = daniel.post(
        reverse("manager:file-create", args=[employee.pk]),
        filing_data(target_accounts=[open_account.pk]),
    )

    promotion_request = PromotionRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("manager:filed-detail", args=[promotion_request.pk])
    assert promotion_request.employee == employee
    assert promotion_request.filed_by == manager
    assert list(promotion_request.target_accounts.all()) == [open_account]
    assert promotion_request.disclosure_terms == "#ad first"


def test_a_closed_account_is_flagged_before_it_is_sent(daniel, employee, closed_account):
    url = reverse("manager:file-create", args=[employee.pk])

    first = daniel.post(url, filing_data(target_accounts=[closed_account.pk]))
    second = daniel.post(
        url, filing_data(target_accounts=[closed_account.pk], closed_confirmed="on")
    )

    assert first.status_code == 200
    assert "Maya Okafor has closed Instagram @maya.makes to employer content" in (
        first.content.decode()
    )
    assert second.status_code == 302
    event = TimelineEvent.objects.get(kind=TimelineEvent.Kind.FILED)
    assert event.payload["closed_accounts_warned"] == [closed_account.pk]


def test_a_post_with_extra_fields_changes_none_of_them(
    daniel, manager, other_manager, employee, second_employee
):
    daniel.post(
        reverse("manager:file-create", args=[employee.pk]),
        filing_data(
            employee=second_employee.pk,
            status="accepted",
            filed_by=other_manager.pk,
            requester_user=other_manager.pk,
            decided_at="2020-01-01T00:00",
            id="999999",
            source="employee",
            framing="required",
            number="77",
            occurred_at="2020-01-01T00:00",
        ),
    )

    promotion_request = PromotionRequest.objects.get()
    assert promotion_request.pk != 999999
    assert promotion_request.employee == employee
    assert promotion_request.status == PromotionRequest.Status.PENDING
    assert promotion_request.filed_by == promotion_request.requester_user == manager
    assert promotion_request.source == PromotionRequest.Source.FILED_IN_APP
    assert promotion_request.framing == PromotionRequest.Framing.ASKED
    assert promotion_request.number == 1
    assert promotion_request.occurred_at > timezone.now() - timedelta(minutes=1)


def test_filing_to_someone_elses_report_is_not_found(employee, other_manager):
    client = as_user(other_manager)
    missing = client.get("/team/file/999999/")

    response = client.get(reverse("manager:file-create", args=[employee.pk]))
    posted = client.post(reverse("manager:file-create", args=[employee.pk]), filing_data())

    assert (response.status_code, posted.status_code) == (404, 404)
    assert response.content == posted.content == missing.content
    assert PromotionRequest.objects.count() == 0


def test_asking_again_after_a_decline_shows_a_notice(daniel, manager, employee):
    earlier = file_request(manager, employee, promoted_item="The summer line")
    decline(earlier, at=timezone.now())

    page = daniel.get(reverse("manager:file-create", args=[employee.pk])).content.decode()

    assert "declined your request" in page
    assert "The summer line" in page


# --- The filed request's page -------------------------------------------------------------------


@pytest.fixture
def answered(manager, employee, open_account) -> PromotionRequest:
    promotion_request = file_request(manager, employee, target_accounts=[open_account])
    accept(promotion_request, accounts=[open_account])
    return promotion_request


def test_the_filer_sees_the_answer_meant_for_them_and_nothing_private(daniel, answered):
    page = daniel.get(reverse("manager:filed-detail", args=[answered.pk])).content.decode()

    assert "Accept with conditions" in page
    assert "Pay: €500 per video" in page
    assert "Every post discloses the connection" in page
    assert "TikTok @mayamakes" in page
    assert "Happy to, on these terms." in page
    assert "PRIVATE" not in page


def test_the_filers_page_never_loads_private_columns(daniel, answered):
    with CaptureQueriesContext(connection) as queries:
        daniel.get(reverse("manager:filed-detail", args=[answered.pk]))

    sql = "\n".join(query["sql"] for query in queries.captured_queries)
    assert [column for column in PRIVATE_COLUMNS if column in sql] == []
    # `details` is read only inside the CASE that keeps it to a reply's, not a decline's.
    mentions = re.findall(r'[^\s(]*"details"', sql)
    assert mentions == ['"requests_log_decision"."details"']
    assert 'THEN "requests_log_decision"."details"' in sql


def test_details_put_in_a_reply_of_a_decline_are_never_shown(daniel, manager, employee):
    promotion_request = file_request(manager, employee)
    services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.DECLINE,
        decline_reasons=["personal_separate"],
        details="PRIVATE reason",
        details_in_reply=True,
        message_to_requester="Thanks for asking.",
    )

    page = daniel.get(reverse("manager:filed-detail", args=[promotion_request.pk])).content.decode()

    assert "Decline" in page
    assert "Thanks for asking." in page
    assert "PRIVATE" not in page
    assert "personal life" not in page


def test_opening_the_answer_appends_one_seen_event(daniel, employee, answered):
    url = reverse("manager:filed-detail", args=[answered.pk])

    first = daniel.get(url).content.decode()
    second = daniel.get(url).content.decode()

    seen = TimelineEvent.objects.filter(employee=employee, kind="seen_by_requester")
    assert seen.count() == 1
    assert "is recorded on" in first
    assert "You first opened it" in second


def test_a_pending_request_appends_nothing_when_opened(daniel, employee, manager):
    promotion_request = file_request(manager, employee)
    before = TimelineEvent.objects.count()

    page = daniel.get(reverse("manager:filed-detail", args=[promotion_request.pk]))

    assert "No answer yet" in page.content.decode()
    assert TimelineEvent.objects.count() == before


@pytest.mark.parametrize("who", ["other_manager", "second_employee", "employee", "hr"])
def test_someone_else_gets_the_same_404_for_a_filed_request(request, who, answered):
    client = as_user(request.getfixturevalue(who))
    before = TimelineEvent.objects.count()
    missing = client.get("/team/requests/999999/")

    response = client.get(reverse("manager:filed-detail", args=[answered.pk]))
    posted = client.post(reverse("manager:filed-withdraw", args=[answered.pk]))

    assert (response.status_code, posted.status_code) == (404, 404)
    assert response.content == posted.content == missing.content
    assert TimelineEvent.objects.count() == before
    assert Decision.objects.get().seen_by_requester_at is None


def test_a_request_she_logged_naming_the_manager_is_not_his_to_see(daniel, manager, employee):
    logged = log_request(employee, requester_user=manager)

    response = daniel.get(reverse("manager:filed-detail", args=[logged.pk]))

    assert response.status_code == 404


# --- Withdrawing -----------------------------------------------------------------------------


def test_the_filer_withdraws_an_open_request_once(daniel, manager, employee):
    promotion_request = file_request(manager, employee)
    url = reverse("manager:filed-withdraw", args=[promotion_request.pk])

    daniel.post(url)
    again = daniel.post(url, follow=True)

    promotion_request.refresh_from_db()
    assert promotion_request.status == PromotionRequest.Status.WITHDRAWN
    assert TimelineEvent.objects.filter(kind="withdrawn").count() == 1
    assert "no longer open" in again.content.decode()


def test_an_answered_request_cannot_be_withdrawn(daniel, answered):
    page = daniel.get(reverse("manager:filed-detail", args=[answered.pk])).content.decode()
    daniel.post(reverse("manager:filed-withdraw", args=[answered.pk]))

    answered.refresh_from_db()
    assert answered.status == PromotionRequest.Status.ACCEPTED
    assert "Withdraw this request" not in page
