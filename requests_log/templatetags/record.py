"""Filters that turn stored timeline payloads back into words."""

from datetime import datetime

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.dateformat import format as date_format

from ..exports import receiptformat
from ..models import Decision, FollowUp, PromotionRequest
from ..models.request import DECLINE_REASON_LABELS

register = template.Library()

CHOICES = {
    "channel": PromotionRequest.Channel,
    "framing": PromotionRequest.Framing,
    "content_format": PromotionRequest.ContentFormat,
}


@register.filter
def chain_time(text: str) -> str:
    """A time as the chain and the manifests write it, as a person reads it."""
    return receiptformat.readable_time(text)


@register.filter
def field_label(field: str) -> str:
    try:
        label = getattr(PromotionRequest._meta.get_field(field), "verbose_name", field)
        return str(label).capitalize()
    except FieldDoesNotExist:
        return field.replace("_", " ").capitalize()


@register.filter
def record_value(value, field: str = ""):
    """A stored value as a person reads it: local times, choice labels, "—" for empty."""
    if value in (None, ""):
        return "—"
    if field in CHOICES and value in CHOICES[field].values:
        return CHOICES[field](value).label
    if isinstance(value, str) and field in {"occurred_at", "deadline"}:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return date_format(timezone.localtime(moment), "j M Y, H:i")
    return value


@register.filter
def follow_up_kind(value: str) -> str:
    return FollowUp.Kind(value).label if value in FollowUp.Kind.values else value


@register.filter
def decision_kind(value: str) -> str:
    return Decision.Kind(value).label if value in Decision.Kind.values else value


@register.filter
def decline_reasons(payload: dict) -> str:
    """A decision event's reasons in words: its list, or the one reason older events hold."""
    reasons = payload.get("decline_reasons") or (
        [payload["decline_reason"]] if payload.get("decline_reason") else []
    )
    return "; ".join(DECLINE_REASON_LABELS.get(reason, reason) for reason in reasons)
