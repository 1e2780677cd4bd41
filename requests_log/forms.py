import codecs
from datetime import timedelta
from typing import cast

import filetype
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Field, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from boundary.models import SocialAccount, User
from boundary.widgets import PlainSelect

from . import access, flags, selectors
from .models import Decision, FollowUp, PromotionRequest

# Detected from the file's content, never from its name or the browser's word.
EVIDENCE_TYPES = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "audio/mpeg",
    "audio/mp4",
    "audio/x-wav",
    "audio/ogg",
    "text/plain",
}
MAX_EVIDENCE_FILES = 10
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
CLOCK_SKEW = timedelta(minutes=5)


def detect_content_type(uploaded: UploadedFile) -> str | None:
    head = uploaded.read(8192)
    uploaded.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if head and b"\x00" not in head:
        try:
            # Incremental, so a character cut at the 8 KiB mark is still text.
            final = (uploaded.size or 0) <= len(head)
            codecs.getincrementaldecoder("utf-8")().decode(head, final=final)
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


def validate_evidence_file(uploaded: UploadedFile) -> None:
    """Refuse empty, oversized and disallowed files; set the content type we detected."""
    size = uploaded.size or 0
    if size == 0:
        raise forms.ValidationError(f"“{uploaded.name}” is empty.")
    if size > settings.EVIDENCE_MAX_BYTES:
        raise forms.ValidationError(
            f"“{uploaded.name}” is {filesizeformat(size)}; the limit is "
            f"{filesizeformat(settings.EVIDENCE_MAX_BYTES)}."
        )
    content_type = detect_content_type(uploaded)
    if content_type not in EVIDENCE_TYPES:
        raise forms.ValidationError(
            f"“{uploaded.name}” is not a file type Boundary keeps. Use a PDF, an image, "
            "a video, an audio recording or a plain-text file."
        )
    uploaded.content_type = content_type


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Evidence files")
        kwargs.setdefault(
            "help_text",
            "Screenshots, emails saved as PDF, recordings. Up to "
            f"{MAX_EVIDENCE_FILES} files, {filesizeformat(settings.EVIDENCE_MAX_BYTES)} each.",
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_EVIDENCE_FILES:
            raise forms.ValidationError(f"Attach at most {MAX_EVIDENCE_FILES} files at a time.")
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        cleaned, errors = [], []
        for file in files:  # every refused file is named at once, not only the first
            try:
                checked = super().clean(file, initial)
            except forms.ValidationError as error:  # Django's own checks: name the file
                errors += [f"“{file.name}”: {message}" for message in error.messages]
                continue
            try:
                validate_evidence_file(checked)
            except forms.ValidationError as error:
                errors += error.messages
            else:
                cleaned.append(checked)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


class LocalDateTimeField(forms.DateTimeField):
    """A date and time in the user's zone, to the minute, within a sensible range."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)
    earliest_year, latest_year = 1970, 2100

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and not self.earliest_year <= moment.year <= self.latest_year:
            raise forms.ValidationError(
                f"Enter a date between {self.earliest_year} and {self.latest_year}.",
                code="out_of_range",
            )
        return moment


def required_label(text: str) -> str:
    """A label marked as required (as crispy marks required fields) for a field that is
    required only in some cases, so the form can tell which."""
    return format_html('{}<span class="asteriskField">*</span>', text)


def not_in_future(moment):
    if moment and moment > timezone.now() + CLOCK_SKEW:
        raise forms.ValidationError("This cannot be in the future.")


class PromotionRequestForm(forms.ModelForm):
    """Log a demand: the fields a person can fill in on a phone in under two minutes
    come first; the rest are optional."""

    occurred_at = LocalDateTimeField(label="When did it happen?", validators=[not_in_future])
    deadline = LocalDateTimeField(label="By when?", required=False)
    evidence: "EvidenceField | None" = EvidenceField()  # CorrectionForm takes none

    class Meta:
        model = PromotionRequest
        fields: tuple[str, ...] = (
            "requester_user",
            "requester_name",
            "requester_title",
            "occurred_at",
            "channel",
            "setting",
            "framing",
            "promoted_item",
            "target_accounts",
            "content_format",
            "quantity",
            "deadline",
            "compensation_offered",
            "words_used",
            "witnesses",
            "notes",
        )
        labels = {
            "requester_user": "Or pick them, if they use Boundary",
            "requester_name": "Who asked",
            "requester_title": "Their title",
            "setting": "Where (e.g. marketing meeting)",
            "framing": "How was it framed?",
            "promoted_item": "What are you asked to promote?",
            "target_accounts": "Which of your accounts?",
            "words_used": "The words used",
            "compensation_offered": "What was offered in return",
        }
        help_texts = {
            "words_used": "As close to verbatim as you can.",
            "compensation_offered": "Leave empty if nothing was offered.",
            "witnesses": "Who else was there.",
        }
        error_messages = {"requester_name": {"required": "Say who asked."}}
        widgets = {
            "framing": forms.RadioSelect,
            "target_accounts": forms.CheckboxSelectMultiple,
            "words_used": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "quantity": forms.NumberInput(attrs={"min": 1, "max": 1000, "inputmode": "numeric"}),
        }

    def __init__(self, *args, employee: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.employee = employee
        cast(forms.ChoiceField, self.fields["framing"]).choices = PromotionRequest.Framing.choices
        cast(forms.ChoiceField, self.fields["channel"]).choices = [
            ("", "Choose…"),
            *(
                choice
                for choice in PromotionRequest.Channel.choices
                if choice[0] != PromotionRequest.Channel.IN_BOUNDARY
            ),
        ]
        self.fields["quantity"].widget.attrs.update(min=1, max=1000)
        if "target_accounts" in self.fields:
            accounts = cast(forms.ModelMultipleChoiceField, self.fields["target_accounts"])
            accounts.queryset = access.social_accounts_for(employee)
            accounts.required = False
            if not accounts.queryset.exists():
                accounts.help_text = format_html(
                    'You have not linked any accounts yet. <a href="{}">Link one</a> so Boundary '
                    "can flag requests that cross your boundaries.",
                    reverse("boundary:account-create"),
                )
        if "requester_user" in self.fields:
            colleagues = access.requester_candidates(employee).only("pk", "display_name", "email")
            if colleagues.exists():
                requester = cast(forms.ModelChoiceField, self.fields["requester_user"])
                requester.queryset = colleagues
                requester.empty_label = "Choose…"
                # A name or a pick: one is needed, so both show the required mark.
                self.fields["requester_name"].required = False
                self.fields["requester_name"].label = required_label("Who asked")
                self.fields["requester_user"].label = required_label(
                    "Or pick them, if they use Boundary"
                )
            else:
                del self.fields["requester_user"]
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Row(
                Column("requester_name", css_class="col-sm-6"),
                Column("requester_title", css_class="col-sm-6"),
            ),
            *(["requester_user"] if "requester_user" in self.fields else []),
            Row(
                Column("occurred_at", css_class="col-sm-6"), Column("channel", css_class="col-sm-6")
            ),
            "setting",
            "promoted_item",
            "target_accounts",
            "framing",
            Row(
                Column("content_format", css_class="col-7"),
                Column("quantity", css_class="col-5"),
            ),
            Row(
                Column("deadline", css_class="col-sm-6"),
                Column("compensation_offered", css_class="col-sm-6"),
            ),
            "words_used",
            "witnesses",
            "notes",
            "evidence",
        )
        self.helper.add_input(Submit("submit", "Log this request"))

    def clean_quantity(self):
        quantity = self.cleaned_data.get("quantity")
        if quantity is not None and not 1 <= quantity <= 1000:
            raise forms.ValidationError("Enter a number from 1 to 1000.")
        return quantity

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        requester_user = cleaned.get("requester_user")
        typed = cleaned.get("requester_name")
        if typed and requester_user is not None and not same_person(typed, requester_user):
            self.add_error(
                "requester_user",
                f"You typed “{typed}” but picked {requester_user.display_name}: "
                "clear one of them, so the request names one person.",
            )
        if not typed and "requester_name" not in self.errors:
            if requester_user is not None:
                cleaned["requester_name"] = requester_user.display_name
                cleaned["requester_title"] = (
                    cleaned.get("requester_title") or requester_user.job_title
                )
            else:
                pick = (
                    ": a name, or pick them from the list"
                    if "requester_user" in self.fields
                    else ""
                )
                self.add_error("requester_name", f"Say who asked{pick}.")
        occurred_at, deadline = cleaned.get("occurred_at"), cleaned.get("deadline")
        if occurred_at and deadline and deadline < occurred_at:
            self.add_error("deadline", "The deadline cannot be before the request was made.")
        return cleaned

    @property
    def files_to_attach_again(self) -> list[str]:
        """The names of the files sent with a refused form: the page sent back cannot
        hold them, so she is told to attach them again."""
        if not self.errors:
            return []
        return [item.name for item in self.files.getlist("evidence") if item.name]

    def request_details(self) -> dict:
        """The request's details, in the form's order: the fields it shows but its targets
        (passed on their own)."""
        return {
            field: self.cleaned_data[field]
            for field in self.Meta.fields
            if field in self.fields and field != "target_accounts"
        }


def same_person(typed: str, picked: User) -> bool:
    """Whether a typed name can be the picked person's: every word of one is a word of
    the other ("Daniel" for Daniel Reyes), case aside."""
    words, name = set(typed.casefold().split()), set(picked.display_name.casefold().split())
    return words <= name or name <= words


class CorrectionForm(PromotionRequestForm):
    reason = forms.CharField(
        label="Why the correction?",
        max_length=300,
        required=False,
        help_text="Shown on the timeline next to the old and new values.",
    )
    evidence = None

    class Meta(PromotionRequestForm.Meta):
        fields = tuple(f for f in PromotionRequestForm.Meta.fields if f != "target_accounts")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # As on the form that logged it: the name and title, then the person picked (when
        # she has anyone to pick: requests she logged name them, so whoever is picked now
        # stays a choice).
        shown = [field for field in self.Meta.fields if field in self.fields]
        if "requester_user" in shown:
            shown.remove("requester_user")
            shown.insert(shown.index("requester_title") + 1, "requester_user")
        self.helper.layout = Layout(*shown, "reason")
        self.helper.inputs = []
        self.helper.add_input(Submit("submit", "Save correction"))


class DecisionForm(forms.ModelForm):
    decided_at = LocalDateTimeField(
        label="When did you answer?",
        validators=[not_in_future],
        help_text="Now, unless you answered earlier (in the meeting, say).",
    )
    decline_reasons = forms.MultipleChoiceField(
        label=required_label("Why you decline"),
        help_text="Tick every reason that applies.",
        choices=Decision.DeclineReason.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Shown only when the answer's time would leave out something that came after it.
    time_confirmed = forms.BooleanField(
        label="Yes, I answered after those", required=False, widget=forms.HiddenInput
    )

    class Meta:
        model = Decision
        fields = (
            "kind",
            "decided_at",
            "decline_reasons",
            "pay",
            "disclosure_required",
            "content_approval_required",
            "ends_on",
            "accounts",
            "details",
            "details_in_reply",
            "message_to_requester",
        )
        labels = {
            "kind": "Your answer",
            "pay": "Pay",
            "disclosure_required": "Every post discloses my connection to the company",
            "content_approval_required": "I approve the content before it is published",
            "ends_on": "The arrangement ends on",
            "accounts": "On which accounts",
            "details": "Details",
            "details_in_reply": "Put these details in my written reply",
        }
        help_texts = {
            "details": (
                "Needed for a counter-proposal: what you propose instead (it goes in your "
                "reply). For a decline, more about why; to accept, other conditions."
            ),
            "details_in_reply": "Otherwise they stay on your record only.",
            "message_to_requester": (
                "Optional. They see your answer, its conditions and this message, never your "
                "reasons or private details."
            ),
            "pay": "For example “€400 per video”.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "accounts": forms.CheckboxSelectMultiple,
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "details": forms.Textarea(attrs={"rows": 3}),
            "message_to_requester": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, promotion_request: PromotionRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.promotion_request = promotion_request
        # Only a request filed in Boundary has a requester who reads the answer here.
        filed = promotion_request.source == PromotionRequest.Source.FILED_IN_APP
        if filed:
            self.fields[
                "message_to_requester"
            ].label = f"A message to {promotion_request.requester_name}"
        else:
            del self.fields["message_to_requester"]
        cast(forms.ChoiceField, self.fields["kind"]).choices = Decision.Kind.choices
        accounts = cast(forms.ModelMultipleChoiceField, self.fields["accounts"])
        accounts.queryset = promotion_request.target_accounts.all()
        self.fields["accounts"].required = False
        self.initial.setdefault("decided_at", timezone.localtime().replace(second=0, microsecond=0))
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field("kind"),
            "decided_at",
            "time_confirmed",
            Div("decline_reasons", data_for="decline"),
            Div(
                "pay",
                "disclosure_required",
                "content_approval_required",
                "ends_on",
                "accounts",
                data_for="accept",
            ),
            "details",
            Div("details_in_reply", data_for="decline accept"),
            *(["message_to_requester"] if filed else []),
        )
        self.helper.add_input(Submit("submit", "Record my answer"))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        kind = cleaned.get("kind")
        if kind == Decision.Kind.DECLINE and not cleaned.get("decline_reasons"):
            self.add_error(
                "decline_reasons", "Tick at least one reason; add more in Details if you like."
            )
        if kind == Decision.Kind.COUNTER and not cleaned.get("details", "").strip():
            self.add_error("details", "Say what you propose instead.")
        if kind != Decision.Kind.DECLINE:
            cleaned["decline_reasons"] = []
        if kind == Decision.Kind.COUNTER:
            cleaned["details_in_reply"] = True  # the proposal is the reply
        if kind != Decision.Kind.ACCEPT:
            cleaned["pay"], cleaned["ends_on"] = "", None
            cleaned["disclosure_required"] = cleaned["content_approval_required"] = False
            cleaned["accounts"] = []
        decided_at = cleaned.get("decided_at")
        if decided_at and decided_at < self.promotion_request.occurred_at.replace(
            second=0, microsecond=0
        ):
            self.add_error("decided_at", "You cannot have answered before you were asked.")
        elif decided_at and kind == Decision.Kind.DECLINE and not cleaned.get("time_confirmed"):
            self._warn_of_what_came_before(decided_at)
        ends_on = cleaned.get("ends_on")
        if ends_on and ends_on < timezone.localdate():
            self.add_error("ends_on", "The end date cannot be in the past.")
        return cleaned

    def _warn_of_what_came_before(self, decided_at) -> None:
        """A "no" dated after pressure that really came after it would hide that pressure:
        say what would count as before it, and let the employee confirm or correct."""
        earlier = flags.dated_before_a_decline(
            selectors.request_facts(self.promotion_request, declarations={}),
            decided_at=decided_at,
            later_asks=selectors.later_asks_facts(self.promotion_request),
        )
        if not earlier:
            return
        self.fields["time_confirmed"].widget = forms.CheckboxInput()
        listed = "; ".join(
            f"{what} ({timezone.localtime(when):%a %d %b, %H:%M})" for when, what in earlier
        )
        self.add_error(
            "decided_at",
            f"This time is after {listed}. If you said no before that, enter when you did; "
            "if you really answered later, tick “Yes, I answered after those”.",
        )

    def decision_terms(self) -> dict:
        fields = (set(self.Meta.fields) & set(self.fields)) - {"kind", "accounts"}
        return {field: self.cleaned_data[field] for field in fields}


class FollowUpForm(forms.ModelForm):
    occurred_at = LocalDateTimeField(label="When did it happen?", validators=[not_in_future])
    evidence = EvidenceField()

    class Meta:
        model = FollowUp
        fields = ("kind", "occurred_at", "who", "what_was_said", "quoted", "witnesses")
        labels = {
            "kind": "What happened",
            "who": "Who",
            "what_was_said": "What was said or done",
            "quoted": "These are their exact words (a quote)",
        }
        widgets = {"what_was_said": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "what_was_said": "Their words as close to verbatim as you can, or your account.",
            "quoted": "Untick if you wrote what happened in your own words.",
        }

    def __init__(self, *args, promotion_request: PromotionRequest, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            ("", "Choose…"),
            *FollowUp.Kind.choices,
        ]
        self.initial.setdefault("who", promotion_request.requester_name)
        self.initial.setdefault(
            "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Row(Column("kind", css_class="col-sm-6"), Column("occurred_at", css_class="col-sm-6")),
            "who",
            "what_was_said",
            "quoted",
            "witnesses",
            "evidence",
        )
        self.helper.add_input(Submit("submit", "Add to the timeline"))

    def follow_up_details(self) -> dict:
        return {field: self.cleaned_data[field] for field in self.Meta.fields}


class EvidenceForm(forms.Form):
    evidence = EvidenceField(label="Add evidence files")

    def clean_evidence(self):
        if not self.cleaned_data["evidence"]:
            raise forms.ValidationError("Choose at least one file to attach.")
        return self.cleaned_data["evidence"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Attach"))

    def full_clean(self) -> None:
        super().full_clean()
        if self.errors:  # focus the field, so the page opens there with its errors
            self.fields["evidence"].widget.attrs["autofocus"] = True


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label="Note",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="How and when it was withdrawn.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # The page's one action: crispy's Submit is always btn-primary, and an outline
        # class on top of it gave grey text on blue.
        self.helper.add_input(Submit("submit", "Mark as withdrawn"))


def bootstrap_classes(form: forms.Form) -> None:
    """Bootstrap's classes on a form's visible fields, marked invalid where they have
    errors: for filter forms written out in a template (requests_log/
    dashboard_filter_field.html), where crispy's per-field templates cost more than the
    rest of the page. Their selects are PlainSelects, for the same reason."""
    for name, field in form.fields.items():
        if field.widget.is_hidden:
            continue
        css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
        if form.errors.get(name):
            css += " is-invalid"
        field.widget.attrs["class"] = css


class DashboardFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(
        required=False,
        widget=PlainSelect,
        choices=[
            ("", "Any status"),
            (selectors.OPEN, "Waiting for your answer"),
            *PromotionRequest.Status.choices,
        ],
    )
    requester = forms.ChoiceField(required=False, widget=PlainSelect, choices=[("", "Anyone")])
    platform = forms.ChoiceField(
        required=False,
        widget=PlainSelect,
        choices=[("", "Any platform"), *SocialAccount.Platform.choices],
    )
    framing = forms.ChoiceField(
        required=False,
        widget=PlainSelect,
        choices=[("", "Any framing"), *PromotionRequest.Framing.choices],
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, requesters: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["requester"]).choices = [("", "Anyone"), *requesters]
        bootstrap_classes(self)  # laid out by requests_log/dashboard_filters.html

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if (
            cleaned.get("date_from")
            and cleaned.get("date_to")
            and cleaned["date_from"] > cleaned["date_to"]
        ):
            self.add_error("date_to", "“To” must be on or after “From”.")
        return cleaned


class DisclosureProofForm(forms.Form):
    """Proof that a post disclosed the connection, for one accepted account: a link to the
    post and/or a screenshot (checked as evidence is, and an image). The page shows one per
    account, each with its own field ids."""

    account = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput)
    post_url = forms.URLField(
        label="Link to the post",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="The address of the post itself, starting with https://",
    )
    screenshot = forms.FileField(
        label="Screenshot of the post",
        required=False,
        help_text=(
            "Showing the disclosure (the label, the #ad). Fingerprinted (SHA-256) and kept as "
            f"evidence; up to {filesizeformat(settings.EVIDENCE_MAX_BYTES)}."
        ),
    )

    def __init__(self, *args, accounts: list[SocialAccount], **kwargs):
        account_id = kwargs.pop("account_id", None)
        if account_id is not None:
            kwargs.setdefault("auto_id", f"id_proof_{account_id}_%s")
            kwargs.setdefault("initial", {"account": account_id})
        super().__init__(*args, **kwargs)
        self.accounts = {account.pk: account for account in accounts}
        cast(forms.TypedChoiceField, self.fields["account"]).choices = [
            (account.pk, str(account)) for account in accounts
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_account(self) -> SocialAccount:
        return self.accounts[self.cleaned_data["account"]]

    def clean_post_url(self) -> str:
        url = self.cleaned_data["post_url"]
        if url and not url.lower().startswith("https://"):
            raise forms.ValidationError("Use the post's secure link: it starts with https://")
        return url

    def clean_screenshot(self) -> UploadedFile | None:
        screenshot = self.cleaned_data["screenshot"]
        if screenshot:
            validate_evidence_file(screenshot)
            if not (screenshot.content_type or "").startswith("image/"):
                raise forms.ValidationError(
                    f"“{screenshot.name}” is not an image. Use a screenshot (PNG, JPEG, WebP…)."
                )
        return screenshot or None

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and not cleaned.get("post_url") and not cleaned.get("screenshot"):
            raise forms.ValidationError("Add the post's link, a screenshot, or both.")
        return cleaned

    def full_clean(self) -> None:
        super().full_clean()
        if self.errors:  # the page opens at this form, with its errors
            self.fields["post_url"].widget.attrs["autofocus"] = True
