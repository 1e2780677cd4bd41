"""Flow 6's consent with disclosure proof, in a browser: Maya (working in the UK) accepts a
request Daniel filed, sees the checklist for each account she chose and the notes on her
rights, records proof for each (a link, then a screenshot; a plain http link is refused
first), and "disclosure pending" clears. Every page she sees is screenshotted and checked
with axe-core."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from boundary.models import User
from requests_log import services
from requests_log.models import PromotionRequest
from tests.factories import SocialAccountFactory, UserFactory

from .test_manager import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def filed():
    """Daniel filed a paid, disclosed request for two videos on Maya's Instagram and TikTok."""
    daniel = UserFactory(
        display_name="Daniel Reyes",
        email="daniel@example.com",
        job_title="Head of Marketing",
        role=User.Role.MANAGER,
    )
    maya = UserFactory(
        display_name="Maya Okafor", email="maya@example.com", manager=daniel, work_country="GB"
    )
    instagram = SocialAccountFactory(owner=maya, platform="instagram", handle="maya.makes")
    tiktok = SocialAccountFactory(owner=maya, platform="tiktok", handle="mayamakes")
    promotion_request = services.promotion_request_file(
        manager=daniel,
        employee=maya,
        target_accounts=[instagram, tiktok],
        promoted_item="the autumn collection",
        content_format=PromotionRequest.ContentFormat.VIDEOS,
        quantity=2,
        compensation_offered="€400 per video",
        disclosure_terms="#ad at the start, and the paid-partnership label",
    )
    return {"maya": maya, "request": promotion_request}


def test_accepting_shows_the_checklist_and_proof_clears_disclosure_pending(
    phone_page: Page, live_server, filed, screenshot, check_accessibility, tmp_path: Path
):
    page = phone_page
    sign_in(page, live_server, filed["maya"])

    page.goto(filed["request"].get_absolute_url())
    page.get_by_role("link", name="Record my answer").click()
    page.get_by_label("Accept with conditions").check()
    page.get_by_label("Every post discloses my connection to the company").check()
    page.get_by_label("Instagram @maya.makes").check()
    page.get_by_label("TikTok @mayamakes").check()
    page.get_by_role("button", name="Record my answer").click()

    checklist = page.locator("#disclosure")
    expect(checklist.get_by_text("Disclosure pending")).to_be_visible()
    instagram = checklist.get_by_role("article", name="Instagram @maya.makes")
    tiktok = checklist.get_by_role("article", name="TikTok @mayamakes")
    expect(instagram.get_by_text("Turn on Instagram's “Paid partnership” label")).to_be_visible()
    expect(instagram.get_by_text(re.compile("^Start with “#ad”"))).to_be_visible()
    expect(tiktok.get_by_text("Turn on TikTok's content-disclosure setting")).to_be_visible()
    expect(tiktok.get_by_text(re.compile("say it and show it on screen"))).to_be_visible()
    rights = page.locator("#rights")
    expect(rights.get_by_text(re.compile("CAP Code"))).to_be_visible()
    expect(rights.get_by_text("Not legal advice").first).to_be_visible()
    screenshot(page, "accepted-checklist")
    check_accessibility(page, "request detail (disclosure checklist)")

    # Her record lists it as accepted, disclosure pending.
    page.goto("/my-record/")
    row = page.get_by_role("row", name=re.compile("autumn collection", re.I))
    expect(row.get_by_text("Disclosure pending")).to_be_visible()
    screenshot(page, "record-disclosure-pending")
    check_accessibility(page, "my record (disclosure pending)")
    page.goto(filed["request"].get_absolute_url())

    # A plain http link is refused at its form, and what she typed stays.
    instagram.get_by_label("Link to the post").fill("http://www.instagram.com/p/abc123/")
    instagram.get_by_role("button", name="Record proof").click()
    expect(page.get_by_text("Use the post's secure link: it starts with https://")).to_be_visible()
    expect(
        page.get_by_role("article", name="Instagram @maya.makes").get_by_label("Link to the post")
    ).to_have_value("http://www.instagram.com/p/abc123/")
    screenshot(page, "proof-refused")
    check_accessibility(page, "request detail (proof refused)")

    instagram = page.get_by_role("article", name="Instagram @maya.makes")
    instagram.get_by_label("Link to the post").fill("https://www.instagram.com/p/abc123/")
    instagram.get_by_role("button", name="Record proof").click()
    expect(page.get_by_text("Disclosure proof recorded for Instagram @maya.makes.")).to_be_visible()
    expect(page.locator("#disclosure").get_by_text("Disclosure pending")).to_be_visible()

    shot = tmp_path / "tiktok-post.png"
    shot.write_bytes(PNG)
    tiktok = page.get_by_role("article", name="TikTok @mayamakes")
    tiktok.get_by_label("Screenshot of the post").set_input_files(str(shot))
    tiktok.get_by_role("button", name="Record proof").click()

    expect(page.locator("#disclosure").get_by_text("Disclosure proof recorded")).to_be_visible()
    expect(page.get_by_text("Disclosure pending")).to_have_count(0)
    expect(page.locator(".timeline-disclosure_proof_added")).to_have_count(2)
    screenshot(page, "disclosure-proven")
    check_accessibility(page, "request detail (disclosure proven)")
    assert PromotionRequest.objects.get(pk=filed["request"].pk).disclosure_pending is False


def test_the_checklist_and_rights_notes_on_a_wide_screen(
    desktop_page: Page, live_server, filed, screenshot, check_accessibility
):
    maya, promotion_request = filed["maya"], filed["request"]
    services.decision_record(
        promotion_request=promotion_request,
        decided_by=maya,
        kind="accept",
        accounts=list(promotion_request.target_accounts.all()),
    )
    page = desktop_page
    sign_in(page, live_server, maya)

    page.goto(promotion_request.get_absolute_url())

    expect(page.locator("#disclosure").get_by_role("article")).to_have_count(2)
    expect(page.locator("#rights").get_by_role("heading", level=3)).to_have_count(3)
    screenshot(page, "request-wide")
    check_accessibility(page, "request detail (disclosure checklist, wide)")
