"""Stored input stays text: payloads saved in every free-text field render escaped on
every page that shows them and in the PDF, the PDF renderer fetches nothing outside,
oversized input is refused with an error rather than a 500, and no template or module
marks user data safe (issue 13, item 6)."""

import re
import socket
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_log import services
from tests.factories import SocialAccountFactory, log_request
from tests.requests_log.exports.test_record import export_now, pdf_text
from tests.support import login_with_otp

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = "<script>alert('boundary')</script>"
ATTRIBUTE = '" onmouseover="alert(1)" x="'
BREAKOUT = "'><img src=x onerror=alert(2)>"
LINK = "javascript:alert(3)"
RIGHT_TO_LEFT = "\u202egnp.exe"
PAYLOAD = f"{SCRIPT} {ATTRIBUTE} {BREAKOUT} {LINK} {RIGHT_TO_LEFT}"


class LiveMarkup(HTMLParser):
    """What of a page would run: event-handler attributes, javascript: links, and
    scripts with code in them (ours are all files, loaded by src)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value}>")
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.found.append(f"<script>{data[:40]}")


def live_markup(page: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(page)
    return parser.found


# Each marks user data safe nowhere: plain-text emails (no HTML context) and the QR code
# segno draws from a server-made key.
ALLOWED_UNESCAPED = {
    "templates/registration/password_reset_email.html": "autoescape off",
    "templates/emails/invitation-body.txt": "autoescape off",
    "templates/emails/invitation-subject.txt": "autoescape off",
    "templates/emails/reminder-body.txt": "autoescape off",
    "templates/emails/hr-digest-body.txt": "autoescape off",
    "templates/emails/signup-attempt-body.txt": "autoescape off",
    "templates/emails/signup-attempt-subject.txt": "autoescape off",
    "templates/emails/verify-email-body.txt": "autoescape off",
    "templates/emails/verify-email-subject.txt": "autoescape off",
    "templates/boundary/two_factor_setup.html": "qr_svg|safe",
}
UNESCAPING = re.compile(r"\|\s*safe\b|mark_safe\(|SafeString\(|autoescape off|\{%\s*autoescape")


def test_nothing_marks_user_data_safe():
    found = {}
    for path in [*ROOT.glob("templates/**/*"), *ROOT.glob("boundary/**/*.py")]:
        found |= _unescaping(path)
    for path in ROOT.glob("requests_log/**/*.py"):
        found |= _unescaping(path)

    assert {path: sorted(kinds) for path, kinds in found.items()} == {
        path: [kind] for path, kind in ALLOWED_UNESCAPED.items()
    }


def _unescaping(path: Path) -> dict[str, set[str]]:
    if not path.is_file() or "migrations" in path.parts:
        return {}
    kinds = {
        "qr_svg|safe" if "|safe" in match.replace(" ", "") else match.strip("{% (")
        for match in UNESCAPING.findall(path.read_text(errors="replace"))
    }
    kinds = {"autoescape off" if kind.startswith("autoescape") else kind for kind in kinds}
    return {str(path.relative_to(ROOT)): kinds} if kinds else {}


@pytest.fixture
def stored(employee, manager):
    """Maya's record with the payload in every free-text field a person types."""
    employee.display_name = f"Maya {SCRIPT}"
    employee.save(update_fields=["display_name"])
    account = SocialAccountFactory(owner=employee, about=PAYLOAD, boundary_note=PAYLOAD)
    logged = log_request(
        employee,
        target_accounts=[account],
        requester_name=f"Dan {BREAKOUT}",
        requester_title=ATTRIBUTE,
        setting=PAYLOAD,
        words_used=PAYLOAD,
        promoted_item=f"Item {SCRIPT}",
        compensation_offered=PAYLOAD[:300],
        witnesses=PAYLOAD,
        notes=PAYLOAD,
    )
    services.decision_record(
        promotion_request=logged,
        decided_by=employee,
        kind="decline",
        decline_reasons=["no_time"],
        details=PAYLOAD,
    )
    services.follow_up_add(
        promotion_request=logged,
        actor=employee,
        kind="pressure",
        occurred_at=timezone.now(),
        who=f"Dan {ATTRIBUTE}",
        what_was_said=PAYLOAD,
    )
    filed = services.promotion_request_file(
        manager=manager,
        employee=employee,
        target_accounts=[account],
        promoted_item=f"Filed {SCRIPT}",
        content_format="posts",
        compensation_offered=LINK,
        disclosure_terms=PAYLOAD,
    )
    services.decision_record(
        promotion_request=filed,
        decided_by=employee,
        kind="accept",
        accounts=[account],
        details=PAYLOAD,
        details_in_reply=True,
        message_to_requester=PAYLOAD,
    )
    return logged, filed


def _assert_escaped(page: str, where: str) -> None:
    assert live_markup(page) == [], where
    assert "&lt;script&gt;alert(" in page, f"{where}: the payload is not shown at all"


@pytest.mark.django_db
def test_stored_payloads_render_escaped_on_every_page(client, stored, employee, manager):
    logged, filed = stored
    client.force_login(employee)
    pages = {
        "her record": reverse("requests_log:my-record"),
        "her logged request": logged.get_absolute_url(),
        "her filed request": filed.get_absolute_url(),
        "her accounts": reverse("boundary:account-list"),
        "her profile": reverse("boundary:profile"),
        "correcting it": reverse("requests_log:request-correct", args=[logged.pk]),
    }
    shown = {name: client.get(url).content.decode() for name, url in pages.items()}
    login_with_otp(client, manager)
    shown["his filed list"] = client.get(reverse("manager:filed-list")).content.decode()
    shown["his filed request"] = client.get(
        reverse("manager:filed-detail", args=[filed.pk])
    ).content.decode()

    for name, page in shown.items():
        if name in ("her accounts", "her profile", "his filed list"):
            assert live_markup(page) == [], name
        else:
            _assert_escaped(page, name)


@pytest.mark.django_db
def test_the_pdf_shows_payloads_as_text_and_fetches_nothing(stored, employee):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    fetches = []

    def accept_any():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            fetches.append(connection.recv(200))
            connection.close()

    stop = threading.Event()
    watcher = threading.Thread(target=accept_any, daemon=True)
    watcher.start()
    outside = f"http://127.0.0.1:{port}"
    log_request(
        employee,
        promoted_item=f'<img src="{outside}/img.png">',
        words_used=(
            f'<link rel="stylesheet" href="{outside}/style.css">'
            f'<div style="background: url({outside}/bg.png)">x</div>'
            f'<iframe src="{outside}/frame"></iframe><object data="{outside}/obj"></object>'
        ),
        notes=f"@import url({outside}/import.css);",
    )
    try:
        data, _ = export_now(employee, format="pdf")
    finally:
        stop.set()
        watcher.join()
        listener.close()

    text = pdf_text(data)
    assert fetches == []
    assert "<script>alert('boundary')</script>" in text
    assert f'<img src="{outside}/img.png">' in text


@pytest.mark.django_db
def test_64_kilobytes_in_a_field_is_refused_with_an_error_and_stores_nothing(client, employee):
    from tests.requests_log.test_views import request_form_data

    client.force_login(employee)
    huge = "x" * 65536

    logged = client.post(reverse("requests_log:request-create"), request_form_data(words_used=huge))
    named = client.post(
        reverse("boundary:profile"),
        {"display_name": huge, "time_zone": "UTC", "quiet_hours_start": "21:00"},
    )

    assert logged.status_code == named.status_code == 200
    assert "words_used" in logged.context["form"].errors
    assert "display_name" in named.context["form"].errors
    assert not employee.promotion_requests.exists()
    employee.refresh_from_db()
    assert employee.display_name != huge
