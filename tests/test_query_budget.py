"""Query budgets: every page or file a signed-in person opens makes as many queries with
30 rows of what it lists as with 1, and no more than its budget, so an N+1 anywhere
fails the suite. The main lists also take about as long at 100 rows as at 10.

A page's count is what it asks beyond the frame every signed-in page pays (the session,
the user, an authenticator for people who have one, the bell's unread count), measured
for the same person on a page that asks nothing itself.

The pages come from the access matrix (tests/test_access_matrix.py): every URL a person
may open with GET, so a new page without a row in BUDGETS fails here too.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from boundary.models import Invitation, User
from requests_log import hr_counts, services
from requests_log.models import (
    Checkpoint,
    Export,
    Notification,
    PromotionRequest,
)
from tests.factories import SocialAccountFactory, UserFactory, copies, pending_requests
from tests.test_access_matrix import (
    HR_READER,
    MATRIX,
    PUBLIC,
    TOKEN,
    make_filer_world,
    make_hr_world,
    make_world,
    sign_in,
)

# The most an employee's page may ask beyond the frame.
EMPLOYEE_BUDGET = 8
EMPLOYEE, MANAGER, HR = "employee", "manager", "hr"


@dataclass
class World:
    """The cast and one of each object a URL names (make_world and friends), plus the
    rows a page lists, added by the page's `grow`."""

    cast: dict[str, User]
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- Rows: each adds `count` of what a page lists ------------------------------------


def more_requests(world: World, count: int) -> None:
    pending_requests(world.cast[EMPLOYEE], count)


def more_accounts(world: World, count: int) -> None:
    SocialAccountFactory.create_batch(count, owner=world.cast[EMPLOYEE])


def more_notifications(world: World, count: int) -> None:
    employee = world.cast[EMPLOYEE]
    promotion_request = PromotionRequest.objects.filter(employee=employee).first()
    Notification.objects.bulk_create(
        Notification(user=employee, message=f"Reminder {n}", promotion_request=promotion_request)
        for n in range(count)
    )


def more_exports(world: World, count: int) -> None:
    # Copies record no "exported" event of their own (the event is one export's).
    copies(
        Export.objects.filter(employee=world.cast[EMPLOYEE]).first(),
        count,
        event_id=lambda n: None,
    )


def more_checkpoints(world: World, count: int) -> None:
    copies(Checkpoint.objects.filter(employee=world.cast[EMPLOYEE]).first(), count)


def more_follow_ups(world: World, count: int) -> None:
    """Follow-ups through the services, so each is on the timeline too."""
    promotion_request = PromotionRequest.objects.get(pk=world.objects["request"]["pk"])
    for n in range(count):
        services.follow_up_add(
            promotion_request=promotion_request,
            actor=world.cast[EMPLOYEE],
            kind="pressure",
            occurred_at=timezone.now(),
            who="Daniel",
            what_was_said=f"Come on ({n}).",
        )


def more_filed(world: World, count: int) -> None:
    filed = PromotionRequest.objects.get(pk=world.objects["filed"]["pk"])
    top = PromotionRequest.objects.filter(employee_id=filed.employee_id).order_by("-number")[0]
    copies(filed, count, number=lambda n: top.number + n + 1)


def more_reports(world: World, count: int) -> None:
    UserFactory.create_batch(count, manager=world.cast[MANAGER])


def more_shared(world: World, count: int) -> None:
    """Requests HR may read: copies of the shared one, shared too."""
    shared = PromotionRequest.objects.get(pk=world.objects["shared"]["pk"])
    top = PromotionRequest.objects.filter(employee_id=shared.employee_id).order_by("-number")[0]
    copies(shared, count, number=lambda n: top.number + n + 1)


def more_hr_reads(world: World, count: int) -> None:
    """Follow-ups on the shared request, each an event HR reads on its page."""
    shared = PromotionRequest.objects.get(pk=world.objects["shared"]["pk"])
    for n in range(count):
        services.follow_up_add(
            promotion_request=shared,
            actor=shared.employee,
            kind="asked_again",
            occurred_at=timezone.now(),
            who="Daniel",
            what_was_said=f"Any news? ({n})",
        )


def more_invitations(world: World, count: int) -> None:
    start = Invitation.objects.count()
    Invitation.objects.bulk_create(
        Invitation(
            email=f"invited{start + n}@example.com",
            role=User.Role.EMPLOYEE,
            invited_by=world.cast[HR],
            token_hash=f"{start + n:064d}",
            expires_at=timezone.now() + timedelta(days=7),
        )
        for n in range(count)
    )


def more_people(world: World, count: int) -> None:
    UserFactory.create_batch(count, role=User.Role.MANAGER)


# --- The budgets -------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    viewer: str  # who opens the page, in the cast
    queries: int  # the most it may ask beyond the frame
    grow: Callable[[World, int], None]  # adds rows of what it lists
    # Why a page that is not an employee's asks more than EMPLOYEE_BUDGET.
    reason: str = ""


BUDGETS: dict[str, Budget] = {
    # The employee's pages.
    "requests_log:my-record": Budget(EMPLOYEE, 8, more_requests),
    "requests_log:request-create": Budget(EMPLOYEE, 4, more_accounts),
    "requests_log:request-detail": Budget(EMPLOYEE, 8, more_follow_ups),
    # The request, and the who-asked picker (whether she has anyone to pick, and whom).
    "requests_log:request-correct": Budget(EMPLOYEE, 3, more_accounts),
    "requests_log:decision-create": Budget(EMPLOYEE, 2, more_accounts),
    "requests_log:follow-up-create": Budget(EMPLOYEE, 1, more_follow_ups),
    "requests_log:request-withdraw": Budget(EMPLOYEE, 1, more_follow_ups),
    "requests_log:evidence-download": Budget(EMPLOYEE, 0, more_requests),
    "requests_log:notification-list": Budget(EMPLOYEE, 2, more_notifications),
    "requests_log:personal-data": Budget(EMPLOYEE, 8, more_requests),
    "requests_log:account-close": Budget(EMPLOYEE, 4, more_requests),
    "boundary:profile": Budget(EMPLOYEE, 1, more_requests),
    "boundary:account-list": Budget(EMPLOYEE, 3, more_accounts),
    "boundary:account-create": Budget(EMPLOYEE, 0, more_accounts),
    "boundary:account-edit": Budget(EMPLOYEE, 1, more_accounts),
    "boundary:two-factor": Budget(EMPLOYEE, 2, more_requests),
    "boundary:two-factor-setup": Budget(EMPLOYEE, 3, more_requests),
    "password_change": Budget(EMPLOYEE, 0, more_requests),
    "password_change_done": Budget(EMPLOYEE, 0, more_requests),
    "exports:export-list": Budget(EMPLOYEE, 2, more_exports),
    "exports:export-create": Budget(EMPLOYEE, 2, more_requests),
    "exports:export-detail": Budget(EMPLOYEE, 3, more_exports),
    "exports:export-status": Budget(EMPLOYEE, 0, more_exports),
    "exports:export-download": Budget(EMPLOYEE, 0, more_exports),
    "exports:receipt-list": Budget(EMPLOYEE, 4, more_checkpoints),
    "exports:receipt-download": Budget(EMPLOYEE, 1, more_checkpoints),
    # A manager's pages.
    "manager:filed-list": Budget(MANAGER, 2, more_filed),
    "manager:file-choose": Budget(MANAGER, 2, more_reports),
    "manager:file-create": Budget(MANAGER, 3, more_filed),
    "manager:filed-detail": Budget(MANAGER, 3, more_filed),
    # HR's pages.
    "hr:dashboard": Budget(
        HR,
        5,
        more_shared,
        reason="Its counts are cached under the version of what they count: the version, "
        "then, when it has changed, the kept counts brought up to date (the lock, the stale "
        "marks), the departments, and the counts with the patterns in one pass.",
    ),
    "hr:request-list": Budget(
        HR,
        6,
        more_shared,
        reason="Its department filter is cached as the dashboard's: the version, then, when "
        "it has changed, the kept counts brought up to date and the departments; the count "
        "and the page.",
    ),
    "hr:request-detail": Budget(
        HR,
        10,
        more_hr_reads,
        reason="Opening it records HR's read on her chain first, in a savepoint of its own "
        "(so the page's reads never roll it back): savepoint, lookup, the day's claim, "
        "rollback when already claimed, release. Then the request with its flags' data, "
        "targets, events, declarations and the declines HR may see.",
    ),
    "people-invite": Budget(HR, 1, more_invitations),
    "people-manager": Budget(HR, 0, more_people),
}

# GET only sends her to the security page: codes are made by POST.
NOT_PAGES = {"boundary:recovery-codes"}

# The page every signed-in person can open that asks nothing itself: its count is the frame.
FRAME_PAGE = "password_change_done"


def pages_people_open() -> list[str]:
    """Every URL a signed-in person opens with GET (the access matrix's rows)."""
    return sorted(
        name
        for name, row in MATRIX.items()
        if "GET" in row.methods and row.who not in (PUBLIC, TOKEN) and name not in NOT_PAGES
    )


def test_every_page_has_a_budget():
    assert sorted(set(pages_people_open()) - set(BUDGETS)) == [], "pages without a budget"
    assert sorted(set(BUDGETS) - set(pages_people_open())) == [], "budgets for no page"


def test_budgets_above_the_employee_budget_say_why():
    unexplained = [
        name
        for name, budget in BUDGETS.items()
        if budget.queries > EMPLOYEE_BUDGET and (budget.viewer == EMPLOYEE or not budget.reason)
    ]

    assert unexplained == []


def world_for(name: str, cast: dict[str, User]) -> World:
    world = World(cast)
    row = MATRIX[name]
    if row.who == HR_READER or BUDGETS[name].viewer == HR:
        world.objects.update(make_hr_world(cast[EMPLOYEE], shared=True))
    elif BUDGETS[name].viewer == MANAGER:
        world.objects.update(make_filer_world(cast[MANAGER]))
    else:
        world.objects.update(make_world(cast[EMPLOYEE]))
    return world


def url_of(name: str, world: World) -> str:
    row = MATRIX[name]
    if row.obj is None:
        return reverse(name)
    return reverse(name, kwargs=world.objects[row.obj])


def signed_in_to(name: str, cast: dict[str, User]) -> tuple[Budget, World, Client, str]:
    """Page `name`'s budget, its world, a client signed in as its viewer, and its URL."""
    budget = BUDGETS[name]
    world = world_for(name, cast)
    client = Client()
    sign_in(client, cast[budget.viewer])
    return budget, world, client, url_of(name, world)


def queries_of(client: Client, url: str) -> int:
    """The queries one GET of `url` makes, its whole body read (files are streamed), with
    nothing cached, so a cache cannot hide an N+1 (the HR dashboard keeps its counts), and
    HR's kept counts up to date, so that HR's pages recount nobody (a recount's own
    queries are as many for one employee as for thirty: hr/test_counted.py)."""
    cache.clear()
    hr_counts.counted_requests_refresh()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        response.getvalue()  # every byte: a streamed file asks as it is read
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_page_asks_the_same_queries_for_1_and_30_rows_within_its_budget(name, cast):
    budget, world, client, url = signed_in_to(name, cast)
    frame = queries_of(client, reverse(FRAME_PAGE))
    budget.grow(world, 1)
    queries_of(client, url)  # warm: a first view may record something once

    with_one = queries_of(client, url) - frame
    budget.grow(world, 29)
    with_thirty = queries_of(client, url) - frame

    assert with_thirty == with_one, f"{name}: an N+1"
    assert with_one <= budget.queries, f"{name}: {with_one} queries, budget {budget.queries}"


# --- Time: a list at 100 rows takes at most 3 times its time at 10 -----------------------

MAIN_LISTS = (
    "requests_log:my-record",
    "requests_log:notification-list",
    "boundary:account-list",
    "exports:export-list",
    "manager:filed-list",
    "hr:request-list",
)
RUNS = 9


def median_seconds(client: Client, url: str) -> float:
    """The median of RUNS GETs, in this process's CPU time: what the page costs Django,
    which other work on a busy machine does not inflate as it does the clock's."""
    times = []
    for _ in range(RUNS):
        started = time.process_time()
        client.get(url)
        times.append(time.process_time() - started)
    return statistics.median(times)


@pytest.mark.django_db
@pytest.mark.parametrize("name", MAIN_LISTS)
def test_list_at_100_rows_takes_at_most_3_times_its_time_at_10(name, cast):
    budget, world, client, url = signed_in_to(name, cast)
    budget.grow(world, 10)
    client.get(url)
    at_10, queries_at_10 = median_seconds(client, url), queries_of(client, url)

    budget.grow(world, 90)
    at_100, queries_at_100 = median_seconds(client, url), queries_of(client, url)

    assert queries_at_100 == queries_at_10
    assert at_100 <= 3 * at_10, (
        f"{name}: {at_10 * 1000:.1f} ms at 10 rows, {at_100 * 1000:.1f} at 100"
    )
