"""Logging in under attack (issue 13, Login): the lockout per account and per client
address, its cool-off, no password hashing while locked, one answer whether or not an
address is registered, common passwords refused, and proxies trusted only as configured."""

import hashlib
import re
import socket
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from boundary.models import User
from tests.breachlist import BREACHED
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RIGHT = "correct horse battery staple"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


class CountingHasher(MD5PasswordHasher):
    """The tests' fast hasher, counting every password it hashes: checking a password
    hashes it once (verify() calls encode()), and so does the dummy hash Django's backend
    computes for an unknown address."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def axes(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 8
    settings.AXES_IP_FAILURE_LIMIT = 50


@pytest.fixture
def maya(db) -> User:
    return UserFactory(email="maya@example.com")


@pytest.fixture
def sam(db) -> User:
    return UserFactory(email="sam@example.com")


def log_in(client: Client, email: str, password: str, address: str = "203.0.113.7", **headers):
    return client.post(
        reverse("login"),
        {"username": email, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def fail(client: Client, email: str, times: int, address: str = "203.0.113.7", **headers):
    for _ in range(times):
        log_in(client, email, "not my password", address, **headers)


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("requests_log:my-record")


def page(response) -> bytes:
    """The page without its per-render CSRF token."""
    return CSRF_FIELD.sub(b"", response.content)


# --- Lockout per account --------------------------------------------------------------------


def test_right_password_is_refused_once_the_account_is_locked(client, maya):
    fail(client, "maya@example.com", 30)

    response = log_in(client, "maya@example.com", RIGHT)

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_eighth_failure_locks_and_the_seventh_does_not(client, maya):
    fail(client, "maya@example.com", 7)
    seventh_then_right = log_in(client, "maya@example.com", RIGHT)
    client.logout()
    fail(client, "maya@example.com", 8)

    eighth_then_right = log_in(client, "maya@example.com", RIGHT)

    assert logged_in(seventh_then_right)
    assert eighth_then_right.status_code == 429


def test_an_account_is_locked_from_every_address(client, maya):
    for n in range(8):
        log_in(client, "maya@example.com", "not my password", address=f"198.51.100.{n}")

    response = log_in(client, "maya@example.com", RIGHT, address="192.0.2.99")

    assert response.status_code == 429


def test_the_address_in_another_case_counts_as_the_same_account(client, maya):
    for variant in ["Maya@example.com", "MAYA@EXAMPLE.COM", " maya@Example.com"] * 3:
        log_in(client, variant, "not my password")

    response = log_in(client, "maya@example.com", RIGHT)

    assert response.status_code == 429


def test_one_persons_lockout_costs_a_colleague_on_the_same_network_nothing(client, maya, sam):
    fail(client, "maya@example.com", 10)

    typo = log_in(Client(), "sam@example.com", "not my password")
    right = log_in(Client(), "sam@example.com", RIGHT)

    assert typo.status_code == 200
    assert "Please enter a correct email address and password" in typo.content.decode()
    assert logged_in(right)


def test_success_clears_the_accounts_failures(client, maya):
    fail(client, "maya@example.com", 7)
    log_in(client, "maya@example.com", RIGHT)
    client.logout()
    fail(client, "maya@example.com", 7)

    response = log_in(client, "maya@example.com", RIGHT)

    assert logged_in(response)


# --- Lockout per client address -------------------------------------------------------------


def test_an_address_trying_many_accounts_is_locked_for_every_account(client, settings, sam):
    settings.AXES_IP_FAILURE_LIMIT = 12
    for n in range(12):  # a spray: a few tries at each of many addresses
        log_in(client, f"person{n}@example.com", "Summer2026!")

    from_there = log_in(client, "sam@example.com", RIGHT)
    from_elsewhere = log_in(Client(), "sam@example.com", RIGHT, address="192.0.2.10")

    assert from_there.status_code == 429
    assert logged_in(from_elsewhere)


# --- Cool-off -------------------------------------------------------------------------------


def test_lockout_lasts_fifteen_minutes_from_the_failure_that_locked_it(client, maya):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(client, "maya@example.com", 8)
        clock.shift(timedelta(minutes=10))
        fail(client, "maya@example.com", 5)  # tries while locked do not extend it
        clock.shift(timedelta(minutes=4, seconds=59))
        still_locked = log_in(client, "maya@example.com", RIGHT)
        clock.shift(timedelta(seconds=2))

        after = log_in(client, "maya@example.com", RIGHT)

    assert still_locked.status_code == 429
    assert logged_in(after)


def test_cool_off_is_configurable(client, settings, maya):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=2)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail(client, "maya@example.com", 8)
        clock.shift(timedelta(minutes=1, seconds=59))
        locked = log_in(client, "maya@example.com", RIGHT)
        clock.shift(timedelta(seconds=2))

        after = log_in(client, "maya@example.com", RIGHT)

    assert locked.status_code == 429
    assert "2 minutes" in locked.content.decode()
    assert logged_in(after)


# --- No password hashing while locked -------------------------------------------------------


def test_locked_account_is_refused_before_any_password_is_checked(client, settings, maya):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    fail(client, "maya@example.com", 8)
    CountingHasher.calls = 0
    log_in(client, "sam.never.registered@example.com", "not my password")
    hashed_for_unknown = CountingHasher.calls
    UserFactory(email="sam@example.com")
    CountingHasher.calls = 0
    log_in(client, "sam@example.com", "not my password")
    hashed_for_wrong_password = CountingHasher.calls
    CountingHasher.calls = 0

    response = log_in(client, "maya@example.com", RIGHT)

    assert response.status_code == 429
    # An open login hashes once, registered address or not: the same work, the same time.
    assert hashed_for_unknown == hashed_for_wrong_password == 1
    assert CountingHasher.calls == 0


# --- One answer, registered or not ----------------------------------------------------------


def test_login_answers_an_unknown_address_as_a_wrong_password(maya):
    wrong_password = log_in(Client(), "maya@example.com", "not my password")
    unknown = log_in(Client(), "nobody@example.com", "not my password")

    assert wrong_password.status_code == unknown.status_code == 200
    assert page(wrong_password).replace(b"maya@example.com", b"ADDRESS") == page(unknown).replace(
        b"nobody@example.com", b"ADDRESS"
    )


def test_lockout_answers_an_unknown_address_as_a_registered_one(maya):
    fail(Client(), "maya@example.com", 8, address="198.51.100.1")
    fail(Client(), "nobody@example.com", 8, address="198.51.100.2")

    registered = log_in(Client(), "maya@example.com", RIGHT, address="198.51.100.1")
    unknown = log_in(Client(), "nobody@example.com", RIGHT, address="198.51.100.2")

    assert registered.status_code == unknown.status_code == 429
    assert page(registered) == page(unknown)


def test_password_reset_answers_an_unknown_address_as_a_registered_one(maya, mailoutbox):
    registered = Client().post(reverse("password_reset"), {"email": "maya@example.com"})
    unknown = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert registered.status_code == unknown.status_code == 302
    assert registered["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert [m.to for m in mailoutbox] == [["maya@example.com"]]


# --- Common passwords -----------------------------------------------------------------------


def sign_up(client: Client, password: str):
    return client.post(
        reverse("signup"),
        {
            "display_name": "Maya",
            "email": "maya@example.com",
            "password1": password,
            "password2": password,
        },
    )


@pytest.mark.parametrize("password", ["password123", "iloveyou1", "qwertyuiop"])
def test_signup_refuses_a_common_password(client, password):
    response = sign_up(client, password)

    assert response.status_code == 200
    assert "This password is too common." in response.context["form"].errors["password2"]
    assert not User.objects.exists()


def test_password_change_refuses_a_common_password(client, maya):
    client.force_login(maya)

    response = client.post(
        reverse("password_change"),
        {"old_password": RIGHT, "new_password1": "password123", "new_password2": "password123"},
    )

    assert response.status_code == 200
    assert "This password is too common." in response.context["form"].errors["new_password2"]
    maya.refresh_from_db()
    assert maya.check_password(RIGHT)


@pytest.mark.parametrize("password", list(BREACHED))
def test_signup_refuses_a_password_from_a_data_breach(client, password, breached_passwords):
    asked = len(breached_passwords.paths)
    response = sign_up(client, password)

    assert response.status_code == 200
    assert "it appears in known data breaches" in str(response.context["form"].errors)
    assert not User.objects.exists()
    # Only the first five hex digits of the password's SHA-1 left the server.
    sha1 = hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324
    assert breached_passwords.paths[asked:] == [f"/range/{sha1[:5]}"]


def test_password_change_refuses_a_breached_password(client, maya):
    client.force_login(maya)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": RIGHT,
            "new_password1": "Tr0ub4dor&3xkcd",
            "new_password2": "Tr0ub4dor&3xkcd",
        },
    )

    assert "it appears in known data breaches" in str(response.context["form"].errors)
    maya.refresh_from_db()
    assert maya.check_password(RIGHT)


def test_when_the_breach_list_cannot_be_reached_common_passwords_are_still_refused(
    client, settings, caplog
):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.PWNED_PASSWORDS_URL = f"http://127.0.0.1:{closed.getsockname()[1]}/range/"

    refused = sign_up(client, "password123")
    accepted = sign_up(client, "a quiet lighthouse keeps seven ledgers")

    assert "This password is too common." in str(refused.context["form"].errors)
    assert accepted.context.get("form") is None
    assert User.objects.filter(email="maya@example.com").exists()
    assert "Falling back to Django CommonPasswordValidator" in caplog.text


# --- Proxies --------------------------------------------------------------------------------


def test_without_a_configured_proxy_a_forwarded_for_header_changes_nothing(client, settings, sam):
    settings.AXES_IP_FAILURE_LIMIT = 10
    for n in range(10):  # each try claims another address
        log_in(client, f"person{n}@example.com", "x", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    response = log_in(client, "sam@example.com", RIGHT, HTTP_X_FORWARDED_FOR="192.0.2.50")

    assert response.status_code == 429


def test_behind_one_proxy_the_address_it_saw_is_counted_and_a_forged_one_is_not(
    client, settings, sam
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_IP_FAILURE_LIMIT = 10
    proxy = "10.0.0.2"
    for n in range(10):  # the attacker writes its own header; the proxy appends the truth
        log_in(
            client,
            f"person{n}@example.com",
            "x",
            address=proxy,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.66",
        )

    attacker = log_in(
        client, "sam@example.com", RIGHT, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.66"
    )
    someone_else = log_in(
        Client(), "sam@example.com", RIGHT, address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.50"
    )

    assert attacker.status_code == 429
    assert logged_in(someone_else)
