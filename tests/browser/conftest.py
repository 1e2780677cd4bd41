"""Headless Chromium (Debian's, through Playwright's sync API) against pytest-django's
live_server, plus helpers for screenshots and axe-core checks.

Playwright's sync API runs an event loop in the test thread, so Django refuses ORM
calls from that thread (the flush after each test, for one) unless it is told that
is fine. Tests only: set here, at import time.
"""

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium keeps trying to reach the internet.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_RESULTS = ARTIFACTS / "axe"
FAILING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_log() -> list[str]:
    """What the pages of this test wrote to the browser console, and uncaught errors."""
    return []


def _new_page(browser: Browser, live_server, log: list[str], **options) -> Iterator[Page]:
    # Reduced motion turns off Bootstrap's transitions, so a menu is open (not
    # half-way through opening) when a test clicks in it.
    context = browser.new_context(base_url=live_server.url, reduced_motion="reduce", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", lambda message: log.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: log.append(f"pageerror: {error}"))
    yield page
    context.close()


@pytest.fixture
def phone_page(browser: Browser, live_server, console_log) -> Iterator[Page]:
    """A phone-sized page (390x844) that may use the clipboard."""
    yield from _new_page(
        browser,
        live_server,
        console_log,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        permissions=["clipboard-read", "clipboard-write"],
    )


@pytest.fixture
def desktop_page(browser: Browser, live_server, console_log) -> Iterator[Page]:
    yield from _new_page(browser, live_server, console_log, viewport=DESKTOP)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.fixture
def screenshot(request) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot as test-artifacts/screenshots/<test>-<nn>-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = _slug(request.node.name.removeprefix("test_"))
    for old in SCREENSHOTS.glob(f"{prefix}-*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{prefix}-{next(counter):02d}-{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _describe(violation: dict) -> str:
    lines = [
        f"- {violation['id']} ({violation['impact']}): {violation['help']}",
        f"  {violation['helpUrl']}",
    ]
    for node in violation["nodes"][:10]:
        lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:200]}")
        summary = node.get("failureSummary")
        if summary:
            lines.extend(f"      {line}" for line in summary.splitlines())
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_log() -> dict[str, list[dict]]:
    """Every page checked in this session (this xdist worker), name -> violations."""
    return {}


@pytest.fixture
def check_accessibility(axe_log) -> Callable[[Page, str], list[dict]]:
    """Run axe-core on the page; fail on any serious or critical violation.

    Lesser ones are kept in test-artifacts/axe/<name>.json and printed with -s.
    """
    axe = Axe()
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)

    def check(page: Page, name: str) -> list[dict]:
        violations = axe.run(page).response["violations"]
        axe_log[name] = violations
        (AXE_RESULTS / f"{_slug(name)}.json").write_text(json.dumps(violations, indent=2))
        counts = ", ".join(f"{v['id']} ({v['impact']})" for v in violations) or "none"
        print(f"axe {name}: {len(violations)} violation(s): {counts}")
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        assert not failing, (
            f"axe-core found {len(failing)} serious/critical violation(s) on {name} "
            f"({page.url}):\n" + "\n".join(_describe(v) for v in failing)
        )
        return violations

    return check
