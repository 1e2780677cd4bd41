"""Tags that turn the stored record back into words."""

from collections.abc import Iterable

from django import template
from django.utils.safestring import SafeString

from .. import charts, timeline_display
from ..exports import receiptformat
from ..models import TimelineEvent

register = template.Library()


@register.filter
def chain_time(text: str) -> str:
    """A time as the chain and the manifests write it, as a person reads it."""
    return receiptformat.readable_time(text)


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
