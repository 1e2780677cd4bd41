"""The role is the one source of truth: staff and superuser follow it, only admins set it,
and managers are set by admin or HR. The admin shows people, never private records."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from boundary import services
from boundary.models import User
from requests_log.models import Export, Reminder
from tests.factories import SocialAccountFactory, UserFactory, log_request
from tests.support import login_with_otp

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "flags"),
    [("admin", (True, True)), ("hr", (False, False)), ("manager", (False, False))],
)
def test_role_set_derives_staff_and_superuser(administrator, employee, role, flags):
    services.user_role_set(user=employee, role=role, by=administrator)

    employee.refresh_from_db()
    assert (employee.role, (employee.is_staff, employee.is_superuser)) == (role, flags)


def test_demoting_an_admin_takes_the_flags_away(administrator):
    other = User.objects.create_superuser(email="root@example.com", display_name="Root")

    services.user_role_set(user=other, role="employee", by=administrator)

    other.refresh_from_db()
    assert (other.is_staff, other.is_superuser) == (False, False)


@pytest.mark.parametrize("who", ["hr", "manager", "employee"])
def test_only_admins_set_roles(request, who, second_employee):
    by = request.getfixturevalue(who)

    with pytest.raises(PermissionDenied):
        services.user_role_set(user=second_employee, role="admin", by=by)

    second_employee.refresh_from_db()
    assert (second_employee.role, second_employee.is_superuser) == ("employee", False)


def test_create_user_ignores_flags_and_follows_the_role():
    made = User.objects.create_user(
        email="Mallory@Example.com", display_name="M", is_staff=True, is_superuser=True
    )
    admin = User.objects.create_superuser(email="root@example.com", display_name="Root")

    assert (made.email, made.role, made.is_staff, made.is_superuser) == (
        "mallory@example.com",
        "employee",
        False,
        False,
    )
    assert (admin.role, admin.is_staff, admin.is_superuser) == ("admin", True, True)


def test_manager_is_set_by_hr_to_someone_with_a_manager_role(hr, employee, other_manager):
    services.user_manager_set(user=employee, manager=other_manager, by=hr)

    employee.refresh_from_db()
    assert employee.manager == other_manager


def test_manager_is_never_set_by_the_employee_or_to_a_plain_employee(employee, second_employee, hr):
    with pytest.raises(PermissionDenied):
        services.user_manager_set(user=employee, manager=None, by=employee)
    with pytest.raises(ValidationError):
        services.user_manager_set(user=employee, manager=second_employee, by=hr)

    employee.refresh_from_db()
    assert employee.manager.display_name == "Daniel Reyes"


# --- The Django admin -----------------------------------------------------------------------


def user_change_data(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "display_name": user.display_name,
        "job_title": user.job_title,
        "department": user.department,
        "manager": user.manager_id or "",
        "time_zone": "UTC",
        "work_country": "",
        "work_state": "",
        "role": user.role,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
    }
    return {**data, **changes}


def test_admin_changes_a_role_through_the_service_and_cannot_set_flags(
    client, administrator, employee
):
    login_with_otp(client, administrator)
    url = reverse("admin:boundary_user_change", args=[employee.pk])

    page = client.get(url).content.decode()
    client.post(url, user_change_data(employee, role="hr"))

    employee.refresh_from_db()
    assert (employee.role, employee.is_staff, employee.is_superuser) == ("hr", False, False)
    assert 'name="is_staff"' not in page
    assert 'name="is_superuser"' not in page


def test_admin_sets_a_manager_only_among_managers(client, administrator, employee, hr):
    plain = UserFactory(display_name="Plain Person")
    login_with_otp(client, administrator)
    url = reverse("admin:boundary_user_change", args=[employee.pk])

    refused = client.post(url, user_change_data(employee, manager=plain.pk))
    client.post(url, user_change_data(employee, manager=hr.pk))

    employee.refresh_from_db()
    assert "manager" in refused.context["adminform"].form.errors
    assert employee.manager == hr


@pytest.mark.parametrize(
    "name",
    [
        "requests_log_promotionrequest_changelist",
        "requests_log_timelineevent_changelist",
        "requests_log_decision_changelist",
        "requests_log_followup_changelist",
        "requests_log_evidence_changelist",
        "requests_log_notification_changelist",
    ],
)
def test_admin_has_no_page_for_private_record_content(name):
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:{name}")


def test_admin_lists_reminders_and_exports_without_private_content(client, administrator, employee):
    request = log_request(
        employee,
        words_used="You are expected to post, team player.",
        promoted_item="Secret launch",
        deadline=timezone.now() + timezone.timedelta(days=5),
    )
    login_with_otp(client, administrator)
    reminder = Reminder.objects.filter(promotion_request=request).first()

    pages = [
        client.get(reverse("admin:requests_log_reminder_changelist")),
        client.get(reverse("admin:requests_log_export_changelist")),
        client.get(reverse("admin:boundary_socialaccount_changelist")),
    ]
    detail = client.get(reverse("admin:requests_log_reminder_change", args=[reminder.pk]))

    assert [p.status_code for p in pages] == [200, 200, 200]
    for page in pages:
        html = page.content.decode()
        assert "team player" not in html
        assert "Secret launch" not in html
    assert detail.status_code in (302, 403)
    assert Export.objects.count() == 0


def test_admin_lists_put_the_newest_first_and_count_only_what_the_filter_matches(
    client, administrator, employee
):
    """A list of a million reminders must not sort them all by due time, nor count them
    all beside the few a filter matches, on every page."""
    accounts = SocialAccountFactory.create_batch(3, owner=employee, boundary="open")
    SocialAccountFactory(owner=employee, boundary="closed")
    login_with_otp(client, administrator)
    changelist = reverse("admin:boundary_socialaccount_changelist")

    listed = client.get(changelist).context["cl"].result_list
    with CaptureQueriesContext(connection) as queries:
        filtered = client.get(changelist, {"boundary__exact": "open"}).context["cl"]

    assert [account.pk for account in listed] == sorted(
        (account.pk for account in listed), reverse=True
    )
    assert {account.pk for account in filtered.result_list} == {a.pk for a in accounts}
    assert filtered.full_result_count is None
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    assert counts
    assert all("WHERE" in sql for sql in counts)


def test_admin_adds_a_person_whose_flags_follow_the_chosen_role(client, administrator):
    login_with_otp(client, administrator)

    client.post(
        reverse("admin:boundary_user_add"),
        {
            "email": "Hana.New@Example.com",
            "display_name": "Hana New",
            "role": "hr",
            "usable_password": "true",
            "password1": "a long unusual passphrase",
            "password2": "a long unusual passphrase",
        },
    )

    made = User.objects.get(email__iexact="hana.new@example.com")
    assert (made.role, made.is_staff, made.is_superuser) == ("hr", False, False)


# --- HR's page for managers -----------------------------------------------------------------


def test_hr_sets_and_removes_a_manager_by_address(client, hr, employee, other_manager):
    login_with_otp(client, hr)

    client.post(
        reverse("people-manager"), {"employee": "MAYA@example.com", "manager": other_manager.email}
    )
    employee.refresh_from_db()
    set_to = employee.manager
    client.post(reverse("people-manager"), {"employee": employee.email, "manager": ""})

    employee.refresh_from_db()
    assert set_to == other_manager
    assert employee.manager is None


@pytest.mark.parametrize(
    ("manager_email", "error"),
    [
        ("nobody@example.com", "No one has an account with this address."),
        ("sam@example.com", "A manager must be another person with a manager, HR or admin role."),
    ],
)
def test_hr_cannot_set_an_unknown_or_plain_employee_as_manager(
    client, hr, employee, second_employee, manager_email, error
):
    login_with_otp(client, hr)

    response = client.post(
        reverse("people-manager"), {"employee": employee.email, "manager": manager_email}
    )

    employee.refresh_from_db()
    assert response.context["form"].errors == {"manager": [error]}
    assert employee.manager.display_name == "Daniel Reyes"


@pytest.mark.parametrize("who", ["employee", "manager"])
def test_manager_page_is_a_404_for_employees_and_managers(client, request, who, other_manager):
    person = request.getfixturevalue(who)
    client.force_login(person)

    shown = client.get(reverse("people-manager"))
    posted = client.post(
        reverse("people-manager"), {"employee": person.email, "manager": other_manager.email}
    )

    person.refresh_from_db()
    assert (shown.status_code, posted.status_code) == (404, 404)
    assert person.manager != other_manager


def test_migration_lower_cases_addresses_and_derives_flags_from_roles():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("boundary.migrations.0003_people_roles_invitations")
    mixed = UserFactory(email="Maya@Example.COM")
    old_root = UserFactory(email="root@example.com", is_superuser=True, is_staff=True)
    staff_hr = UserFactory(email="hr@example.com", role="hr", is_staff=True)

    migration.lower_case_emails_and_derive_flags(apps, None)

    for person in (mixed, old_root, staff_hr):
        person.refresh_from_db()
    assert mixed.email == "maya@example.com"
    assert (old_root.role, old_root.is_staff, old_root.is_superuser) == ("admin", True, True)
    assert (staff_hr.role, staff_hr.is_staff, staff_hr.is_superuser) == ("hr", False, False)
    assert all(p.email_verified for p in (mixed, old_root, staff_hr))
