"""Two factors: setting up an authenticator, the login's code step, recovery codes,
and who must have them (HR and admins) or may turn them off (everyone else)."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from boundary import services
from boundary.models import User
from tests.factories import UserFactory
from tests.support import login_with_otp, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's


def log_in(client, user: User, **extra):
    return client.post(reverse("login"), {"username": user.email, "password": PASSWORD}, **extra)


def signed_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


# --- Required for HR and admins -------------------------------------------------------------


@pytest.mark.parametrize("who", ["hr", "administrator"])
def test_hr_and_admin_without_an_authenticator_are_sent_to_set_one_up(client, request, who):
    person = request.getfixturevalue(who)
    client.force_login(person)

    pages = [client.get(url) for url in ("/", reverse("people-invite"), reverse("admin:index"))]

    setup = reverse("boundary:two-factor-setup")
    assert [page.status_code for page in pages] == [302, 302, 302]
    assert all(page["Location"].startswith(f"{setup}?next=") for page in pages)


def test_employee_without_an_authenticator_is_not_sent_anywhere(client, employee):
    client.force_login(employee)

    response = client.get(reverse("requests_log:my-record"))

    assert response.status_code == 200


def test_setting_up_shows_a_qr_code_and_the_secret_and_takes_only_the_right_code(client, hr):
    client.force_login(hr)

    page = client.get(reverse("boundary:two-factor-setup"))
    device = TOTPDevice.objects.get(user=hr)
    wrong = client.post(reverse("boundary:two-factor-setup"), {"code": "000000"})
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):  # past the throttle
        right = client.post(reverse("boundary:two-factor-setup"), {"code": totp_code(device)})
        after = client.get(reverse("requests_log:my-record"))

    html = page.content.decode()
    assert "<svg" in html
    secret = "".join(page.context["secret_groups"])
    assert secret in html.replace(" ", "")
    assert len(secret) == 32
    assert "That code is not right" in wrong.content.decode()
    assert right.status_code == 200
    assert len(right.context["codes"]) == 10
    assert StaticToken.objects.filter(device__user=hr).count() == 10
    device.refresh_from_db()
    assert device.confirmed
    assert after.status_code == 200


def test_login_with_an_authenticator_asks_for_the_code_before_signing_in(client, employee):
    device = TOTPDevice.objects.create(user=employee, name="Phone", confirmed=True)

    password_step = log_in(client, employee)
    between = signed_in_as(client)
    wrong = client.post(reverse("login-code"), {"code": "123456"})
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):  # past the throttle
        right = client.post(reverse("login-code"), {"code": totp_code(device)})

    assert password_step["Location"] == reverse("login-code")
    assert between is None
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    assert right["Location"] == reverse("requests_log:my-record")
    assert signed_in_as(client) == employee.pk


def test_code_step_without_the_password_step_goes_back_to_login(client, employee):
    TOTPDevice.objects.create(user=employee, name="Phone", confirmed=True)

    response = client.post(reverse("login-code"), {"code": "123456"})

    assert response["Location"] == reverse("login")
    assert signed_in_as(client) is None


def test_recovery_code_works_once(client, employee):
    TOTPDevice.objects.create(user=employee, name="Phone", confirmed=True)
    code = services.recovery_codes_generate(user=employee)[0]

    log_in(client, employee)
    first = client.post(reverse("login-code"), {"code": code})
    client.post(reverse("logout"))
    log_in(client, employee)
    second = client.post(reverse("login-code"), {"code": code})

    assert first["Location"] == reverse("requests_log:my-record")
    assert second.status_code == 200
    assert signed_in_as(client) is None
    assert StaticToken.objects.filter(device__user=employee).count() == 9


def test_too_many_wrong_codes_refuse_even_the_right_one(client, employee):
    device = TOTPDevice.objects.create(user=employee, name="Phone", confirmed=True)
    log_in(client, employee)
    start = timezone.now()

    for attempt in range(4):  # each wrong code doubles the wait: 1, 2, 4, 8 seconds
        with time_machine.travel(start + timedelta(seconds=2**attempt * 2)):
            client.post(reverse("login-code"), {"code": "000000"})
    with time_machine.travel(start + timedelta(seconds=17)):
        response = client.post(reverse("login-code"), {"code": totp_code(device)})

    assert "Too many wrong codes" in response.content.decode()
    assert signed_in_as(client) is None


def test_regenerating_recovery_codes_replaces_the_old_ones(client, employee):
    old = services.recovery_codes_generate(user=employee)
    login_with_otp(client, employee)

    response = client.post(reverse("boundary:recovery-codes"))

    new = response.context["codes"]
    assert len(new) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)
    assert set(old) & set(new) == set()


def test_employee_may_turn_two_factors_off(client, employee):
    services.recovery_codes_generate(user=employee)
    login_with_otp(client, employee)

    client.post(reverse("boundary:two-factor-disable"))

    assert not TOTPDevice.objects.filter(user=employee).exists()
    assert not StaticToken.objects.filter(device__user=employee).exists()


@pytest.mark.parametrize("who", ["hr", "administrator"])
def test_hr_and_admin_may_not_turn_two_factors_off(client, request, who):
    person = request.getfixturevalue(who)
    login_with_otp(client, person)

    response = client.post(reverse("boundary:two-factor-disable"))

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=person, confirmed=True).count() == 1


def test_changing_two_factors_needs_a_verified_session(client, employee):
    TOTPDevice.objects.create(user=employee, name="Phone", confirmed=True)
    client.force_login(employee)  # a session that skipped the code step

    responses = [
        client.post(reverse("boundary:two-factor-disable")),
        client.post(reverse("boundary:recovery-codes")),
        client.get(reverse("boundary:two-factor-setup")),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert TOTPDevice.objects.filter(user=employee).count() == 1


def test_a_new_authenticator_replaces_the_old_once_confirmed(client, employee):
    old = login_with_otp(client, employee)

    client.get(reverse("boundary:two-factor-setup"))
    new = TOTPDevice.objects.get(user=employee, confirmed=False)
    client.post(reverse("boundary:two-factor-setup"), {"code": totp_code(new)})

    assert list(TOTPDevice.objects.filter(user=employee).values_list("pk", flat=True)) == [new.pk]
    assert old.pk != new.pk


# --- The Django admin -----------------------------------------------------------------------


def test_admin_needs_a_verified_session(client, administrator):
    client.force_login(administrator)
    TOTPDevice.objects.create(user=administrator, name="Phone", confirmed=True)

    unverified = client.get(reverse("admin:index"))
    login_with_otp(client, administrator)
    verified = client.get(reverse("admin:index"))

    assert unverified.status_code == 302
    assert unverified["Location"].startswith(reverse("login-code"))
    assert verified.status_code == 200


@pytest.mark.parametrize("who", ["employee", "manager"])
def test_admin_refuses_everyone_but_admins_even_with_two_factors(client, request, who):
    login_with_otp(client, request.getfixturevalue(who))

    response = client.get(reverse("admin:boundary_user_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_login_page_sends_anonymous_visitors_to_the_apps_login(client):
    response = client.get(reverse("admin:index"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login"))


# --- The demo's codes -----------------------------------------------------------------------


def test_demo_totp_prints_the_current_code(settings):
    admin = UserFactory(email="admin@example.com", role=User.Role.ADMIN)
    device = TOTPDevice.objects.create(user=admin, name="Demo", confirmed=True)
    out = StringIO()

    call_command("demo_totp", "admin@example.com", stdout=out)

    assert out.getvalue().strip() == totp_code(device)


def test_demo_totp_refuses_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="not in production"):
        call_command("demo_totp", "admin@example.com", stdout=StringIO())
