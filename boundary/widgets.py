"""Form widgets shared by both apps."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class PlainSelect(forms.Select):
    """A select of plain options, written here and escaped by format_html, rather than by
    Django's select template with one option template included for each. For the long
    lists (the profile's time zones, countries and states: about 630 options, some 45 ms
    that way) and the filters of the dashboards, several selects a page. Groups are kept;
    an option's own attributes, which no select here sets, are not written."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = format_html_join(
            "",
            "{}",
            ((self._group(label, options),) for label, options, _ in widget["optgroups"]),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(widget["attrs"]), groups
        )

    @staticmethod
    def _group(label: str | None, options: list[dict]) -> SafeString:
        written = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for option in options
            ),
        )
        return (
            format_html('<optgroup label="{}">{}</optgroup>', label, written) if label else written
        )
