from datetime import timedelta

import pytest
from django import forms
from django.test.html import parse_html
from django.utils import timezone

from boundary.forms import ProfileForm, SocialAccountForm
from boundary.models import PLATFORM_RULES, SocialAccount
from boundary.widgets import PlainSelect
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def account_form(owner, instance=None, **data):
    return SocialAccountForm(
        data={"platform": "instagram", "handle": "maya.makes", "boundary": "closed", **data},
        owner=owner,
        instance=instance,
    )


@pytest.mark.parametrize(
    ("platform", "raw", "expected"),
    [
        ("instagram", "@maya.makes", "maya.makes"),
        ("tiktok", "@mayamakes", "mayamakes"),
        ("youtube", "@Maya-Makes", "Maya-Makes"),
        ("x", "@maya_makes", "maya_makes"),
        ("linkedin", "maya-makes-123", "maya-makes-123"),
        ("facebook", "maya.makes", "maya.makes"),
        ("threads", "@maya.makes", "maya.makes"),
        ("bluesky", "@maya.bsky.social", "maya.bsky.social"),
        ("twitch", "maya_makes", "maya_makes"),
        ("snapchat", "maya.makes", "maya.makes"),
        ("pinterest", "maya_makes", "maya_makes"),
        ("other", "@maya/makes", "maya/makes"),
    ],
)
def test_account_form_accepts_handle_with_or_without_at(platform, raw, expected):
    owner = UserFactory()

    form = account_form(owner, platform=platform, handle=raw)

    assert form.errors == {}
    assert form.cleaned_data["handle"] == expected


@pytest.mark.parametrize(
    ("platform", "raw", "label"),
    [
        ("instagram", "maya makes", "Instagram"),
        ("instagram", "@@maya", "Instagram"),
        ("instagram", "a" * 31, "Instagram"),
        ("tiktok", "m", "TikTok"),
        ("youtube", "ab", "YouTube"),
        ("x", "maya.makes", "X"),
        ("x", "a" * 16, "X"),
        ("linkedin", "maya_makes", "LinkedIn"),
        ("facebook", "maya", "Facebook"),
        ("threads", "maya-makes", "Threads"),
        ("bluesky", "maya", "Bluesky"),
        ("bluesky", "maya..social", "Bluesky"),
        ("twitch", "abc", "Twitch"),
        ("snapchat", "1maya", "Snapchat"),
        ("pinterest", "ma", "Pinterest"),
    ],
)
def test_account_form_rejects_bad_handle_naming_the_platform(platform, raw, label):
    owner = UserFactory()

    form = account_form(owner, platform=platform, handle=raw)

    allowed = PLATFORM_RULES[platform].allowed
    assert form.errors == {"handle": [f"That is not a valid {label} handle: use {allowed}."]}


def test_account_form_refuses_duplicate_handle_ignoring_case_and_at():
    owner = UserFactory()
    SocialAccountFactory(owner=owner, platform="instagram", handle="maya.makes")

    form = account_form(owner, platform="instagram", handle="@Maya.Makes")

    assert form.errors == {"handle": ["You have already linked this account."]}


def test_account_form_allows_same_handle_on_other_platform_other_owner_or_archived():
    owner = UserFactory()
    SocialAccountFactory(owner=owner, platform="tiktok", handle="maya.makes")
    SocialAccountFactory(platform="instagram", handle="maya.makes")
    SocialAccountFactory(
        owner=owner, platform="instagram", handle="maya.makes", archived_at=timezone.now()
    )

    form = account_form(owner, platform="instagram", handle="maya.makes")

    assert form.errors == {}


def test_account_form_editing_an_account_is_not_a_duplicate_of_itself():
    owner = UserFactory()
    account = SocialAccountFactory(owner=owner, platform="instagram", handle="maya.makes")

    form = account_form(owner, instance=account, handle="@MAYA.makes", about="Crafts")

    assert form.errors == {}
    assert form.cleaned_data["handle"] == "MAYA.makes"


@pytest.mark.parametrize("count", [0, 31_200, 2_000_000_000])
def test_account_form_accepts_follower_count_within_bounds(count):
    owner = UserFactory()

    form = account_form(owner, follower_count=str(count))

    assert form.errors == {}
    assert form.cleaned_data["follower_count"] == count


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("-1", "Enter a number of followers, like 31200, 31,200 or 31.2k."),
        ("2000000001", "That is more followers than any account has."),
        ("lots", "Enter a number of followers, like 31200, 31,200 or 31.2k."),
    ],
)
def test_account_form_refuses_follower_count_out_of_bounds(count, message):
    owner = UserFactory()

    form = account_form(owner, follower_count=count)

    assert form.errors == {"follower_count": [message]}


def test_account_form_dates_follower_count_today_when_no_date_given():
    owner = UserFactory()

    form = account_form(owner, follower_count="31200")

    assert form.errors == {}
    assert form.cleaned_data["followers_as_of"] == timezone.localdate()


def test_account_form_refuses_future_followers_as_of():
    owner = UserFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)

    form = account_form(owner, follower_count="31200", followers_as_of=tomorrow.isoformat())

    assert form.errors == {"followers_as_of": ["The date cannot be in the future."]}


def test_account_form_saves_normalised_handle():
    owner = UserFactory()
    form = account_form(owner, handle="@maya.makes", follower_count="31200")
    form.instance.owner = owner

    account = form.save()

    assert (account.platform, account.handle, account.boundary) == (
        "instagram",
        "maya.makes",
        SocialAccount.Boundary.CLOSED,
    )


PROFILE_DEFAULTS = {
    "display_name": "Maya",
    "time_zone": "America/Los_Angeles",
    "deadline_reminders": "email_and_app",
    "no_decision_reminders": "email_and_app",
    "reply_reminders": "app_only",
    "quiet_hours_start": "21:00",
    "quiet_hours_end": "08:00",
}


def profile_form(user, **data):
    return ProfileForm(data={**PROFILE_DEFAULTS, **data}, instance=user)


def test_profile_form_accepts_state_for_united_states():
    user = UserFactory()

    form = profile_form(user, work_country="US", work_state="CA")

    assert form.errors == {}


@pytest.mark.parametrize("country", ["FR", ""])
def test_profile_form_refuses_state_outside_united_states(country):
    user = UserFactory()

    form = profile_form(user, work_country=country, work_state="CA")

    assert form.errors == {
        "work_state": ["A state applies only when you work in the United States."]
    }


def test_profile_form_offers_neither_manager_nor_role():
    boss = UserFactory(role="manager")
    user = UserFactory(manager=boss)

    form = profile_form(user, manager=str(user.pk), role="admin")

    assert form.errors == {}
    assert {"manager", "role", "is_staff"} & set(form.fields) == set()
    assert "manager" not in form.cleaned_data


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("31200", 31200),
        ("31,200", 31200),
        ("31 200", 31200),
        ("31\u202f200", 31200),
        ("31.200", 31200),
        ("30k", 30_000),
        ("31.2k", 31_200),
        ("1.2M", 1_200_000),
        ("2,5 m", 2_500_000),
        ("", None),
    ],
)
def test_account_form_takes_follower_counts_as_people_write_them(typed, stored):
    form = account_form(UserFactory(), follower_count=typed)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["follower_count"] == stored


@pytest.mark.parametrize("typed", ["30x", "-5", "31,00", "1.2345k", "k", "3e4", "2,000,000,001"])
def test_account_form_refuses_what_is_not_a_follower_count(typed):
    form = account_form(UserFactory(), follower_count=typed)

    assert list(form.errors) == ["follower_count"]


# --- PlainSelect: the profile's long selects, written without a template per option ----------

CHOICES = [
    ("", "Choose…"),
    ("Europe/Paris", "Europe/Paris"),
    ("x<y", 'Tom & "Jerry" <b>'),
    ("Regions", [("US-NY", "New York"), ("US-CA", "California")]),
]


@pytest.mark.parametrize("value", ["", "Europe/Paris", "x<y", "US-CA", None])
def test_long_select_writes_what_djangos_select_writes(value):
    attrs = {"id": "id_zone", "class": "form-select", "required": True, "data-browser-zone": "s"}

    ours = PlainSelect(choices=CHOICES).render("zone", value, attrs)
    django = forms.Select(choices=CHOICES).render("zone", value, attrs)

    assert parse_html(ours) == parse_html(django)
    assert "<b>" not in ours


def test_the_profile_form_uses_long_selects_for_its_long_lists(employee):
    form = ProfileForm(instance=employee)

    for name in ("time_zone", "work_country", "work_state"):
        assert isinstance(form.fields[name].widget, PlainSelect)
    page = str(form["time_zone"])
    assert 'data-browser-zone="suggest"' in page
    assert f'<option value="{employee.time_zone}" selected>' in page
