"""HR's pages: what HR sees (filed, or shared until stopped), the same 404 for the rest,
"viewed by HR" once a day on the employee's record, and a dashboard of aggregates that
names nobody, in the same number of queries for 1 and 30 requests."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from boundary.models import SocialAccount, User
from requests_log import hr_selectors, selectors, services, sharing
from requests_log.flags import isolated
from requests_log.hr_selectors import Filters
from requests_log.models import PromotionRequest, TimelineEvent
from tests.factories import SocialAccountFactory, UserFactory, decline, log_request
from tests.support import plain

from .conftest import as_user, file_request

pytestmark = pytest.mark.django_db


def shared_request(employee: User, **overrides) -> PromotionRequest:
    logged = log_request(employee, **overrides)
    sharing.promotion_requests_share(employee=employee, request_pks=[logged.pk])
    return logged


# --- The request page ----------------------------------------------------------------------


def test_hr_reads_the_flags_about_the_employee_not_to_her(hana, employee):
    now = timezone.now()
    first = shared_request(
        employee,
        requester_name="Lee Park",
        promoted_item="Spring",
        occurred_at=now - timedelta(days=5),
    )
    decline(first, at=now - timedelta(days=4))
    again = shared_request(employee, requester_name="Lee Park", occurred_at=now - timedelta(days=3))
    decline(again, at=now - timedelta(days=2))
    services.follow_up_add(
        promotion_request=again,
        actor=employee,
        kind="pressure",
        occurred_at=now - timedelta(days=1),
        who="Lee Park",
        what_was_said="Think again.",
    )

    response = hana.get(reverse("hr:request-detail", args=[again.pk]))
    hr_page = plain(html.unescape(response.content.decode()))
    flag = selectors.flags_of(again).items[-1]

    assert (
        "Asked again after a decline: 1 follow-up after the employee's decline of this request; "
        "the employee declined “Spring” from the same person"
    ) in hr_page
    assert "you declined" not in hr_page
    assert "your decline" not in hr_page
    assert "Times are in your time zone, UTC." in hr_page
    # Her own pages and exports keep speaking to her (an export's context holds these words).
    assert flag.text() == (
        "Asked again after a decline: 1 follow-up after your decline of this request; "
        f"you declined “{isolated('Spring')}” from the same person"
    )


def test_hr_opens_a_shared_request_and_the_employee_sees_who_and_when(hana, hr, employee):
    mine = shared_request(employee, promoted_item="The spring range", notes="My own note")

    response = hana.get(reverse("hr:request-detail", args=[mine.pk]))
    hana.get(reverse("hr:request-detail", args=[mine.pk]))

    assert response.status_code == 200
    assert "The spring range" in response.content.decode()
    assert "My own note" not in response.content.decode()
    views = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR)
    assert [(v.promotion_request_id, v.actor_id) for v in views] == [(mine.pk, hr.pk)]
    maya = as_user(employee)
    page = maya.get(mine.get_absolute_url()).content.decode()
    assert re.search(r"Hana Kim</bdi>\s+opened it on", page)


def test_hr_sees_a_filed_request_from_the_start(hana, manager, second_employee):
    filed = file_request(manager, second_employee)

    response = hana.get(reverse("hr:request-detail", args=[filed.pk]))

    assert response.status_code == 200
    assert "Filed in Boundary by" in response.content.decode()


def test_unshared_stopped_and_missing_requests_are_the_same_404(hana, employee):
    never = log_request(employee)
    stopped = shared_request(employee)
    sharing.promotion_requests_share_stop(employee=employee, request_pks=[stopped.pk])
    missing = reverse("hr:request-detail", args=[999999])

    bodies = {hana.get(missing).content}
    for item in (never, stopped):
        response = hana.get(reverse("hr:request-detail", args=[item.pk]))
        assert response.status_code == 404
        bodies.add(response.content)

    assert len(bodies) == 1
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR).exists()


@pytest.mark.parametrize("who", ["employee", "second_employee", "manager", "administrator"])
def test_hr_pages_are_a_404_to_anyone_but_hr(who, request, employee):
    mine = shared_request(employee)
    client = as_user(request.getfixturevalue(who))

    for url in (
        reverse("hr:dashboard"),
        reverse("hr:request-list"),
        reverse("hr:request-detail", args=[mine.pk]),
    ):
        assert client.get(url).status_code == 404
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR).exists()


def test_the_employee_shares_and_stops_from_her_pages(employee, hr):
    mine = log_request(employee)
    maya = as_user(employee)

    maya.post(reverse("requests_log:request-share", args=[mine.pk]))
    shared_page = maya.get(mine.get_absolute_url()).content.decode()
    maya.post(reverse("requests_log:request-share-stop", args=[mine.pk]))
    maya.post(reverse("requests_log:share-all"))
    maya.post(reverse("requests_log:share-stop-all"))

    assert "Stop sharing with HR" in shared_page
    kinds = list(
        TimelineEvent.objects.filter(
            kind__in=[TimelineEvent.Kind.SHARED_WITH_HR, TimelineEvent.Kind.SHARING_WITHDRAWN]
        )
        .order_by("seq")
        .values_list("kind", flat=True)
    )
    assert kinds == ["shared_with_hr", "sharing_withdrawn", "shared_with_hr", "sharing_withdrawn"]
    dashboard = maya.get(reverse("requests_log:my-record")).content.decode()
    assert "Stopped sharing all" in dashboard


def test_someone_else_cannot_share_her_request(employee, second_employee):
    mine = log_request(employee)
    sam = as_user(second_employee)

    response = sam.post(reverse("requests_log:request-share", args=[mine.pk]))

    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.shared_with_hr_at is None


# --- The dashboard ---------------------------------------------------------------------------


def people_in(department: str, count: int) -> list[User]:
    return [
        UserFactory(display_name=f"{department} person {n}", department=department)
        for n in range(count)
    ]


def test_the_dashboard_counts_only_what_hr_may_see(hr, employee, manager, second_employee):
    shared_request(employee)  # Design, pending
    declined = shared_request(employee, promoted_item="Declined one")
    decline(declined, at=timezone.now() - timedelta(minutes=10))
    log_request(employee, framing=PromotionRequest.Framing.REQUIRED)  # never shared
    file_request(manager, second_employee)  # Marketing, pending

    board = hr_selectors.hr_dashboard(viewer=hr, filters=Filters())

    assert board.totals.total == 3
    assert (board.totals.counts["pending"], board.totals.counts["declined"]) == (2, 1)
    assert {b.label: b.total for b in board.by_department} == {"Design": 2, "Marketing": 1}
    assert dict((p.key, n) for p, n in board.patterns)["required"] == 0
    filtered = hr_selectors.hr_dashboard(viewer=hr, filters=Filters(department="Marketing"))
    assert filtered.totals.total == 1


def test_patterns_and_the_lists_behind_them(hr, employee):
    closed = SocialAccountFactory(owner=employee, boundary=SocialAccount.Boundary.CLOSED)
    first = shared_request(employee, occurred_at=timezone.now() - timedelta(days=3))
    decline(first, at=timezone.now() - timedelta(days=2))
    again = shared_request(employee, occurred_at=timezone.now() - timedelta(days=1))
    forced = shared_request(
        employee,
        requester_name="Omar Haddad",
        framing=PromotionRequest.Framing.CONSEQUENCES,
        target_accounts=[closed],
    )
    overdue = shared_request(
        employee, requester_name="Lee Park", deadline=timezone.now() - timedelta(hours=1)
    )

    counts = {p.key: n for p, n in hr_selectors.hr_dashboard(viewer=hr, filters=Filters()).patterns}
    lists = {
        key: set(hr_selectors.hr_request_list(viewer=hr, filters=Filters(), pattern=key))
        for key in counts
    }

    assert counts == {
        "asked-after-decline": 1,
        "closed-account": 1,
        "required": 1,
        "disclosure-pending": 0,
    }
    assert lists["asked-after-decline"] == {again}
    assert lists["closed-account"] == lists["required"] == {forced}
    overdue_list = hr_selectors.hr_request_list(viewer=hr, filters=Filters(), status="overdue")
    assert list(overdue_list) == [overdue]


def test_a_decline_on_an_unshared_request_never_marks_another_for_hr(hr, employee):
    unshared = log_request(employee, occurred_at=timezone.now() - timedelta(days=3))
    decline(unshared, at=timezone.now() - timedelta(days=2))
    again = shared_request(employee, occurred_at=timezone.now() - timedelta(days=1))

    counts = {p.key: n for p, n in hr_selectors.hr_dashboard(viewer=hr, filters=Filters()).patterns}
    page = hr_selectors.hr_request_get(viewer=hr, pk=again.pk)

    assert counts["asked-after-decline"] == 0
    assert [flag.code for flag in page.flags if flag.code == "asked_after_decline"] == []


def test_the_dashboard_names_nobody_and_ranks_nobody(hana, hr, employee, second_employee):
    """No employee's name anywhere on the dashboard, and nothing the selector returns is
    counted per person: buckets are departments and months only."""
    shared_request(employee)
    shared_request(second_employee)
    others = people_in("Sales", 3)
    for person in others:
        decline(shared_request(person), at=timezone.now())

    html = hana.get(reverse("hr:dashboard")).content.decode()
    board = hr_selectors.hr_dashboard(viewer=hr, filters=Filters())

    for person in [employee, second_employee, *others]:
        assert person.display_name not in html
        assert person.email not in html
    people = set(User.objects.values_list("display_name", flat=True))
    labels = {b.label for b in board.by_department} | {b.label for b in board.by_month}
    assert labels & people == set()
    assert {b.label for b in board.by_department} == {"Design", "Marketing", "Sales"}
    assert "rank" not in html.lower()
    # Overdue ones are among the pending and negotiating ones: the tiles say so.
    assert "past their deadline: they are counted there too" in html


def test_opening_the_dashboard_appends_nothing(hana, employee):
    shared_request(employee)
    before = TimelineEvent.objects.count()

    hana.get(reverse("hr:dashboard"))
    hana.get(reverse("hr:request-list") + "?pattern=required")

    assert TimelineEvent.objects.count() == before


def test_the_dashboard_charts_have_text_alternatives(hana, employee):
    shared_request(employee)

    html = hana.get(reverse("hr:dashboard")).content.decode()

    assert html.count('role="img"') == 2
    assert 'aria-labelledby="month-chart-title month-chart-desc"' in html
    assert "<caption>Requests by department, as counted in the chart</caption>" in html


def test_the_filters_keep_what_was_chosen_and_say_what_is_wrong(hana, employee):
    shared_request(employee)
    url = reverse("hr:dashboard")

    chosen = hana.get(url, {"department": employee.department, "date_from": "2026-01-01"})
    backwards = hana.get(url, {"date_from": "2026-02-02", "date_to": "2026-01-01"})
    garbled = hana.get(reverse("hr:request-list"), {"date_from": "not a date"})

    html = chosen.content.decode()
    assert re.search(rf'<option value="{employee.department}"\s+selected>', html)
    assert 'name="date_from" value="2026-01-01" class="form-control"' in html
    assert backwards.status_code == 200
    assert "The period starts after it ends." in backwards.content.decode()
    unapplied = "Until these filters are fixed, what is shown below covers every department"
    assert unapplied in backwards.content.decode()
    assert unapplied in garbled.content.decode()
    assert unapplied not in html
    assert garbled.status_code == 200
    assert 'class="form-control is-invalid"' in garbled.content.decode()
    assert "Enter a valid date." in garbled.content.decode()


# --- Query counts: the same for 1 and 30 rows ------------------------------------------------


def many_shared(count: int) -> None:
    departments = ["Design", "Sales", "Support"]
    for n in range(count):
        person = UserFactory(department=departments[n % 3])
        item = shared_request(
            person,
            occurred_at=timezone.now() - timedelta(days=40 * (n % 4)),
            framing=PromotionRequest.Framing.REQUIRED if n % 2 else "asked",
        )
        if n % 3 == 0:
            decline(item, at=timezone.now() - timedelta(minutes=5))
            services.follow_up_add(
                promotion_request=item,
                actor=person,
                kind="pressure",
                occurred_at=timezone.now(),
                who="Daniel",
                what_was_said="Not a team player",
            )


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        reverse("hr:dashboard"),
        reverse("hr:dashboard") + "?department=Sales&date_from=2020-01-01",
        reverse("hr:request-list") + "?pattern=asked-after-decline",
        reverse("hr:request-list") + "?status=declined",
    ],
)
def test_hr_pages_take_the_same_queries_for_1_and_30_requests(url, hana, django_assert_num_queries):
    many_shared(1)
    one = queries_for(hana, url)
    many_shared(29)

    with django_assert_num_queries(one):
        response = hana.get(url)

    assert response.status_code == 200
    if "page_obj" in response.context:
        assert response.context["page_obj"].paginator.count >= 10


def test_the_request_page_takes_the_same_queries_for_1_and_30_events(hana, employee):
    small = shared_request(employee)
    big = shared_request(employee, promoted_item="Long story")
    for n in range(30):
        services.follow_up_add(
            promotion_request=big,
            actor=employee,
            kind="pressure",
            occurred_at=timezone.now(),
            who="Daniel",
            what_was_said=f"Remark {n}",
        )

    assert queries_for(hana, reverse("hr:request-detail", args=[small.pk])) == queries_for(
        hana, reverse("hr:request-detail", args=[big.pk])
    )


def test_odd_query_strings_never_fail_an_hr_page(hana, employee):
    mine = shared_request(employee)
    odd = {
        "department": "\u202e'; DROP TABLE x; --",
        "date_from": "2026-13-45",
        "date_to": "²",
        "pattern": "<script>",
        "status": "٣",
        "page": "²",
    }

    statuses = [
        hana.get(url, odd).status_code
        for url in (
            reverse("hr:dashboard"),
            reverse("hr:request-list"),
            reverse("hr:request-detail", args=[mine.pk]),
        )
    ]

    assert statuses == [200, 200, 200]


def test_no_dashboard_query_groups_or_counts_by_person(hr, employee, second_employee):
    shared_request(employee)
    shared_request(second_employee)

    with CaptureQueriesContext(connection) as queries:
        hr_selectors.hr_dashboard(viewer=hr, filters=Filters())

    grouped = [q["sql"] for q in queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    selected = grouped[0].split(" FROM ", 1)[0]
    assert '"requests_log_hrcountedrequest"."department"' in selected
    assert "employee_id" not in selected
    assert "employee_id" not in grouped[0].split(" GROUP BY ", 1)[1]
    assert all('"boundary_user"."display_name"' not in q["sql"] for q in queries)


def test_the_request_page_never_reads_her_notes(hana, employee):
    mine = shared_request(employee, notes="Only for me")

    with CaptureQueriesContext(connection) as queries:
        hana.get(reverse("hr:request-detail", args=[mine.pk]))

    request_reads = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT") and "promotionrequest" in q["sql"]
    ]
    assert request_reads
    assert all('"requests_log_promotionrequest"."notes"' not in sql for sql in request_reads)


def test_her_request_page_reads_back_every_share_and_stop_that_covered_it(employee):
    mine = log_request(employee)
    log_request(employee, promoted_item="Another")
    sharing.promotion_requests_share(employee=employee, request_pks=[mine.pk])
    sharing.promotion_requests_share_stop(employee=employee)
    sharing.promotion_requests_share(employee=employee)
    maya = as_user(employee)

    page = maya.get(mine.get_absolute_url()).content.decode()

    history = page.split('class="list-unstyled small mb-0 sharing-events"', 1)[1].split("</ul>")[0]
    lines = [" ".join(item.split()) for item in re.findall(r"<li>(.*?)</li>", history, re.S)]
    assert [line.split(" on ")[0] for line in lines] == ["Shared", "Stopped sharing", "Shared"]
    assert lines[1].endswith("(with everything you logged)")
    assert lines[2].endswith("(with everything you logged)")
