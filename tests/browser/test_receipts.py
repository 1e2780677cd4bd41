"""Receipts in a browser: Maya finds them in the navigation, gets one, downloads it, has
them sent to a personal address she confirms from the emailed link, and checks an export
against her receipt on the Verify page.

A real RFC 3161 authority runs on loopback (tests/tsa.py). No Celery worker here: the
timestamp a checkpoint asks for is fetched at once, in the web request's after-commit
hook, as a worker would a moment later; a receipt email is recorded, not queued (the
integration tests send them through a real worker). Emails the live server sends land
in Django's test outbox (locmem), the same process.

Screenshots (desktop 1280 wide, phone 390 wide) go to /tmp/shots-receipts/ (or
$RECEIPT_SHOTS) as well as test-artifacts/screenshots/.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from requests_log.exports import receiptformat, receipts, tasks
from requests_log.models import Checkpoint, ReceiptAddress, Timestamp
from tests.factories import UserFactory, log_request
from tests.tsa import LocalAuthority, local_authority

from .conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "quiet-harbour-lantern-42"
HOME = "maya@home.example"
SHOTS = Path(os.environ.get("RECEIPT_SHOTS", "/tmp/shots-receipts"))  # noqa: S108


@pytest.fixture
def tsa(tmp_path, settings) -> Iterator[LocalAuthority]:
    served = local_authority(tmp_path / "tsa")
    authority = next(served)
    settings.RFC3161_TSA_URLS = [authority.url]
    settings.RFC3161_TSA_ROOTS = [str(authority.root)]
    yield authority
    served.close()


@pytest.fixture
def worker_stand_in(monkeypatch) -> list[tuple]:
    """What a checkpoint queues after commit, done here instead of by a worker: its
    timestamps fetched at once; its emails recorded (returned) and not sent."""
    emails: list[tuple] = []

    def stamp(checkpoint_id: int, authority: str) -> None:
        receipts.timestamp_fetch(checkpoint_id=checkpoint_id, authority=authority)

    monkeypatch.setattr(tasks.timestamp_checkpoint, "delay", stamp)
    monkeypatch.setattr(
        tasks.send_receipt, "apply_async", lambda args, **options: emails.append(args)
    )
    return emails


@pytest.fixture
def maya(db):
    return UserFactory(display_name="Maya Okafor", email="maya@example.com", password=PASSWORD)


@pytest.fixture
def shoot(screenshot) -> Callable[[Page, str], None]:
    """Screenshot the page at desktop and at phone width, into SHOTS (and the usual
    test-artifacts folder); the page is left at desktop width."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> None:
        for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
            screenshot(page, f"{name} {size}")
        page.set_viewport_size(DESKTOP)

    return take


def log_in(page: Page) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="My record")).to_be_visible()


def download(page: Page, link_name: str, folder: Path) -> Path:
    with page.expect_download() as started:
        page.get_by_role("link", name=link_name).click()
    path = folder / started.value.suggested_filename
    started.value.save_as(path)
    return path


def test_maya_gets_keeps_and_checks_a_receipt(
    browser: Browser,
    desktop_page: Page,
    live_server,
    maya,
    tsa,
    worker_stand_in,
    tmp_path,
    shoot,
    check_accessibility,
    console_log,
):
    page = desktop_page
    log_in(page)

    # Receipts, from the navigation: none yet, and nothing to sign yet.
    page.get_by_role("navigation").get_by_role("link", name="Receipts").click()
    expect(page.get_by_role("heading", level=1, name="Receipts")).to_be_visible()
    expect(page.get_by_text("No receipt yet")).to_be_visible()
    expect(page.get_by_role("heading", name="Latest receipt")).to_have_count(0)
    check_accessibility(page, "receipts empty")
    page.get_by_role("button", name="Get a receipt now").click()
    expect(page.get_by_text("Your record is empty: there is nothing to sign yet.")).to_be_visible()

    # She logs a request (in this process, committed), then asks for a receipt.
    log_request(maya)
    head = maya.timeline_events.order_by("-seq").first()
    page.get_by_role("button", name="Get a receipt now").click()
    expect(
        page.get_by_text(f"Receipt up to entry #{head.seq}: download it and keep it.")
    ).to_be_visible()
    latest = page.locator(".latest-receipt")
    expect(latest.get_by_role("heading", name="Latest receipt")).to_be_visible()
    expect(latest).to_contain_text(f"Entries #1 to #{head.seq}")
    expect(latest).to_contain_text(head.hash)
    expect(latest).to_contain_text("Test TSA, ")
    expect(page.get_by_role("list").filter(has_text="Asked for")).to_contain_text("1 timestamp")

    kept = download(page, "Download this receipt", tmp_path)
    assert re.fullmatch(rf"boundary-receipt-\d{{8}}-\d{{6}}-{head.seq}\.txt", kept.name)
    receipt = receiptformat.read_receipt(kept.read_text(encoding="utf-8"))
    checkpoint = Checkpoint.objects.get(employee=maya)
    assert (receipt.seq, receipt.head_hash) == (head.seq, head.hash)
    assert receipt.timestamps == [bytes(Timestamp.objects.get(checkpoint=checkpoint).response)]

    # A personal address: it waits for her to confirm it.
    page.get_by_label("A personal email address").fill(HOME)
    page.get_by_label("Each receipt as it is issued").check()
    page.get_by_role("button", name="Send me a confirmation link").click()
    expect(
        page.get_by_text(f"We sent a link to {HOME}: open it to confirm the address.")
    ).to_be_visible()
    expect(page.get_by_text(f"Waiting for you to confirm {HOME}")).to_be_visible()
    check_accessibility(page, "receipts waiting for confirmation")
    shoot(page, "receipts-page-waiting")

    # The link in the email, opened in another browser (her personal mail, not signed in).
    (confirmation,) = [message for message in mail.outbox if message.to == [HOME]]
    link = re.search(r"https?://\S+/receipts/confirm/\S+/", confirmation.body).group(0)
    elsewhere = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    mailbox = elsewhere.new_page()
    mailbox.goto(urlsplit(link).path)
    expect(
        mailbox.get_by_role("heading", level=1, name="Receipts to your personal address")
    ).to_be_visible()
    assert ReceiptAddress.objects.get(employee=maya).confirmed_at is None  # opening is not enough
    check_accessibility(mailbox, "receipt address confirm")
    shoot(mailbox, "confirm-page")
    expect(mailbox.get_by_text(f"send receipts of your record to {HOME}")).to_be_visible()
    mailbox.get_by_role("button", name="Confirm this address").click()
    expect(mailbox.get_by_role("status")).to_have_text(
        f"Confirmed: receipts will go to {HOME} (each receipt as it is issued)."
    )
    expect(mailbox.get_by_role("link", name="Go to Receipts")).to_be_visible()
    check_accessibility(mailbox, "receipt address confirmed")
    shoot(mailbox, "confirm-page-confirmed")
    elsewhere.close()
    assert ReceiptAddress.objects.get(employee=maya).confirmed_at is not None

    page.reload()
    expect(
        page.get_by_text(f"Receipts go to {HOME} (each receipt as it is issued).")
    ).to_be_visible()
    check_accessibility(page, "receipts")
    shoot(page, "receipts-page")
    assert worker_stand_in == []  # her receipt was made before the address was confirmed

    # An export of her record, made after the receipt, checked against it.
    page.goto("/exports/new/")
    page.get_by_label("JSON: to verify").check()
    with page.expect_download() as started:
        page.get_by_role("button", name="Export").click()
    export = tmp_path / started.value.suggested_filename
    started.value.save_as(export)

    page.goto("/verify/")
    page.get_by_label("The export to check").set_input_files(export)
    page.get_by_label("Receipts you kept (optional)").set_input_files([kept])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=2, name="Intact")).to_be_visible()
    expect(page.get_by_role("heading", name="Against your receipts")).to_be_visible()
    verdicts = page.locator(".receipt-verdict")
    expect(verdicts).to_have_count(1)
    expect(verdicts).to_contain_text(kept.name)
    expect(verdicts).to_contain_text("Consistent.")
    expect(verdicts).to_contain_text("Timestamped by Test TSA at ")
    check_accessibility(page, "verify with a receipt")
    shoot(page, "verify-with-receipt")

    assert not [line for line in console_log if line.startswith(("error", "pageerror"))]


def test_the_address_form_saves_and_a_link_can_be_asked_for_again(desktop_page: Page, maya):
    page = desktop_page
    log_in(page)
    page.goto("/my-record/receipts/")
    for _ in range(2):
        page.get_by_label("A personal email address").fill(HOME)
        page.get_by_role("button", name="Send me a confirmation link").click()
    expect(
        page.get_by_text(f"A link went to {HOME} less than a minute ago: look for it there")
    ).to_be_visible()
    assert [message.to for message in mail.outbox] == [[HOME]]

    cache.clear()  # a minute later: the limit on links has lapsed
    page.get_by_label("A personal email address").fill(HOME)
    page.get_by_role("button", name="Send me a confirmation link").click()

    expect(
        page.get_by_text(f"We sent a link to {HOME}: open it to confirm the address.")
    ).to_be_visible()
    expect(page.get_by_text(f"Waiting for you to confirm {HOME}")).to_be_visible()
    assert [message.to for message in mail.outbox] == [[HOME], [HOME]]
    assert ReceiptAddress.objects.get(employee=maya).confirmed_at is None
