from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.urls import reverse_lazy

from boundary.models import User

from .. import access, evidence_privacy
from ..models import Export, PromotionRequest, ReceiptAddress
from . import receiptformat
from .record import PHOTO_ORIGINALS, WITHHOLDABLE_FIELDS, Scope

RECEIPTS_MAX_FILES = 50
# The export form lists this many of her requests to tick, newest first (and any older
# one already ticked): a record of 2,000 requests would be a 550 kB page of checkboxes.
REQUESTS_LISTED = 100


class RequestChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: PromotionRequest) -> str:
        return (
            f"#{obj.number} · {obj.occurred_at:%d %b %Y} · {obj.promoted_item} · "
            f"{obj.requester_name}"
        )


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=Export.Format.choices, widget=forms.RadioSelect, initial=Export.Format.PDF
    )
    mode = forms.ChoiceField(
        label="Which requests",
        choices=[
            ("all", "Every request (in the period, if you give one)"),
            ("chosen", "Only the requests I tick below"),
            ("except", "Every request (in the period) except the ones I tick below"),
        ],
        widget=forms.RadioSelect,
        initial="all",
    )
    date_from = forms.DateField(
        label="Period from (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label="Period to (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    requests = RequestChoiceField(
        label="Requests",
        queryset=PromotionRequest.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    withhold = forms.MultipleChoiceField(
        label="Withhold these details",
        choices=list(WITHHOLDABLE_FIELDS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        # Private notes are for her: they leave only if she unticks them. So do photos'
        # positions: a ZIP holds their stripped copies unless she unticks the originals.
        initial=["notes", PHOTO_ORIGINALS],
        help_text="Withheld details appear as their hashes: the record still verifies, and "
        "the reader sees that something was withheld. Your private notes are withheld "
        "unless you untick them. A ZIP always holds a stripped copy (no GPS position, "
        "camera or other metadata) of each photo that carries metadata; the original goes "
        "too only if you untick it here.",
    )

    def __init__(self, *args, employee: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        requests = cast(RequestChoiceField, self.fields["requests"])
        # Any of her requests may be ticked; the newest are listed (listed_requests).
        own = access.own_promotion_requests(employee).order_by("-occurred_at", "-id")
        requests.queryset = own
        requests.widget.choices, self.requests_cut = self.listed_requests(requests, own)
        # Her photos that would tell where they were taken: the page names them.
        self.located_evidence = evidence_privacy.located_evidence(employee)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "format",
            Fieldset(
                "What to include",
                "mode",
                Div(
                    Div("date_from", css_class="col-sm-6"),
                    Div("date_to", css_class="col-sm-6"),
                    css_class="row",
                ),
                Div("requests", css_class="request-choices"),
                HTML(
                    "{% if form.requests_cut %}<p class='small text-body-secondary "
                    "requests-cut'>These are your {{ form.requests_cut }} most recent "
                    "requests. For older ones, export every request in a period, or open "
                    "the request and choose “Export this request”.</p>{% endif %}"
                ),
            ),
            Fieldset("Redaction", "withhold"),
            Submit("submit", "Export", css_class="btn-primary btn-lg"),
        )

    def listed_requests(
        self, field: RequestChoiceField, own: QuerySet[PromotionRequest]
    ) -> tuple[list[tuple[int, str]], int]:
        """Her requests (`own`) to tick, (pk, label) newest first: the REQUESTS_LISTED
        newest and any older one ticked already (from the request's page, or a refused
        form), and how many are listed if that cut the list short (else 0)."""
        newest = list(own[: REQUESTS_LISTED + 1])
        cut = len(newest) > REQUESTS_LISTED
        listed = newest[:REQUESTS_LISTED]
        ticked = {str(value) for value in self["requests"].value() or ()}
        older = ticked - {str(item.pk) for item in listed}
        if cut and older:
            listed += own.filter(pk__in=[value for value in older if value.isdigit()])
        choices = [(item.pk, field.label_from_instance(item)) for item in listed]
        return choices, REQUESTS_LISTED if cut else 0

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end of the period is before its start.")
        if data.get("mode") == "chosen" and not data.get("requests"):
            self.add_error("requests", "Tick at least one request, or choose every request.")
        return data

    def scope(self) -> Scope:
        data = self.cleaned_data
        mode = data["mode"]
        chosen = tuple(item.pk for item in data["requests"]) if mode != "all" else ()
        return Scope(
            mode=mode,
            requests=chosen,
            date_from=data["date_from"] if mode != "chosen" else None,
            date_to=data["date_to"] if mode != "chosen" else None,
            # Only a ZIP carries files: other formats do not claim to withhold photos.
            withhold=tuple(
                name
                for name in data["withhold"]
                if name != PHOTO_ORIGINALS or data["format"] == Export.Format.ZIP
            ),
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field: Django's documented recipe. Cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class VerifyForm(forms.Form):
    export = forms.FileField(
        label="The export to check",
        help_text="A PDF, CSV, JSON or ZIP file made by Boundary.",
    )
    earlier = forms.FileField(
        label="An earlier export of the same record (optional)",
        required=False,
        help_text=(
            "Boundary checks it on its own and, if both pass, that the export above "
            "contains it unchanged."
        ),
    )
    receipts = MultipleFileField(
        label="Receipts you kept (optional)",
        required=False,
        help_text=(
            "The .txt receipts Boundary gave you or emailed you, up to "
            f"{RECEIPTS_MAX_FILES}: each says how far the record went when it was issued."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.add_input(Submit("submit", "Verify", css_class="btn-primary btn-lg"))

    def clean_receipts(self) -> list[tuple[str, bytes]]:
        """Each receipt as (name, bytes): a receipt is a few kilobytes of text."""
        files = self.cleaned_data["receipts"]
        if len(files) > RECEIPTS_MAX_FILES:
            raise forms.ValidationError(
                f"Give at most {RECEIPTS_MAX_FILES} receipts at a time (you gave {len(files)})."
            )
        receipts = []
        for upload in files:
            if upload.size > receiptformat.RECEIPT_MAX_BYTES:
                raise forms.ValidationError(
                    f"“{upload.name}” is {filesizeformat(upload.size)}: a receipt is at most "
                    f"{filesizeformat(receiptformat.RECEIPT_MAX_BYTES)}. Is it an export? "
                    "Put exports in the fields above."
                )
            receipts.append((upload.name or "receipt", upload.read()))
        return receipts

    def clean(self):
        super().clean()
        data = self.cleaned_data
        limit = settings.EXPORT_VERIFY_MAX_BYTES
        for name in ("export", "earlier"):
            uploaded = data.get(name)
            if uploaded is not None and uploaded.size > limit:
                self.add_error(
                    name,
                    f"This file is {filesizeformat(uploaded.size)}; this page checks files up "
                    f"to {filesizeformat(limit)}. Use the stand-alone verifier for larger ones.",
                )
        return data


class ReceiptAddressForm(forms.ModelForm):
    class Meta:
        model = ReceiptAddress
        fields = ("email", "cadence")
        labels = {"email": "A personal email address", "cadence": "Send"}
        help_texts = {
            "email": "Outside your employer's systems, so your receipts stay yours.",
        }
        widgets = {"cadence": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = reverse_lazy("exports:receipt-address")
        confirmed = self.instance.pk and self.instance.confirmed_at
        label = "Save" if confirmed else "Send me a confirmation link"
        self.helper.add_input(Submit("submit", label))
