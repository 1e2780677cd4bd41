"""Flow 5 of the design in a browser: Maya exports her record, HR verifies it without an
account, and a changed byte makes the check fail and say where."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from requests_log import services
from requests_log.models import Decision, FollowUp
from tests.factories import SocialAccountFactory, UserFactory, log_request

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "quiet-harbour-lantern-42"


@pytest.fixture
def maya_with_a_dispute():
    maya = UserFactory(display_name="Maya Okafor", email="maya@example.com", password=PASSWORD)
    instagram = SocialAccountFactory(owner=maya, handle="maya.makes", boundary="closed")
    meeting = log_request(
        maya,
        target_accounts=[instagram],
        occurred_at=timezone.now() - timedelta(days=3),
        words_used="You're expected to post three videos about the new product line by Friday.",
        framing="expected",
        compensation_offered="",
    )
    services.decision_record(
        promotion_request=meeting,
        decided_by=maya,
        kind=Decision.Kind.DECLINE,
        decline_reasons=[Decision.DeclineReason.PERSONAL_SEPARATE],
    )
    services.follow_up_add(
        promotion_request=meeting,
        actor=maya,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=timezone.now(),
        who="Daniel Reyes",
        what_was_said="Not a team player.",
    )
    return meeting


def export(page: Page, format_label: str, tmp_path: Path) -> Path:
    page.get_by_label(format_label).check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return path


def verify(page: Page, path: Path) -> None:
    page.goto("/verify/")
    page.get_by_label("The export to check").set_input_files(path)
    page.get_by_role("button", name="Verify").click()


def test_maya_exports_and_hr_verifies(
    browser: Browser,
    desktop_page: Page,
    live_server,
    maya_with_a_dispute,
    tmp_path,
    screenshot,
    check_accessibility,
    console_log,
):
    page = desktop_page
    page.goto("/login/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(maya_with_a_dispute.get_absolute_url())
    page.get_by_role("link", name="Export this request").click()
    expect(page.get_by_role("heading", level=1, name="Export my record")).to_be_visible()
    expect(page.get_by_label("Only the requests I tick below")).to_be_checked()
    screenshot(page, "export form")
    check_accessibility(page, "export form")

    # A first try refused (nothing ticked) comes back with its error; the next try, a
    # download that leaves the page as it is, clears it and says what is happening.
    page.get_by_role("checkbox", name=re.compile("#1")).uncheck()
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_text("Tick at least one request")).to_be_visible()
    page.get_by_role("checkbox", name=re.compile("#1")).check()
    pdf = export(page, "PDF: to read", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF-")
    expect(page.get_by_text("Tick at least one request")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("listed under Exports")
    screenshot(page, "export form after a download")
    page.get_by_label("Witnesses' names").check()
    record = export(page, "JSON: to verify", tmp_path)

    page.goto("/exports/")
    exports = page.get_by_role("list", name="Your exports, newest first").get_by_role("listitem")
    expect(exports).to_have_count(2)
    expect(exports.filter(has_text="JSON")).to_contain_text("not kept. Export again")
    screenshot(page, "exports")
    check_accessibility(page, "exports")
    # On a phone, the PDF's Download button is on screen, not off to the right.
    page.set_viewport_size(PHONE)
    download = exports.filter(has_text="PDF").get_by_role("link", name=re.compile("Download"))
    box = download.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    screenshot(page, "exports on a phone")
    page.set_viewport_size(DESKTOP)
    exports.filter(has_text="PDF").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1, name="PDF: to read")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"Download boundary-record-"))).to_be_visible()
    screenshot(page, "export detail")
    check_accessibility(page, "export detail")

    # HR has no account: a fresh browser context.
    hr_context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    hr = hr_context.new_page()
    verify(hr, pdf)
    expect(hr.get_by_role("heading", level=2, name="Intact")).to_be_visible()
    expect(hr.get_by_text("Maya Okafor's record: events #1 to #3")).to_be_visible()
    screenshot(hr, "verify intact")
    check_accessibility(hr, "verify intact")

    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(record.read_bytes().replace(b"Not a team player.", b"A team player."))
    verify(hr, tampered)
    expect(hr.get_by_role("heading", level=2, name="Altered")).to_be_visible()
    expect(hr.locator(".verdict-where")).to_have_text("event #3")
    screenshot(hr, "verify altered")
    check_accessibility(hr, "verify altered")

    hr.goto("/keys/")
    expect(hr.get_by_role("heading", level=1, name="This instance's public key")).to_be_visible()
    check_accessibility(hr, "public key")
    hr_context.close()
    assert not [line for line in console_log if line.startswith(("error", "pageerror"))]
