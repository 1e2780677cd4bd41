"""HR's first login (setting up an authenticator), a later login with a recovery code,
and an invitation accepted in a browser. Every page is screenshotted and checked with
axe-core."""

import base64
import re

import pytest
from django.core import mail
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from boundary.models import User
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # UserFactory's


def heading(page: Page, text: str):
    return page.get_by_role("heading", level=1, name=text)


def log_in(page: Page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def code_for(secret: str) -> str:
    return f"{totp(base64.b32decode(secret)):06d}"


def test_hr_sets_up_two_factors_then_logs_in_with_a_recovery_code(
    desktop_page: Page, screenshot, check_accessibility
):
    page = desktop_page
    UserFactory(email="hana@example.com", display_name="Hana Kim", role=User.Role.HR)

    log_in(page, "hana@example.com")
    expect(heading(page, "Set up an authenticator app")).to_be_visible()
    expect(page.get_by_text("a second factor is required")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    screenshot(page, "two-factor-setup")
    check_accessibility(page, "two-factor set-up")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")

    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two factors").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    check_accessibility(page, "two-factor set-up, wrong code")
    page.wait_for_timeout(1100)  # one wrong code: the device waits a second
    page.get_by_label("Code").fill(code_for(secret))
    page.get_by_role("button", name="Turn on two factors").click()

    expect(heading(page, "Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "recovery-codes")
    check_accessibility(page, "recovery codes")
    page.get_by_role("link", name="I have saved them").click()
    expect(heading(page, "My record")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    log_in(page, "hana@example.com")
    expect(heading(page, "Enter your code")).to_be_visible()
    screenshot(page, "login-code")
    check_accessibility(page, "login code")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(heading(page, "My record")).to_be_visible()

    page.goto("/people/invite/")
    expect(heading(page, "Invite people")).to_be_visible()
    page.get_by_label("Their work email address").fill("new.person@example.com")
    page.get_by_label("Role").select_option(label="Manager")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent")
    expect(page.get_by_role("cell", name="new.person@example.com")).to_be_visible()
    screenshot(page, "people-invite")
    check_accessibility(page, "invite people")

    employee = UserFactory(email="maya@example.com", display_name="Maya Okafor")
    UserFactory(email="daniel@example.com", display_name="Daniel Reyes", role=User.Role.MANAGER)
    page.get_by_role("link", name="Set someone's manager").click()
    expect(heading(page, "Set a manager")).to_be_visible()
    page.get_by_label("The person's email address").fill("maya@example.com")
    page.get_by_label("Their manager's email address").fill("nobody@example.com")
    page.get_by_role("button", name="Set the manager").click()
    expect(page.get_by_text("No one has an account with this address.")).to_be_visible()
    check_accessibility(page, "set a manager, unknown address")
    page.get_by_label("Their manager's email address").fill("daniel@example.com")
    page.get_by_role("button", name="Set the manager").click()
    expect(page.get_by_role("status")).to_contain_text("Daniel Reyes now manages Maya Okafor.")
    screenshot(page, "people-manager")
    check_accessibility(page, "set a manager")
    employee.refresh_from_db()
    assert employee.manager.display_name == "Daniel Reyes"


def test_an_invitation_is_accepted_once(
    desktop_page: Page, live_server, screenshot, check_accessibility
):
    from boundary.services import invitation_create

    hr = UserFactory(role=User.Role.HR, display_name="Hana Kim")
    invitation_create(email="new.person@example.com", role="manager", by=hr)
    link = re.search(r"https?://[^/\s]+(/signup/invite/\S+/)", mail.outbox[-1].body).group(1)
    page = desktop_page

    page.goto(link)
    expect(heading(page, "Create your account")).to_be_visible()
    expect(page.get_by_text("Hana Kim invited you to Boundary as manager")).to_be_visible()
    expect(page.get_by_label("Email address")).to_be_disabled()
    expect(page.get_by_label("Email address")).to_have_value("new.person@example.com")
    screenshot(page, "invited-signup")
    check_accessibility(page, "invited sign-up")
    page.get_by_label("Your name").fill("New Person")
    page.get_by_label("Password*", exact=True).fill("quiet-harbour-lantern-42")
    page.get_by_label("Password confirmation").fill("quiet-harbour-lantern-42")
    page.get_by_role("button", name="Accept and create my account").click()
    expect(heading(page, "My accounts")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto(link)
    expect(heading(page, "This invitation cannot be used")).to_be_visible()
    screenshot(page, "invitation-used")
    check_accessibility(page, "invitation used")
    assert User.objects.get(email="new.person@example.com").role == "manager"


def test_invite_only_signup_says_so(desktop_page: Page, settings, screenshot, check_accessibility):
    settings.SIGNUP_MODE = "invite"
    page = desktop_page

    page.goto("/signup/")

    expect(heading(page, "Sign-up is by invitation")).to_be_visible()
    screenshot(page, "signup-invite-only")
    check_accessibility(page, "sign-up by invitation")
