"""Sessions that end (issue 13, Sessions): a new key at login, logout on the server, an idle
and an absolute timeout, other sessions ended by a password change, a deactivated person
out at the next request, and cookies the browser keeps to itself. Time is frozen."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from uuid import uuid4

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from boundary.models import User
from tests.factories import UserFactory
from tests.support import login_with_otp, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
START = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True, params=["db", "cached_db"])
def session_engine(request, settings):
    """Every test here runs on both session stores: the database alone (development's
    default), and the shared Redis cache in front of it (production's, with CACHE_URL)."""
    if request.param == "cached_db":
        settings.CACHES = {
            "default": {
                "BACKEND": "boundary.cache.RedisCache",
                "LOCATION": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
                "KEY_PREFIX": f"test-sessions-{uuid4().hex}",
            }
        }
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    return request.param


@pytest.fixture
def maya(db) -> User:
    return UserFactory(email="maya@example.com")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def log_in(client: Client) -> None:
    response = client.post(reverse("login"), {"username": "maya@example.com", "password": PASSWORD})
    assert response["Location"] == reverse("requests_log:my-record")


def session_key(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def signed_in(client: Client) -> bool:
    response = client.get(reverse("requests_log:my-record"))
    return response.status_code == 200


def stored(key: str) -> bool:
    return Session.objects.filter(session_key=key).exists()


# --- Login and logout -----------------------------------------------------------------------


def test_login_gives_a_new_session_key_and_drops_the_old_one(client, maya):
    before = client.session  # an anonymous session, as a visitor has before logging in
    before["seen_the_home_page"] = True
    before.save()
    old_key = before.session_key

    log_in(client)

    assert session_key(client) != old_key
    assert not stored(old_key)
    assert stored(session_key(client))


def test_logout_ends_the_session_on_the_server(client, maya):
    log_in(client)
    key = session_key(client)

    client.post(reverse("logout"))
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key

    assert not stored(key)
    assert not signed_in(replay)


# --- Timeouts -------------------------------------------------------------------------------


def test_idle_session_ends_after_thirty_minutes_without_a_request(client, maya, clock):
    log_in(client)
    clock.shift(timedelta(minutes=29, seconds=59))
    active_before = signed_in(client)
    clock.shift(timedelta(minutes=29, seconds=59))
    still_active = signed_in(client)
    key = session_key(client)
    clock.shift(timedelta(minutes=30))

    after = client.get(reverse("requests_log:my-record"))
    login_page = client.get(after["Location"])

    assert active_before
    assert still_active
    assert after.status_code == 302
    assert after["Location"].startswith(reverse("login"))
    assert not stored(key)
    assert "logged out after a while without activity" in login_page.content.decode()


def test_session_ends_twelve_hours_after_login_however_active(client, maya, clock):
    log_in(client)
    answers = []
    for _ in range(35):  # a request every 20 minutes, to 11 h 40 min
        clock.shift(timedelta(minutes=20))
        answers.append(signed_in(client))
    clock.shift(timedelta(minutes=19, seconds=59))
    last_minute = signed_in(client)
    clock.shift(timedelta(seconds=1))

    after = client.get(reverse("requests_log:my-record"))
    login_page = client.get(after["Location"])

    assert answers == [True] * 35
    assert last_minute
    assert after.status_code == 302
    assert "session reached its time limit" in login_page.content.decode()


def test_timeouts_are_configurable(client, settings, maya, clock):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    settings.SESSION_ABSOLUTE_TIMEOUT = 60 * 60
    log_in(client)
    clock.shift(timedelta(minutes=4, seconds=59))
    idle_ok = signed_in(client)
    clock.shift(timedelta(minutes=5))
    idle_out = signed_in(client)
    log_in(client)
    within_the_hour = []
    for _ in range(14):  # a request every 4 minutes, to 56 minutes
        clock.shift(timedelta(minutes=4))
        within_the_hour.append(signed_in(client))
    clock.shift(timedelta(minutes=4))

    past_the_hour = signed_in(client)

    assert (idle_ok, idle_out) == (True, False)
    assert within_the_hour == [True] * 14
    assert not past_the_hour


def test_a_new_login_restarts_the_absolute_timeout(client, maya, clock):
    log_in(client)
    clock.shift(timedelta(hours=11, minutes=50))
    log_in(Client())  # elsewhere: this session is not touched
    client.post(reverse("logout"))
    log_in(client)
    clock.shift(timedelta(minutes=20))

    assert signed_in(client)


# --- Password change and deactivation -------------------------------------------------------


def test_password_change_ends_the_persons_other_sessions_and_keeps_this_one(maya):
    laptop, phone = Client(), Client()
    log_in(laptop)
    log_in(phone)

    changed = laptop.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a new and unusual passphrase",
            "new_password2": "a new and unusual passphrase",
        },
    )

    assert changed["Location"] == reverse("password_change_done")
    assert signed_in(laptop)
    assert not signed_in(phone)


def turn_on_two_factors(client: Client, user: User) -> None:
    client.get(reverse("boundary:two-factor-setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    confirmed = client.post(reverse("boundary:two-factor-setup"), {"code": totp_code(device)})
    assert b"Two factors are on" in confirmed.content


def test_turning_on_two_factors_ends_the_persons_other_sessions_and_keeps_this_one(maya):
    laptop, phone = Client(), Client()
    log_in(laptop)
    log_in(phone)

    turn_on_two_factors(laptop, maya)

    assert signed_in(laptop)
    assert not signed_in(phone)
    login_page = phone.get(reverse("login"))
    assert b"your two-factor settings changed in another session" in login_page.content


def test_new_recovery_codes_and_turning_two_factors_off_end_other_sessions(maya):
    laptop = Client()
    log_in(laptop)
    turn_on_two_factors(laptop, maya)
    phone = Client()
    maya.refresh_from_db()
    login_with_otp(phone, maya)

    laptop.post(reverse("boundary:recovery-codes"))
    assert signed_in(laptop)
    assert not signed_in(phone)

    maya.refresh_from_db()
    login_with_otp(phone, maya)
    laptop.post(reverse("boundary:two-factor-disable"))
    assert signed_in(laptop)
    assert not signed_in(phone)


def test_password_reset_by_email_ends_every_session(maya, mailoutbox):
    laptop, phone, someone = Client(), Client(), Client()
    log_in(laptop)
    log_in(phone)

    someone.post(reverse("password_reset"), {"email": "maya@example.com"})
    link = re.search(r"http://testserver(/reset/\S+/)", mailoutbox[0].body).group(1)
    form = someone.get(link, follow=True)
    reset = someone.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "a new and unusual passphrase",
            "new_password2": "a new and unusual passphrase",
        },
    )

    assert reset["Location"] == reverse("password_reset_complete")
    assert not signed_in(laptop)
    assert not signed_in(phone)


def test_deactivated_person_loses_access_at_the_next_request(client, maya):
    log_in(client)
    assert signed_in(client)

    User.objects.filter(pk=maya.pk).update(is_active=False)

    assert not signed_in(client)
    assert client.get(reverse("boundary:account-list")).status_code == 302


# --- Cookies --------------------------------------------------------------------------------


def test_session_and_csrf_cookies_are_httponly_samesite_and_end_with_the_session(client, maya):
    client.get(reverse("login"))
    csrf = client.cookies[django_settings.CSRF_COOKIE_NAME]
    log_in(client)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME]

    assert (session["httponly"], session["samesite"], session["max-age"]) == (True, "Lax", 43200)
    assert (csrf["httponly"], csrf["samesite"]) == (True, "Lax")


def test_production_cookies_are_secure_host_only_and_hsts_covers_subdomains():
    environment = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "boundary.example.com",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:5432/nothing",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
        "s.SESSION_COOKIE_DOMAIN, s.SESSION_COOKIE_PATH, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_ENGINE)"
    )

    printed = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        env={**environment, "DJANGO_SETTINGS_MODULE": "boundary.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    assert printed == [
        "True",
        "True",
        "True",
        "Lax",
        "__Host-sessionid",
        "__Host-csrftoken",
        "None",
        "/",
        "True",
        "True",
        "django.contrib.sessions.backends.cached_db",  # the broker's Redis is the cache
    ]
