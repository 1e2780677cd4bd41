"""Sign-up (open or by invitation), verified addresses, and emails unique in any case."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from boundary import services
from boundary.models import Invitation, User
from tests.factories import UserFactory
from tests.support import login_with_otp

pytestmark = pytest.mark.django_db

PASSWORD = "a long unusual passphrase"


def signup_data(email: str = "maya@example.com", **overrides) -> dict[str, str]:
    return {
        "display_name": "Maya Chen",
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def link_in(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/\S+/)", message.body).group(1)


@pytest.fixture
def sign_up(client, django_capture_on_commit_callbacks):
    def post(**data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("signup"), signup_data(**data))

    return post


# --- Open sign-up ---------------------------------------------------------------------------


def test_signup_creates_an_unverified_user_and_sends_a_link_without_logging_in(
    client, sign_up, mailoutbox
):
    response = sign_up()

    user = User.objects.get()
    assert (user.email, user.display_name, user.role, user.email_verified) == (
        "maya@example.com",
        "Maya Chen",
        "employee",
        False,
    )
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["maya@example.com"], "Verify your email address for Boundary")
    ]


def test_signup_with_a_registered_address_in_any_case_looks_the_same_and_warns_its_owner(
    client, sign_up, mailoutbox
):
    fresh = sign_up(email="new.person@example.com")
    owner = UserFactory(email="maya@example.com", display_name="Maya Okafor")

    taken = sign_up(email="Maya@Example.COM", display_name="Mallory")

    assert taken.status_code == fresh.status_code == 200
    assert taken.content == fresh.content
    assert User.objects.filter(email__iexact="maya@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.display_name == "Maya Okafor"
    assert owner.check_password("correct horse battery staple")
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["new.person@example.com"], "Verify your email address for Boundary"),
        (["maya@example.com"], "Someone tried to sign up to Boundary with your address"),
    ]
    assert "Nothing was changed" in mailoutbox[1].body


def test_signup_refuses_a_weak_password_but_says_nothing_about_the_address(client, sign_up):
    UserFactory(email="maya@example.com")

    response = sign_up(password1="123", password2="123")

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["password2"]
    assert User.objects.count() == 1


def test_signup_stores_the_address_lower_cased(sign_up):
    sign_up(email="  Maya.Chen@Example.COM ")

    assert User.objects.get().email == "maya.chen@example.com"


def test_signup_in_invite_mode_says_so_and_creates_nothing(client, settings, sign_up, mailoutbox):
    settings.SIGNUP_MODE = "invite"

    shown = client.get(reverse("signup"))
    posted = sign_up()

    assert "Sign-up is by invitation" in shown.content.decode()
    assert posted.content == shown.content
    assert User.objects.count() == 0
    assert mailoutbox == []


# --- Verifying the address ------------------------------------------------------------------


def test_verification_link_verifies_and_signs_in_once(client, sign_up, mailoutbox):
    sign_up()
    link = link_in(mailoutbox[0])

    first = client.get(link, follow=True)
    client.post(reverse("logout"))
    second = client.get(link, follow=True)

    user = User.objects.get()
    assert user.email_verified
    assert first.redirect_chain == [(reverse("boundary:account-list"), 302)]
    assert first.context["user"] == user
    assert second.redirect_chain == [(reverse("login"), 302)]
    assert not second.context["user"].is_authenticated
    assert "Log in to continue" in second.content.decode()


def test_verification_link_expires_after_three_days(client, sign_up, mailoutbox):
    sign_up()
    link = link_in(mailoutbox[0])

    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        response = client.get(link, follow=True)

    assert not User.objects.get().email_verified
    assert not response.context["user"].is_authenticated
    assert "This link has expired" in response.content.decode()


@pytest.mark.parametrize("tamper", ["forged", "address changed"])
def test_verification_link_refuses_a_forged_or_outdated_link(client, sign_up, mailoutbox, tamper):
    sign_up()
    link = link_in(mailoutbox[0])
    if tamper == "forged":
        link = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    else:
        User.objects.update(email="other@example.com")

    response = client.get(link, follow=True)

    assert not User.objects.get().email_verified
    assert not response.context["user"].is_authenticated
    assert "This link is not valid" in response.content.decode()


def test_verification_link_of_someone_needing_two_factors_does_not_sign_in(client):
    hr = UserFactory(role=User.Role.HR)

    response = client.get(
        reverse("email-verify", args=[services.email_verification_token(hr)]), follow=True
    )

    hr.refresh_from_db()
    assert hr.email_verified
    assert response.redirect_chain == [(reverse("login"), 302)]
    assert not response.context["user"].is_authenticated


def test_banner_asks_unverified_people_to_verify_and_send_again_is_rate_limited(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(email="maya@example.com")
    client.force_login(user)

    page = client.get(reverse("boundary:account-list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("boundary:email-verification-resend"))
        again = client.post(reverse("boundary:email-verification-resend"), follow=True)
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=61)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(reverse("boundary:email-verification-resend"))

    assert "Please verify your email address" in page
    assert "less than a minute ago" in again.content.decode()
    assert [m.to for m in mailoutbox] == [["maya@example.com"], ["maya@example.com"]]


def test_no_banner_once_verified(client):
    client.force_login(UserFactory(email_verified_at=timezone.now()))

    page = client.get(reverse("boundary:account-list")).content.decode()

    assert "Please verify your email address" not in page


# --- Emails are unique in any case, and sign-in ignores case ----------------------------------


def test_two_accounts_cannot_share_an_address_in_different_cases():
    UserFactory(email="maya@example.com")

    with pytest.raises(IntegrityError):
        UserFactory(email="Maya@Example.com")


def test_login_accepts_the_address_in_any_case(client):
    UserFactory(email="maya@example.com")

    response = client.post(
        reverse("login"),
        {"username": " MAYA@Example.com", "password": "correct horse battery staple"},
    )

    assert response["Location"] == reverse("requests_log:my-record")


# --- Invitations ----------------------------------------------------------------------------


@pytest.fixture
def invite(client, django_capture_on_commit_callbacks):
    def post(email: str, role: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("people-invite"), {"email": email, "role": role})

    return post


def test_hr_invites_an_employee_who_signs_up_once_with_the_invited_address_and_role(
    client, hr, invite, mailoutbox
):
    login_with_otp(client, hr)
    invite("New.Manager@example.com", "manager")
    client.post(reverse("logout"))
    link = link_in(mailoutbox[0])

    form_page = client.get(link)
    accepted = client.post(link, signup_data(email="mallory@example.com"), follow=True)
    client.post(reverse("logout"))
    again = client.get(link)

    user = User.objects.get(email="new.manager@example.com")
    assert (user.role, user.email_verified, user.is_staff) == ("manager", True, False)
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert 'value="new.manager@example.com"' in form_page.content.decode()
    assert "disabled" in str(form_page.context["form"]["email"])
    assert accepted.context["user"] == user
    assert again.status_code == 404
    assert "This invitation cannot be used" in again.content.decode()
    invitation = Invitation.objects.get()
    assert (invitation.accepted_by, invitation.invited_by) == (user, hr)
    assert invitation.token_hash not in mailoutbox[0].body
    assert mailoutbox[0].subject == "You are invited to Boundary"


def test_invitation_expires_after_seven_days(client, hr):
    invitation = services.invitation_create(email="sam@example.com", role="employee", by=hr)
    token = "not-kept"
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=Invitation.hash_token(token))

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.post(
            reverse("signup-invitation", args=[token]), signup_data("sam@example.com")
        )

    assert response.status_code == 404
    assert not User.objects.filter(email="sam@example.com").exists()


def test_a_new_invitation_replaces_the_pending_one(hr):
    first = services.invitation_create(email="sam@example.com", role="employee", by=hr)

    services.invitation_create(email="sam@example.com", role="manager", by=hr)

    first.refresh_from_db()
    assert not first.is_pending
    assert [i.role for i in Invitation.objects.all() if i.is_pending] == ["manager"]


def test_hr_cannot_invite_hr_or_an_admin(client, hr, invite, mailoutbox):
    login_with_otp(client, hr)

    responses = [invite("boss@example.com", role) for role in ("admin", "hr")]

    assert [list(r.context["form"].errors) for r in responses] == [["role"], ["role"]]
    assert Invitation.objects.count() == 0
    assert mailoutbox == []
    with pytest.raises(services.PermissionDenied):
        services.invitation_create(email="boss@example.com", role="admin", by=hr)


def test_admin_may_invite_hr(client, administrator, invite):
    login_with_otp(client, administrator)

    invite("people@example.com", "hr")

    assert list(Invitation.objects.values_list("email", "role")) == [("people@example.com", "hr")]


def test_inviting_a_registered_address_is_refused(client, hr, employee, invite, mailoutbox):
    login_with_otp(client, hr)

    response = invite("MAYA@example.com", "employee")

    assert response.context["form"].errors == {"email": ["This address already has an account."]}
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("who", ["employee", "manager"])
def test_invite_page_is_a_404_for_employees_and_managers(client, request, who, invite):
    person = request.getfixturevalue(who)
    client.force_login(person)

    shown = client.get(reverse("people-invite"))
    posted = invite("someone@example.com", "employee")

    assert (shown.status_code, posted.status_code) == (404, 404)
    assert Invitation.objects.count() == 0


def test_invite_page_lists_pending_invitations_only(client, hr):
    services.invitation_create(email="pending@example.com", role="employee", by=hr)
    expired = services.invitation_create(email="expired@example.com", role="employee", by=hr)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    login_with_otp(client, hr)

    response = client.get(reverse("people-invite"))

    assert [i.email for i in response.context["invitations"]] == ["pending@example.com"]


@pytest.mark.parametrize("count", [1, 3])
def test_invite_page_query_count(client, hr, count, django_assert_num_queries):
    for n in range(count):
        services.invitation_create(email=f"p{n}@example.com", role="employee", by=hr)
    login_with_otp(client, hr)
    client.get(reverse("people-invite"))  # warm the session and device caches

    with django_assert_num_queries(5):
        response = client.get(reverse("people-invite"))

    assert len(response.context["invitations"]) == count
