"""Flow 7 in a browser: Maya shares a request she logged, and HR can then, and only
then, see it; HR opens it, and Maya's page says who read it and when; HR's dashboard
(counts, patterns, SVG charts with tables) names nobody. Every new page is
screenshotted and checked with axe-core, the charts included."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from boundary.models import User
from requests_log import services, sharing
from requests_log.models import HrExport, PromotionRequest, TimelineEvent
from tests.factories import SocialAccountFactory, UserFactory, decline, log_request
from tests.support import login_with_otp

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people():
    daniel = UserFactory(
        display_name="Daniel Reyes",
        email="daniel@example.com",
        job_title="Head of Marketing",
        department="Marketing",
        role=User.Role.MANAGER,
    )
    maya = UserFactory(
        display_name="Maya Okafor",
        email="maya@example.com",
        department="Design",
        manager=daniel,
    )
    sam = UserFactory(
        display_name="Sam Ortiz", email="sam@example.com", department="Marketing", manager=daniel
    )
    hana = UserFactory(
        display_name="Hana Kim", email="hana@example.com", department="People", role="hr"
    )
    return {"daniel": daniel, "maya": maya, "sam": sam, "hana": hana}


def sign_in(page: Page, live_server, user: User) -> None:
    """Signed in through a session made on the server, past the second factor for HR."""
    client = Client()
    login_with_otp(client, user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_shared_then_seen_by_hr_and_the_employee_sees_the_read(
    desktop_page: Page, phone_page: Page, live_server, people, screenshot, check_accessibility
):
    hr, maya = desktop_page, phone_page
    sign_in(hr, live_server, people["hana"])
    sign_in(maya, live_server, people["maya"])
    closed = SocialAccountFactory(
        owner=people["maya"], platform="instagram", handle="maya.makes", boundary="closed"
    )
    logged = log_request(
        people["maya"],
        promoted_item="The new product line",
        framing=PromotionRequest.Framing.EXPECTED,
        target_accounts=[closed],
        compensation_offered="",
    )
    decline(logged, at=timezone.now() - timedelta(minutes=20))
    hr_url = f"/hr/requests/{logged.pk}/"

    # Not shared: HR gets the same 404 as for anything else, and no count shows it.
    hr.goto("/hr/")
    expect(hr.get_by_role("heading", level=2, name=re.compile(r"^Requests: 0$"))).to_be_visible()
    response = hr.goto(hr_url)
    assert response is not None
    assert response.status == 404

    # Maya shares it from her request page.
    maya.goto(f"/requests/{logged.pk}/")
    expect(maya.locator(".sharing-panel")).to_contain_text("Private")
    screenshot(maya, "request-private")
    check_accessibility(maya, "request page, private")
    maya.get_by_role("button", name="Share with HR").click()
    expect(maya.locator(".sharing-panel")).to_contain_text("Shared")
    expect(maya.locator(".timeline")).to_contain_text("Shared with HR")

    # Now HR sees it: in the counts, and its page.
    hr.goto("/hr/")
    expect(hr.get_by_role("heading", level=2, name=re.compile(r"^Requests: 1$"))).to_be_visible()
    hr.goto(hr_url)
    expect(hr.get_by_role("heading", level=1, name="The new product line")).to_be_visible()
    expect(hr.locator(".hr-sharing-note")).to_contain_text("Shared with HR by Maya Okafor")
    expect(hr.locator(".flag-list")).to_contain_text("closed to employer content")
    screenshot(hr, "hr-request")
    check_accessibility(hr, "HR request page")

    # Maya sees who opened it and when.
    maya.reload()
    expect(maya.locator(".hr-reads")).to_contain_text("Hana Kim opened it on")
    expect(maya.locator(".timeline")).to_contain_text("Opened by Hana Kim (HR)")
    screenshot(maya, "request-read-by-hr")
    maya.goto("/my-record/")
    expect(maya.locator(".sharing-history")).to_contain_text("Hana Kim (HR) opened request #1")
    screenshot(maya, "dashboard-sharing")
    check_accessibility(maya, "dashboard with sharing")

    # She stops: HR's link is the same 404 again; the read stays on her record.
    maya.goto(f"/requests/{logged.pk}/")
    maya.get_by_role("button", name="Stop sharing with HR").click()
    expect(maya.locator(".sharing-panel")).to_contain_text("Private")
    response = hr.goto(hr_url)
    assert response is not None
    assert response.status == 404
    views = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.VIEWED_BY_HR).count()
    assert views == 1

    # Sharing everything she logged takes two steps: the first says what it means.
    maya.goto("/my-record/")
    share_all = maya.get_by_role("button", name="Share them all with HR")
    expect(share_all).to_be_hidden()
    maya.get_by_text("Share all I logged…").click()
    expect(maya.locator(".share-all")).to_contain_text("HR will see every request you logged")
    screenshot(maya, "dashboard-share-all")
    check_accessibility(maya, "dashboard, share all opened")
    share_all.click()
    expect(maya.get_by_role("status")).to_contain_text("Shared 1 request with HR.")
    response = hr.goto(hr_url)
    assert response is not None
    assert response.status == 200


def test_the_hr_dashboard_charts_and_lists(
    desktop_page: Page, live_server, people, screenshot, check_accessibility
):
    page = desktop_page
    sign_in(page, live_server, people["hana"])
    for n, (person, months_ago) in enumerate(
        [(people["maya"], 0), (people["maya"], 1), (people["sam"], 2), (people["sam"], 0)]
    ):
        item = log_request(
            person,
            promoted_item=f"Campaign {n}",
            occurred_at=timezone.now() - timedelta(days=31 * months_ago, hours=1),
            framing="required" if n == 2 else "asked",
        )
        sharing.promotion_requests_share(employee=person, request_pks=[item.pk])
        if n == 1:
            decline(item, at=timezone.now() - timedelta(days=20))
    services.promotion_request_file(
        manager=people["daniel"],
        employee=people["sam"],
        target_accounts=[],
        promoted_item="The autumn collection",
        content_format="videos",
    )

    page.goto("/hr/")
    expect(page.get_by_role("heading", level=1, name="HR dashboard")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(2)
    html = page.content()
    for key in ("maya", "sam", "daniel"):  # Hana's own name is on her log-out button
        assert people[key].display_name not in html
    screenshot(page, "hr-dashboard")
    # On a phone the charts' labels stay readable (the chart scrolls sideways instead).
    page.set_viewport_size(PHONE)
    page.reload()
    label = page.locator(".chart text").first.bounding_box()
    assert label is not None
    assert label["height"] >= 10
    months = page.locator(".chart-scroll[data-newest-last]")
    # Scrolled to its end, where the newest months are.
    assert months.evaluate("f => f.scrollWidth > f.clientWidth && f.scrollLeft > 0")
    screenshot(page, "hr-dashboard-phone")
    page.set_viewport_size(DESKTOP)
    check_accessibility(page, "HR dashboard")

    page.get_by_role("link", name="Framed as required or with consequences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Framed as required or with consequences"
    )
    expect(page.locator(".hr-request-list tbody tr")).to_have_count(1)
    screenshot(page, "hr-pattern-list")
    check_accessibility(page, "HR pattern list")

    page.goto("/hr/")
    page.get_by_label("Department", exact=True).select_option("Marketing")
    page.get_by_role("button", name="Show").click()
    expect(
        page.get_by_role("heading", level=2, name=re.compile(r"in Marketing: 3$"))
    ).to_be_visible()
    screenshot(page, "hr-dashboard-marketing")

    # The export takes the filters: Marketing's three requests, recorded.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export these requests (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert download.value.suggested_filename.startswith("hr-promotion-requests-")
    assert len(text.strip().splitlines()) == 1 + 3
    assert HrExport.objects.get().department == "Marketing"
