from django import template

from ..models import TimelineEvent

register = template.Library()


@register.filter
def hr_reads(timeline: list) -> list[TimelineEvent]:
    """The "viewed by HR" events of a request page's timeline ((event, mark) pairs)."""
    return [event for event, _ in timeline if event.kind == TimelineEvent.Kind.VIEWED_BY_HR]
