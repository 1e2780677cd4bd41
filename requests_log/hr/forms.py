"""HR's filters. They validate input; hr_selectors decide what is counted."""

from typing import Any, cast
from urllib.parse import urlencode

from django import forms

from boundary.widgets import PlainSelect

from ..forms import bootstrap_classes
from ..hr_selectors import Filters


class HrFilterForm(forms.Form):
    """Department and period, for the dashboard, its lists and the export."""

    department = forms.ChoiceField(
        required=False, widget=PlainSelect, choices=[("", "Every department")]
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # The list's pattern or count, kept when the filters change.
    pattern = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    status = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args, departments: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["department"]).choices = [
            ("", "Every department"),
            *((name, name) for name in departments),
        ]
        bootstrap_classes(self)  # laid out by requests_log/hr/filters.html

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The period starts after it ends.")
        return cleaned

    def chosen(self, name: str) -> str:
        return (self.cleaned_data.get(name) or "") if self.is_valid() else ""

    def query(self) -> str:
        """The valid department and period filters as a query string, for links."""
        if not self.is_valid():
            return ""
        return urlencode(
            {
                name: self.cleaned_data[name]
                for name in ("department", "date_from", "date_to")
                if self.cleaned_data.get(name)
            }
        )

    def filters(self) -> Filters:
        """The valid filters, or none (an invalid form shows its errors, unfiltered)."""
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        return Filters(
            department=data.get("department") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
