"""Every main page in Chromium under the real Content-Security-Policy (issue 13, Headers):
Maya's pages signed in, the public pages signed out, the lockout page and the CSRF
failure page. Each violation the browser reports (the `securitypolicyviolation` event,
and the console's "Refused to …" lines) fails the test."""

import pytest
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page, expect

from tests.factories import UserFactory
from tests.test_access_matrix import (
    MATRIX,
    OWNER,
    PUBLIC,
    SIGNED_IN,
    TOKEN,
    TOKEN_KWARGS,
    make_world,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # UserFactory's

# Reports each violation to Python; injected before any page script, so the CSP does not
# apply to it, and kept across navigations.
LISTEN = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


# Files, not pages: the browser saves them and shows nothing.
DOWNLOADS = {
    "exports:export-download",
    "exports:public-key-pem",
    "exports:receipt-download",
    "requests_log:evidence-download",
    "requests_log:personal-data",
}


def listen(context: BrowserContext, page: Page, console_log: list[str]) -> list[str]:
    violations: list[str] = []
    context.expose_function(
        "reportCspViolation", lambda text: violations.append(f"{page.url}: {text}")
    )
    context.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return violations


def pages_for(who: set[str], world) -> list[str]:
    """The GET pages of the access matrix that these kinds of row allow, on Maya's world."""
    urls = []
    for name, row in sorted(MATRIX.items()):
        if "GET" not in row.methods or row.who not in who or row.roles is not None:
            continue
        if name in DOWNLOADS:
            continue
        if row.who == TOKEN:
            urls.append(reverse(name, kwargs=TOKEN_KWARGS[name]))
        elif row.obj is None:
            urls.append(reverse(name))
        else:
            urls.append(reverse(name, kwargs=world[row.obj]))
    return urls


def visit(page: Page, urls: list[str]) -> dict[str, int]:
    statuses = {}
    for url in urls:
        response = page.goto(url)
        page.wait_for_load_state("load")
        statuses[url] = response.status if response else 0
    return statuses


def test_maya_s_pages_report_no_csp_violation(desktop_page: Page, console_log):
    page = desktop_page
    violations = listen(page.context, page, console_log)
    maya = UserFactory(email="maya@example.com", display_name="Maya Okafor")
    world = make_world(maya)
    urls = pages_for({SIGNED_IN, OWNER}, world)

    page.goto("/login/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="My record")).to_be_visible()
    statuses = visit(page, urls)

    assert len(urls) >= 20
    assert {url: status for url, status in statuses.items() if status != 200} == {}
    assert violations == []


def test_public_pages_report_no_csp_violation(desktop_page: Page, console_log):
    page = desktop_page
    violations = listen(page.context, page, console_log)
    urls = pages_for({PUBLIC, TOKEN}, {})

    statuses = visit(page, urls)

    assert "/login/" in urls
    assert "/verify/" in urls
    assert all(status < 500 for status in statuses.values())
    assert violations == []


def test_lockout_and_csrf_failure_pages_report_no_csp_violation(
    desktop_page: Page, console_log, settings
):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 1
    page = desktop_page
    violations = listen(page.context, page, console_log)
    UserFactory(email="maya@example.com")

    page.goto("/login/")
    page.context.clear_cookies()  # the form's CSRF cookie is gone: its token is refused
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="This form has expired")).to_be_visible()
    page.goto("/login/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Too many attempts")).to_be_visible()

    assert violations == []


def test_the_listener_hears_a_violation(desktop_page: Page, console_log):
    page = desktop_page
    violations = listen(page.context, page, console_log)
    page.goto("/login/")

    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', "
        '\'<img alt="" src="https://tracker.invalid/pixel.png">\')'
    )
    page.wait_for_timeout(500)

    assert any("img-src blocked https://tracker.invalid/pixel.png" in v for v in violations)
