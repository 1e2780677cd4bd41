"""Tags that turn the stored record back into words."""

from collections.abc import Iterable
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString

from .. import charts, timeline_display
from ..exports import receiptformat
from ..models import TimelineEvent

register = template.Library()


@register.filter
def chain_time(text: str) -> str:
    """A time as the chain and the manifests write it, as a person reads it."""
    return receiptformat.readable_time(text)


@register.filter
def moment(value: datetime, day_pattern: str) -> str:
    """`value` in the viewer's time zone, as `|date:"<day_pattern>, H:i"` writes it, with
    each day's words formatted once (timeline_display.moment_text): for lists of dates,
    where Django's date filter formats every one whole."""
    return timeline_display.moment_text(timezone.localtime(value), day_pattern)


# A share of every request names this many, then how many more.
NUMBERS_NAMED = 5


@register.filter
def request_numbers(numbers: list[int]) -> str:
    """Requests by number, as a line holds them: "#3, #5" or, for a share of all of a long
    record, "#1, #2, #3, #4, #5 and 1,995 more"."""
    named = ", ".join(f"#{number}" for number in numbers[:NUMBERS_NAMED])
    more = len(numbers) - NUMBERS_NAMED
    return f"{named} and {more:,} more" if more > 0 else named


@register.simple_tag
def bar_chart(chart: charts.Chart, chart_id: str) -> SafeString:
    """A stacked bar chart as inline SVG in a <figure> (charts.chart_html)."""
    return charts.chart_html(chart, chart_id)


@register.simple_tag
def timeline_entries(
    timeline: Iterable[tuple[TimelineEvent, bool]], *, requester_name: str
) -> SafeString:
    """The <li> of each event on a request's timeline (timeline_display.timeline_html)."""
    return timeline_display.timeline_html(timeline, requester_name=requester_name)
