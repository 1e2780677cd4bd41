import re

import pytest
from django.conf import settings
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone

from boundary.models import SocialAccount
from boundary.views import ACCOUNTS_PAGE_SIZE
from tests.factories import SocialAccountFactory, UserFactory, log_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya(maya, client):
    """Maya, signed in."""
    client.force_login(maya)
    return maya


def test_login_with_email_and_logout(client, settings):
    settings.AXES_ENABLED = True
    UserFactory(email="maya@example.com")

    logged_in = client.post(
        reverse("login"),
        {"username": "maya@example.com", "password": "correct horse battery staple"},
    )
    logged_out = client.post(reverse("logout"))
    after = client.get(reverse("requests_log:my-record"))

    assert logged_in["Location"] == reverse("requests_log:my-record")
    assert logged_out["Location"] == reverse("login")
    assert after.status_code == 302
    assert "You are logged out." in client.get(reverse("login")).content.decode()


def test_login_with_wrong_password_says_so(client, settings):
    settings.AXES_ENABLED = True
    UserFactory(email="maya@example.com")

    response = client.post(reverse("login"), {"username": "maya@example.com", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()


def test_password_reset_by_email(client, mailoutbox):
    user = UserFactory(email="maya@example.com")

    client.post(reverse("password_reset"), {"email": "maya@example.com"})
    link = re.search(r"http://testserver(/reset/\S+/)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another long passphrase", "new_password2": "another long passphrase"},
    )

    assert mailoutbox[0].subject == "Reset your Boundary password"
    assert mailoutbox[0].to == ["maya@example.com"]
    user.refresh_from_db()
    assert user.check_password("another long passphrase")


def test_password_reset_for_unknown_email_sends_nothing(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_profile_update(client, maya):
    boss = maya.manager
    someone = UserFactory(display_name="Someone Else", role="manager")

    client.post(
        reverse("boundary:profile"),
        {
            "display_name": "Maya C.",
            "job_title": "Designer",
            "department": "Design",
            "manager": someone.pk,
            "role": "admin",
            "time_zone": "America/Los_Angeles",
            "work_country": "US",
            "work_state": "OR",
            "deadline_reminders": "email_and_app",
            "no_decision_reminders": "off",
            "reply_reminders": "app_only",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:30",
        },
    )

    maya.refresh_from_db()
    assert (maya.display_name, maya.manager, str(maya.time_zone), maya.work_state) == (
        "Maya C.",
        boss,
        "America/Los_Angeles",
        "OR",
    )
    assert (maya.role, maya.is_staff, maya.is_superuser) == ("employee", False, False)


def test_a_page_is_in_her_time_zone_and_the_thread_keeps_none(client, maya):
    seen = {}

    def record_zone(sender, **kwargs):
        seen.setdefault("zone", timezone.get_current_timezone_name())

    client.force_login(maya)
    template_rendered.connect(record_zone)
    try:
        assert client.get(reverse("boundary:profile")).status_code == 200
    finally:
        template_rendered.disconnect(record_zone)

    assert seen["zone"] == "Europe/London"
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_profile_shows_the_manager_by_name_and_lists_nobody_else(client, maya):
    UserFactory(display_name="Omar Haddad", email="omar@example.com", role="manager")

    response = client.get(reverse("boundary:profile"))

    page = response.content.decode()
    assert "Daniel Reyes" in page
    assert "daniel@example.com" not in page
    assert "Omar Haddad" not in page
    assert 'name="manager"' not in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus"),
        ("work_country", "XX"),
        ("display_name", ""),
    ],
)
def test_profile_bad_input_is_refused(client, maya, field, value):
    data = {"display_name": "Maya", "time_zone": "UTC", "quiet_hours_start": "21:00", field: value}

    response = client.post(reverse("boundary:profile"), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors


def test_link_account_normalises_the_handle(client, maya):
    response = client.post(
        reverse("boundary:account-create"),
        {
            "platform": "instagram",
            "handle": " @maya.makes ",
            "follower_count": "31200",
            "boundary": "closed",
        },
    )

    account = SocialAccount.objects.get(owner=maya)
    assert response["Location"] == reverse("boundary:account-list")
    assert (account.handle, account.follower_count, account.boundary) == (
        "maya.makes",
        31200,
        "closed",
    )
    assert account.profile_url == "https://www.instagram.com/maya.makes/"


def test_link_account_bad_input_is_explained(client, maya):
    response = client.post(
        reverse("boundary:account-create"),
        {
            "platform": "tiktok",
            "handle": "no spaces allowed",
            "follower_count": "-5",
            "boundary": "x",
        },
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert set(errors) == {"handle", "follower_count", "boundary"}
    assert errors["handle"] == [
        "That is not a valid TikTok handle: use 2 to 24 letters, digits, periods (.) and "
        "underscores (_)."
    ]
    assert not SocialAccount.objects.exists()


def test_remove_account_archives_it_when_a_request_targets_it(client, maya):
    targeted = SocialAccountFactory(owner=maya)
    unused = SocialAccountFactory(owner=maya)
    log_request(maya, target_accounts=[targeted])

    client.post(reverse("boundary:account-remove", args=[targeted.pk]))
    client.post(reverse("boundary:account-remove", args=[unused.pk]))

    targeted.refresh_from_db()
    assert targeted.archived_at is not None
    assert list(SocialAccount.objects.filter(owner=maya)) == [targeted]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["boundary:account-edit", "boundary:account-remove"])
def test_someone_elses_account_is_not_found(client, maya, method, name):
    account = SocialAccountFactory(handle="not.mine", boundary="closed")

    response = getattr(client, method)(
        reverse(name, args=[account.pk]),
        {"platform": "instagram", "handle": "x", "boundary": "open"},
    )

    assert response.status_code == (
        405 if (method, name) == ("get", "boundary:account-remove") else 404
    )
    account.refresh_from_db()
    assert (account.handle, account.boundary, account.archived_at) == ("not.mine", "closed", None)


@pytest.mark.parametrize("rows", [1, 30])
def test_account_list_query_count_is_constant(client, maya, django_assert_num_queries, rows):
    SocialAccountFactory.create_batch(rows, owner=maya)

    # session, user, how many active accounts, a page of them, archived accounts, unread
    # notifications
    with django_assert_num_queries(6):
        response = client.get(reverse("boundary:account-list"))

    assert len(response.context["accounts"]) == min(rows, ACCOUNTS_PAGE_SIZE)
    assert response.context["page_obj"].paginator.count == rows


def test_start_page_tells_a_visitor_what_boundary_is(client):
    response = client.get("/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Asked to promote your employer on your personal accounts?" in page
    for name in ("login", "signup", "exports:verify"):
        assert f'href="{reverse(name)}"' in page


def test_health_answers_without_a_session(client):
    response = client.get(reverse("health"))

    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})
    assert "sessionid" not in response.cookies
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_health_says_when_the_database_is_down(client):
    from django.db import connection

    settings_dict, port = connection.settings_dict, connection.settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = "1"  # nothing listens there: a real refused connection
    try:
        response = client.get(reverse("health"))
    finally:
        connection.close()
        settings_dict["PORT"] = port

    assert (response.status_code, response.json()["status"]) == (503, "unavailable")
