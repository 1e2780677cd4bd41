import re
import zoneinfo
from decimal import Decimal
from importlib import resources
from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.utils import timezone

from .models import PLATFORM_RULES, SocialAccount, User, normalise_email, normalise_handle
from .selectors import social_accounts_in_use
from .services import PROFILE_FIELDS, invitable_roles
from .widgets import PlainSelect


def canonical_time_zones() -> list[str]:
    """The IANA zones people live in (tzdata's zone1970.tab), without the old aliases
    ("US/Pacific", "Asia/Calcutta"…) that make the list long and confusing; and UTC."""
    table = resources.files("tzdata.zoneinfo").joinpath("zone1970.tab").read_text("utf-8")
    zones = {
        line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#")
    }
    return sorted(zones | {"UTC"})


def time_zone_choices(current: str = "") -> list[tuple[str, str]]:
    zones = canonical_time_zones()
    if current and current not in zones:  # an alias chosen before: keep it selectable
        zones.append(current)
    return [(zone, zone.replace("_", " ")) for zone in zones]


class SignupForm(BaseUserCreationForm):
    # Filled in by the browser (static/js/signup.js) so times start out in the right zone.
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    class Meta:
        model = User
        fields = ("display_name", "email")
        labels = {"display_name": "Your name"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.pop("autofocus", None)
        self.fields["display_name"].widget.attrs.update(autofocus=True, autocomplete="name")
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Create my account"))

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"]
        return zone if zone in zoneinfo.available_timezones() else "UTC"

    def _get_validation_exclusions(self) -> set[str]:
        """The address's uniqueness is not checked here: "already registered" would
        tell anyone which addresses have an account. services.user_signup handles a
        registered address without saying so."""
        return {*super()._get_validation_exclusions(), "email"}  # type: ignore[misc]


class InvitedSignupForm(SignupForm):
    """Sign-up from an invitation: the invited address, not editable."""

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, initial={"email": email}, **kwargs)
        self.fields["email"].disabled = True
        self.fields["email"].help_text = "The address your invitation was sent to."
        self.helper.inputs.clear()
        self.helper.add_input(Submit("submit", "Accept and create my account"))


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Log in"))


class CodeForm(forms.Form):
    """A code from the authenticator app (or, where allowed, a recovery code)."""

    code = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, submit: str = "Continue", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = help_text
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit))

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


class AccountCloseForm(forms.Form):
    """Closing an account: the person's password, and that they understand it is final."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    understood = forms.BooleanField(
        label="I understand that closing cannot be undone, and that what is removed is gone.",
    )

    def __init__(self, user: User, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Close my account", css_class="btn-danger"))

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Their work email address")
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args, by: User, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = invitable_roles(by)
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (value, label) for value, label in User.Role.choices if value in allowed
        ]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("email", css_class="col-sm-8"), Column("role", css_class="col-sm-4"))
        )
        self.helper.add_input(Submit("submit", "Send the invitation"))

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = PROFILE_FIELDS
        help_texts = {"time_zone": "Times are shown, and reminders sent, in this zone."}
        labels = {
            "deadline_reminders": "Before a deadline",
            "no_decision_reminders": "When nothing is decided after a few days",
            "reply_reminders": "To confirm my answer in writing",
            "quiet_hours_start": "Quiet from",
            "quiet_hours_end": "Until",
        }
        widgets = {
            "time_zone": PlainSelect,
            "work_country": PlainSelect,
            "work_state": PlainSelect,
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = cast(forms.ChoiceField, self.fields["time_zone"])
        zone.choices = time_zone_choices(str(self.instance.time_zone or ""))
        zone.widget.attrs["data-browser-zone"] = "suggest"
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "display_name",
            Row(Column("job_title"), Column("department")),
            "time_zone",
            Row(Column("work_country"), Column("work_state")),
            Fieldset(
                "Reminders",
                HTML(
                    '<p class="small text-body-secondary" id="reminders">About decisions still '
                    "waiting for you: never about posting. Emails have a generic subject.</p>"
                ),
                "deadline_reminders",
                "no_decision_reminders",
                "reply_reminders",
                Row(Column("quiet_hours_start"), Column("quiet_hours_end")),
                HTML(
                    '<p class="small text-body-secondary">A reminder due in your quiet hours '
                    "waits until they end.</p>"
                ),
            ),
        )
        self.helper.add_input(Submit("submit", "Save profile"))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("work_state") and cleaned.get("work_country") != "US":
            self.add_error("work_state", "A state applies only when you work in the United States.")
        return cleaned


MOST_FOLLOWERS = 2_000_000_000
SPACES = str.maketrans("", "", " \u00a0\u202f\u2009_")
SHORT_COUNT = re.compile(r"(\d+)(?:[.,](\d+))?([km])")  # 30k, 1.2M, 1,2m
GROUPED_COUNT = re.compile(r"\d{1,3}(?:([,.'])\d{3})?(?:\1\d{3})*")  # 31,000 31.000 31'000


def parse_follower_count(text: str) -> int:
    """A follower count as people write it: 31200, 31,200, 31 200, 31.2k, 1.2M.
    Raises ValueError for anything else (a fraction of a follower included)."""
    compact = text.translate(SPACES).lower()
    if short := SHORT_COUNT.fullmatch(compact):
        whole, fraction, unit = short.groups()
        count = Decimal(f"{whole}.{fraction or 0}") * (1_000 if unit == "k" else 1_000_000)
        if count != count.to_integral_value():
            raise ValueError(text)
        return int(count)
    if GROUPED_COUNT.fullmatch(compact) or compact.isdigit():
        return int(re.sub(r"[,.']", "", compact))
    raise ValueError(text)


class FollowerCountField(forms.CharField):
    widget = forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. 31,200 or 31.2k"})

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            count = parse_follower_count(text)
        except ValueError:
            raise forms.ValidationError(
                "Enter a number of followers, like 31200, 31,200 or 31.2k.", code="invalid"
            ) from None
        if count > MOST_FOLLOWERS:
            raise forms.ValidationError("That is more followers than any account has.")
        return count


class SocialAccountForm(forms.ModelForm):
    follower_count = FollowerCountField(
        label="Follower count",
        required=False,
        help_text="As your profile shows it: 31200, 31,200 or 31.2k all work.",
    )

    class Meta:
        model = SocialAccount
        fields = (
            "platform",
            "handle",
            "follower_count",
            "followers_as_of",
            "about",
            "boundary",
            "boundary_note",
        )
        widgets = {
            "followers_as_of": forms.DateInput(attrs={"type": "date"}),
            "boundary": forms.RadioSelect,
            "boundary_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "handle": "As shown on your profile; a leading @ is fine.",
            "boundary": "What your employer may ask of this account.",
        }

    def __init__(self, *args, owner: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        cast(forms.ChoiceField, self.fields["platform"]).choices = [
            ("", "Choose…"),
            *SocialAccount.Platform.choices,
        ]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("platform", css_class="col-sm-5"), Column("handle", css_class="col-sm-7")),
            Row(Column("follower_count"), Column("followers_as_of")),
            "about",
            "boundary",
            "boundary_note",
        )
        self.helper.add_input(Submit("submit", "Save account"))

    def clean_followers_as_of(self):
        as_of = self.cleaned_data.get("followers_as_of")
        if as_of and as_of > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return as_of

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        platform, handle = cleaned.get("platform"), cleaned.get("handle")
        if platform and handle:
            try:
                cleaned["handle"] = normalise_handle(platform, handle)
            except ValueError:
                label = SocialAccount.Platform(platform).label
                self.add_error(
                    "handle",
                    f"That is not a valid {label} handle: use {PLATFORM_RULES[platform].allowed}.",
                )
                return cleaned
            duplicate = (
                social_accounts_in_use(owner=self.owner)
                .filter(platform=platform, handle__iexact=cleaned["handle"])
                .exclude(pk=self.instance.pk)
                .exists()
            )
            if duplicate:
                self.add_error("handle", "You have already linked this account.")
        if cleaned.get("follower_count") is not None and not cleaned.get("followers_as_of"):
            cleaned["followers_as_of"] = timezone.localdate()
        return cleaned


class ManagerAssignForm(forms.Form):
    """HR's way to say who manages whom, by address: no list of everyone to pick from."""

    employee = forms.EmailField(label="The person's email address")
    manager = forms.EmailField(
        label="Their manager's email address",
        required=False,
        help_text="Someone with the manager, HR or admin role. Leave empty to remove.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(Row(Column("employee"), Column("manager")))
        self.helper.add_input(Submit("submit", "Set the manager"))

    def _person(self, field: str) -> User | None:
        email = self.cleaned_data.get(field)
        if not email:
            return None
        person = User.objects.filter(email=normalise_email(email), is_active=True).first()
        if person is None:
            raise forms.ValidationError("No one has an account with this address.")
        return person

    def clean_employee(self) -> User | None:
        return self._person("employee")

    def clean_manager(self) -> User | None:
        return self._person("manager")
