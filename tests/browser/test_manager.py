"""Flows 6 and 2 from the employer's side, in a browser: Daniel files requests to Maya in
Boundary, she answers there, he reads the answer meant for him (and opening it is
recorded on her record); a requester outside Boundary confirms an answer with a one-time
link. Every new page is screenshotted and checked with axe-core."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from boundary.models import SocialAccount, User
from requests_log import services
from requests_log.models import Decision, TimelineEvent
from tests.factories import SocialAccountFactory, UserFactory, log_request

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRIVATE_NOTE = "Between us: I need the money for the studio roof."
MESSAGE = "Happy to, on these terms. I will send drafts on Monday."


@pytest.fixture
def team():
    """Daniel, who manages Maya; Maya's Instagram is closed to employer content, her
    TikTok is open to it."""
    daniel = UserFactory(
        display_name="Daniel Reyes",
        email="daniel@example.com",
        job_title="Head of Marketing",
        role=User.Role.MANAGER,
    )
    maya = UserFactory(display_name="Maya Okafor", email="maya@example.com", manager=daniel)
    instagram = SocialAccountFactory(
        owner=maya, platform="instagram", handle="maya.makes", boundary="closed"
    )
    tiktok = SocialAccountFactory(
        owner=maya, platform="tiktok", handle="mayamakes", boundary="open"
    )
    return {"daniel": daniel, "maya": maya, "instagram": instagram, "tiktok": tiktok}


def sign_in(page: Page, live_server, user: User) -> None:
    """Signed in through a session made on the server (the login form has its own tests)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def heading(page: Page, text: str):
    return page.get_by_role("heading", level=1, name=text)


def open_menu(page: Page) -> None:
    toggler = page.get_by_role("button", name="Menu")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))


def test_a_paid_disclosed_request_is_accepted_and_the_manager_reads_the_answer(
    desktop_page: Page, phone_page: Page, live_server, team, screenshot, check_accessibility
):
    daniel, maya = desktop_page, phone_page
    sign_in(daniel, live_server, team["daniel"])
    sign_in(maya, live_server, team["maya"])

    # Daniel files a paid, disclosed request.
    daniel.goto("/my-record/")
    daniel.get_by_role("link", name="My team").click()
    expect(heading(daniel, "Requests I filed")).to_be_visible()
    screenshot(daniel, "requests-i-filed-empty")
    check_accessibility(daniel, "requests I filed (empty)")
    daniel.get_by_role("link", name="File a request").click()
    expect(heading(daniel, "Whom do you want to ask?")).to_be_visible()
    screenshot(daniel, "choose-report")
    check_accessibility(daniel, "file a request: whom")
    daniel.get_by_role("link", name="Maya Okafor").click()
    expect(heading(daniel, "Ask Maya Okafor")).to_be_visible()
    expect(daniel.get_by_text("Declining carries no penalty")).to_be_visible()
    daniel.get_by_label("What do you ask them to promote?").fill("the autumn collection")
    daniel.get_by_label("TikTok @mayamakes").check()
    daniel.get_by_label("Format").select_option(label="Videos")
    daniel.get_by_label("How many").fill("2")
    deadline = timezone.localtime(timezone.now() + timedelta(days=10)).replace(hour=17, minute=0)
    daniel.get_by_label("By when").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    daniel.get_by_label("What you offer in return").fill("€400 per video")
    daniel.get_by_label("The disclosure the company will require").fill(
        "#ad at the start, and the paid-partnership label"
    )
    screenshot(daniel, "file-form")
    check_accessibility(daniel, "file a request: form")
    daniel.get_by_role("button", name="Send to Maya Okafor").click()
    expect(heading(daniel, "The autumn collection")).to_be_visible()
    expect(daniel.get_by_text("No answer yet.")).to_be_visible()
    screenshot(daniel, "filed-pending")
    check_accessibility(daniel, "filed request (pending)")

    # Maya answers in Boundary: accepts with conditions, a private note and a message.
    maya.goto("/my-record/")
    maya.get_by_role("link", name=re.compile("autumn collection", re.I)).first.click()
    expect(maya.get_by_text("Disclosure required")).to_be_visible()
    maya.get_by_role("link", name="Record my answer").click()
    maya.get_by_label("Accept with conditions").check()
    maya.get_by_label("Pay").fill("€500 per video")
    maya.get_by_label("Every post discloses my connection to the company").check()
    maya.get_by_label("I approve the content before it is published").check()
    maya.get_by_label("Details", exact=True).fill(PRIVATE_NOTE)
    maya.get_by_label("A message to Daniel Reyes").fill(MESSAGE)
    screenshot(maya, "decision-form-filed")
    check_accessibility(maya, "decision form (filed request)")
    maya.get_by_role("button", name="Record my answer").click()
    expect(maya.get_by_text("Daniel Reyes reads your answer in Boundary")).to_be_visible()

    # Daniel sees the answer and the message, never the private note.
    daniel.goto("/team/")
    expect(daniel.get_by_text("New answer")).to_be_visible()
    screenshot(daniel, "requests-i-filed")
    check_accessibility(daniel, "requests I filed")
    # On a phone the marker of a new answer is on screen, not in a column off to the right.
    daniel.set_viewport_size(PHONE)
    box = daniel.get_by_text("New answer").bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    screenshot(daniel, "requests-i-filed-phone")
    daniel.set_viewport_size(DESKTOP)
    daniel.get_by_role("link", name="The autumn collection").click()
    answer = daniel.locator(".answer-card")
    expect(answer.get_by_text("Accept with conditions")).to_be_visible()
    expect(answer.get_by_text("Pay: €500 per video")).to_be_visible()
    expect(answer.get_by_text(MESSAGE)).to_be_visible()
    expect(daniel.get_by_text(PRIVATE_NOTE)).to_have_count(0)
    assert "studio roof" not in daniel.content()
    screenshot(daniel, "filed-answered")
    check_accessibility(daniel, "filed request (answered)")

    # Maya's record shows that he opened it, once however often he looks.
    daniel.reload()
    maya.reload()
    expect(maya.get_by_text(re.compile(r"Seen by Daniel Reyes at"))).to_have_count(2)
    screenshot(maya, "request-seen-by-requester")
    check_accessibility(maya, "request detail (seen by the requester)")
    assert TimelineEvent.objects.filter(kind="seen_by_requester").count() == 1


def test_filing_to_a_closed_account_shows_the_warning(
    desktop_page: Page, live_server, team, screenshot, check_accessibility
):
    page = desktop_page
    sign_in(page, live_server, team["daniel"])

    page.goto(f"/team/file/{team['maya'].pk}/")
    expect(
        page.get_by_text("Maya Okafor has closed this account to employer content.")
    ).to_be_visible()
    page.get_by_label("What do you ask them to promote?").fill("the autumn collection")
    page.get_by_label("Instagram @maya.makes").check()
    page.get_by_role("button", name="Send to Maya Okafor").click()

    expect(
        page.get_by_text("Maya Okafor has closed Instagram @maya.makes to employer content.")
    ).to_be_visible()
    screenshot(page, "file-form-closed-account")
    check_accessibility(page, "file a request: closed account")
    page.get_by_label("I understand, and I still ask").check()
    page.get_by_role("button", name="Send to Maya Okafor").click()
    expect(heading(page, "The autumn collection")).to_be_visible()
    expect(page.locator(".boundary-closed")).to_be_visible()
    screenshot(page, "filed-closed-account")
    event = TimelineEvent.objects.get(kind="filed")
    assert event.payload["closed_accounts_warned"] == [team["instagram"].pk]


def test_an_acknowledgement_link_works_once(
    phone_page: Page, browser, live_server, team, screenshot, check_accessibility
):
    maya = team["maya"]
    logged = log_request(maya, framing="expected", compensation_offered="")
    services.decision_record(
        promotion_request=logged,
        decided_by=maya,
        kind=Decision.Kind.DECLINE,
        decline_reasons=[Decision.DeclineReason.PERSONAL_SEPARATE],
    )
    page = phone_page
    sign_in(page, live_server, maya)

    page.goto(logged.get_absolute_url())
    page.get_by_role("button", name="Add an acknowledgement link").click()
    reply = page.get_by_label("Reply", exact=True).input_value()
    link = re.search(r"Please confirm you received this answer: (\S+)", reply).group(1)
    screenshot(page, "reply-with-acknowledgement-link")
    check_accessibility(page, "request detail (acknowledgement link)")

    # Daniel is not in Boundary: he opens the link in his own browser, signed out.
    path = link.split("://", 1)[1].split("/", 1)[1]
    outsider = browser.new_context(base_url=live_server.url).new_page()
    outsider.goto(f"/{path}")
    expect(heading(outsider, "Confirm you received Maya's answer")).to_be_visible()
    assert not TimelineEvent.objects.filter(kind="acknowledged").exists()  # GET did nothing
    screenshot(outsider, "acknowledge")
    check_accessibility(outsider, "acknowledge")
    outsider.get_by_role("button", name="I received this answer").click()
    expect(heading(outsider, "Thank you")).to_be_visible()
    screenshot(outsider, "acknowledged")
    check_accessibility(outsider, "acknowledged")
    outsider.goto(f"/{path}")
    expect(heading(outsider, "This link is no longer valid")).to_be_visible()
    screenshot(outsider, "acknowledge-used")
    check_accessibility(outsider, "acknowledge (used link)")
    outsider.context.close()

    page.reload()
    expect(page.get_by_text("Receipt acknowledged")).to_be_visible()
    screenshot(page, "request-acknowledged")
    assert TimelineEvent.objects.filter(kind="acknowledged").count() == 1
    assert SocialAccount.objects.count() == 2
