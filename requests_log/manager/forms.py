"""The manager's filing form. It validates input; promotion_request_file decides."""

from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.html import format_html

from boundary.models import SocialAccount, User

from ..forms import LocalDateTimeField
from ..models import PromotionRequest
from . import selectors

NO_PENALTY_NOTICE = (
    "{name} is free to say no. Declining carries no penalty, and Boundary records that you "
    "were told so."
)


class ReportSearchForm(forms.Form):
    """A name or job title, to find one report among many."""

    q = forms.CharField(
        label="Find a person",
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(
            attrs={"type": "search", "class": "form-control", "placeholder": "Name or job title"}
        ),
    )

    def search(self) -> str:
        return self.cleaned_data["q"] if self.is_valid() else ""


class AccountChoices(forms.ModelMultipleChoiceField):
    """The report's accounts, each with the boundary she set, a closed one saying so."""

    def __init__(self, *args, employee: User, **kwargs):
        self.employee = employee
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: SocialAccount) -> str:
        label = format_html(
            '<bdi>{}</bdi> <span class="badge boundary-badge boundary-{}">{}</span>',
            selectors.account_label(obj.platform, obj.handle),
            obj.boundary,
            obj.get_boundary_display(),
        )
        if obj.boundary == SocialAccount.Boundary.CLOSED:
            label += format_html(
                '<span class="d-block small text-danger closed-warning">{} has closed this '
                "account to employer content.</span>",
                self.employee.display_name,
            )
        return label


class FilingForm(forms.Form):
    """File a request to one report: what, where, how much, by when, for what, disclosed how.
    Framing is always "asked"; a closed account needs the filer to confirm they saw it."""

    promoted_item = forms.CharField(label="What do you ask them to promote?", max_length=300)
    content_format = forms.ChoiceField(
        label="Format", choices=PromotionRequest.ContentFormat.choices
    )
    quantity = forms.IntegerField(label="How many", required=False, min_value=1, max_value=1000)
    deadline = LocalDateTimeField(label="By when", required=False)
    compensation_offered = forms.CharField(
        label="What you offer in return",
        max_length=300,
        required=False,
        help_text="For example “€400 per video”. Leave empty if nothing is offered.",
    )
    disclosure_terms = forms.CharField(
        label="The disclosure the company will require",
        max_length=300,
        required=False,
        help_text="For example “#ad at the start, and the platform's paid-partnership label”.",
    )
    closed_confirmed = forms.BooleanField(
        label="I understand, and I still ask", required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, employee: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.employee = employee
        self.fields["target_accounts"] = AccountChoices(
            queryset=selectors.report_accounts(employee=employee),
            employee=employee,
            label=f"On which of {employee.display_name}'s accounts?",
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        cast(forms.IntegerField, self.fields["quantity"]).widget.attrs.update(inputmode="numeric")
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "promoted_item",
            "target_accounts",
            Div("closed_confirmed", css_class="closed-confirm"),
            Row(
                Column("content_format", css_class="col-7"),
                Column("quantity", css_class="col-5"),
            ),
            Row(
                Column("deadline", css_class="col-sm-6"),
                Column("compensation_offered", css_class="col-sm-6"),
            ),
            "disclosure_terms",
            HTML(
                format_html(
                    '<p class="alert alert-info no-penalty-notice">{}</p>',
                    NO_PENALTY_NOTICE.format(name=employee.display_name),
                )
            ),
        )
        self.helper.add_input(Submit("submit", f"Send to {employee.display_name}"))

    def clean_deadline(self):
        deadline = self.cleaned_data.get("deadline")
        if deadline and deadline <= timezone.now():
            raise forms.ValidationError("The deadline must be in the future.")
        return deadline

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        closed = [
            account
            for account in cleaned.get("target_accounts") or ()
            if account.boundary == SocialAccount.Boundary.CLOSED
        ]
        if closed and not cleaned.get("closed_confirmed"):
            self.fields["closed_confirmed"].widget = forms.CheckboxInput()
            names = ", ".join(selectors.account_label(a.platform, a.handle) for a in closed)
            self.add_error(
                "target_accounts",
                f"{self.employee.display_name} has closed {names} to employer content. "
                "Untick it, or confirm below that you ask anyway (the request will say so).",
            )
        return cleaned

    def filing_details(self) -> dict:
        """What promotion_request_file takes; only these fields, whatever else was posted."""
        cleaned = self.cleaned_data
        return {
            "target_accounts": list(cleaned["target_accounts"]),
            "promoted_item": cleaned["promoted_item"],
            "content_format": cleaned["content_format"],
            "quantity": cleaned["quantity"],
            "deadline": cleaned["deadline"],
            "compensation_offered": cleaned["compensation_offered"],
            "disclosure_terms": cleaned["disclosure_terms"],
        }
