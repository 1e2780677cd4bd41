"""A request's timeline as HTML: one <li> per event, as the employee's and HR's request
pages show it.

Built in Python rather than by a template included once per event: a request pressed
for months has hundreds of events, and that include, with its date filters and
payload lookups, took most of the request page's time (issue 14). Each kind of event
has its function below; `format_html` escapes every stored value.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.template.defaultfilters import linebreaksbr, pluralize
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import get_language

from .models import Decision, FollowUp, PromotionRequest, TimelineEvent
from .models.request import DECLINE_REASON_LABELS

Kind = TimelineEvent.Kind
# Choice labels by stored value (a value no longer among the choices shows as stored),
# looked up once rather than from the choices for each event.
EVENT_KINDS = dict(Kind.choices)
FOLLOW_UP_KINDS = dict(FollowUp.Kind.choices)
DECISION_KINDS = dict(Decision.Kind.choices)
REQUEST_CHOICES = {
    "channel": dict(PromotionRequest.Channel.choices),
    "framing": dict(PromotionRequest.Framing.choices),
    "content_format": dict(PromotionRequest.ContentFormat.choices),
}


@dataclass(frozen=True)
class Entry:
    """An event as its entry reads it: its payload, its time in the reader's time zone,
    and the request's requester (whom a decision's message is to)."""

    event: TimelineEvent
    payload: dict[str, Any]
    occurred_at: datetime
    after_decline: bool
    requester_name: str


def timeline_html(
    timeline: Iterable[tuple[TimelineEvent, bool]], *, requester_name: str
) -> SafeString:
    """The entries for each event and whether it pressed again after a decline
    (flags.RequestFlags.marks_event), in the active time zone."""
    return join(
        (
            event_html(event, after_decline=after_decline, requester_name=requester_name)
            for event, after_decline in timeline
        ),
        separator="\n",
    )


def event_html(event: TimelineEvent, *, after_decline: bool, requester_name: str) -> SafeString:
    entry = Entry(
        event=event,
        payload=event.payload,
        occurred_at=timezone.localtime(event.occurred_at),
        after_decline=after_decline,
        requester_name=requester_name,
    )
    recorded_at = timezone.localtime(event.recorded_at)
    details = DETAILS.get(event.kind)
    return format_html(
        '<li class="timeline-event timeline-{}{}" id="event-{}">'
        '<div class="small text-body-secondary"><time datetime="{}">{}</time>{}</div>'
        '<div class="fw-semibold">{}</div>'
        "{}"
        '<div class="small text-body-secondary hash" title="SHA-256 of this entry">#{} · {}…</div>'
        "</li>",
        event.kind,
        " timeline-after-decline" if after_decline else "",
        event.seq,
        entry.occurred_at.isoformat(),
        moment_text(entry.occurred_at, "D j M Y"),
        # Logged afterwards, or backdated: when Boundary stored it as well.
        ""
        if same_minute(recorded_at, entry.occurred_at)
        else f" · recorded {moment_text(recorded_at, 'j M')}",
        heading(entry),
        details(entry) if details else "",
        event.seq,
        event.hash[:12],
    )


def moment_text(moment: datetime, day_pattern: str) -> str:
    """`moment` as its day in Django's `day_pattern` then the time, "Tue 3 Mar 2026, 09:30".
    The day's words (weekday and month names, translated) are formatted once per day: a
    long timeline's dates, each formatted whole, were a fifth of its page."""
    return f"{_day_text(moment.date(), day_pattern, get_language())}, {moment:%H:%M}"


@lru_cache(maxsize=1024)
def _day_text(day: date, day_pattern: str, language: str | None) -> str:
    return date_format(day, day_pattern)  # `language`: the key, as it changes the words


def heading(entry: Entry) -> SafeString:
    """The kind of event; for a follow-up or a decision, which kind of one."""
    title = EVENT_KINDS.get(entry.event.kind, entry.event.kind)
    kind = entry.payload.get("kind", "")
    if entry.event.kind == Kind.FOLLOW_UP:
        return format_html("{}: {}", title, FOLLOW_UP_KINDS.get(kind, kind))
    if entry.event.kind == Kind.DECISION:
        revised = " (revised)" if entry.payload.get("revises") else ""
        return format_html("{}: {}{}", title, DECISION_KINDS.get(kind, kind), revised)
    return conditional_escape(title)


def follow_up(entry: Entry) -> SafeString:
    payload = entry.payload
    parts = []
    if entry.after_decline:
        parts.append(
            format_html(
                '<div class="flag flag-danger small">{}</div>', "Repeated pressure after a decline"
            )
        )
    # Words noted as their gist rather than verbatim go without quotation marks.
    said = (
        "<div><bdi>{}</bdi>: <bdi>{}</bdi></div>"
        if payload.get("quoted") is False
        else "<div><bdi>{}</bdi>: “<bdi>{}</bdi>”</div>"
    )
    parts.append(format_html(said, payload.get("who", ""), payload.get("what_was_said", "")))
    if payload.get("witnesses"):
        parts.append(format_html('<div class="small">Witnesses: {}</div>', payload["witnesses"]))
    return join(parts)


def decision(entry: Entry) -> SafeString:
    payload = entry.payload
    parts = []
    if reasons := decline_reasons(payload):
        parts.append(format_html("<div>{}</div>", reasons))
    if payload.get("pay"):
        parts.append(format_html("<div>Pay: {}</div>", payload["pay"]))
    if payload.get("disclosure_required"):
        parts.append(format_html("<div>{}</div>", "Posts must disclose the connection"))
    if payload.get("content_approval_required"):
        parts.append(format_html("<div>{}</div>", "Content approved by me before publishing"))
    if payload.get("ends_on"):
        parts.append(format_html("<div>Ends on {}</div>", payload["ends_on"]))
    if payload.get("details"):
        parts.append(format_html("<div>{}</div>", linebreaksbr(payload["details"])))
    if payload.get("message_to_requester"):
        parts.append(
            format_html(
                '<div class="small">Message to {}: “<bdi>{}</bdi>”</div>',
                entry.requester_name or "the requester",
                payload["message_to_requester"],
            )
        )
    return join(parts)


def decline_reasons(payload: dict[str, Any]) -> str:
    """A decision's reasons in words: its list, or the one reason older events hold."""
    reasons = payload.get("decline_reasons") or (
        [payload["decline_reason"]] if payload.get("decline_reason") else []
    )
    return "; ".join(DECLINE_REASON_LABELS.get(reason, reason) for reason in reasons)


def seen_by_requester(entry: Entry) -> SafeString:
    return format_html(
        "<div>Seen by <bdi>{}</bdi> at {}: proof the answer arrived</div>",
        entry.payload.get("actor_name", ""),
        f"{entry.occurred_at:%H:%M}",
    )


def viewed_by_hr(entry: Entry) -> SafeString:
    return format_html(
        '<div class="hr-read">{} by <bdi>{}</bdi> (HR) at {}</div>',
        "In an export" if entry.payload.get("export") else "Opened",
        entry.payload.get("actor_name", ""),
        f"{entry.occurred_at:%H:%M}",
    )


def sharing(entry: Entry) -> SafeString:
    """A share with HR, or its stop: of which requests, and what it means from then on."""
    numbers = entry.payload.get("numbers", "")
    if entry.payload.get("all"):
        which = "Every request logged by the employee"
    else:
        which = f"Request{pluralize(numbers)} #" + ", #".join(str(number) for number in numbers)
    if entry.event.kind == Kind.SHARED_WITH_HR:
        meaning = f": HR sees {pluralize(numbers, 'it,them')} until sharing stops"
    else:
        meaning = ": nothing recorded from now on reaches HR"
    return format_html('<div class="small">{}{}</div>', which, meaning)


def acknowledged(entry: Entry) -> SafeString:
    return format_html(
        "<div>{}</div>",
        "The requester confirmed receiving your answer through the link in your reply",
    )


def corrected(entry: Entry) -> SafeString:
    changes = entry.payload.get("changes", {})
    parts = [
        format_html(
            '<ul class="small mb-0 correction-list">{}</ul>',
            join(
                format_html(
                    "<li>{}: <del>{}</del> → <ins>{}</ins></li>",
                    field_label(field),
                    *changed_values(field, change),
                )
                for field, change in changes.items()
            ),
        )
    ]
    if entry.payload.get("reason"):
        parts.append(format_html('<div class="small">Why: {}</div>', entry.payload["reason"]))
    return join(parts)


def changed_values(field: str, change: dict[str, Any]) -> tuple[Any, Any]:
    """A correction's old and new value as she reads them. A change of the person picked
    holds their ids (for the chain's replay) and their names (services.requester_user_change)."""
    if field == "requester_user":
        return change.get("old_name") or "—", change.get("new_name") or "—"
    return record_value(change.get("old", ""), field), record_value(change.get("new", ""), field)


def field_label(field: str) -> str:
    if field == "requester_user":
        return "Person picked in Boundary"
    try:
        label = getattr(PromotionRequest._meta.get_field(field), "verbose_name", field)
        return str(label).capitalize()
    except FieldDoesNotExist:
        return field.replace("_", " ").capitalize()


def record_value(value: Any, field: str) -> Any:
    """A stored value as a person reads it: local times, choice labels, "—" for empty."""
    if value in (None, ""):
        return "—"
    if isinstance(value, str) and value in REQUEST_CHOICES.get(field, {}):
        return REQUEST_CHOICES[field][value]
    if isinstance(value, str) and field in {"occurred_at", "deadline"}:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return moment_text(timezone.localtime(moment), "j M Y")
    return value


def evidence_added(entry: Entry) -> SafeString:
    return format_html(
        '<div>{} <code class="small sha">{}</code></div>',
        entry.payload.get("name", ""),
        short_sha(entry.payload.get("sha256", "")),
    )


def disclosure_proof_added(entry: Entry) -> SafeString:
    payload = entry.payload
    post = (
        format_html(': <span class="text-break">{}</span>', payload["post_url"])
        if payload.get("post_url")
        else ""
    )
    parts = [format_html("<div><bdi>{}</bdi>{}</div>", payload.get("account_label", ""), post)]
    if payload.get("sha256"):
        parts.append(
            format_html(
                '<div><code class="small sha">screenshot {}</code></div>',
                short_sha(payload["sha256"]),
            )
        )
    return join(parts)


def withdrawn(entry: Entry) -> SafeString:
    parts = []
    if entry.payload.get("note"):
        parts.append(format_html("<div>{}</div>", entry.payload["note"]))
    return join(parts)


def logged(entry: Entry) -> SafeString:
    """A request logged by the employee or filed by her manager: who asked, and how."""
    payload = entry.payload
    framing = str(record_value(payload.get("framing", ""), "framing")).lower()
    actor = entry.event.actor
    parts = [
        format_html(
            '<div class="small"><bdi>{}</bdi>, {}{}</div>',
            payload.get("requester_name", ""),
            framing,
            format_html(" · by {}", actor.display_name) if actor else "",
        )
    ]
    if payload.get("no_penalty_notice_shown"):
        parts.append(
            format_html(
                '<div class="small">{}</div>', "They were told that declining carries no penalty."
            )
        )
    return join(parts)


# What each kind of event shows under its heading; the kinds not named show only that.
DETAILS: dict[str, Callable[[Entry], SafeString]] = {
    Kind.FOLLOW_UP: follow_up,
    Kind.DECISION: decision,
    Kind.SEEN_BY_REQUESTER: seen_by_requester,
    Kind.VIEWED_BY_HR: viewed_by_hr,
    Kind.SHARED_WITH_HR: sharing,
    Kind.SHARING_WITHDRAWN: sharing,
    Kind.ACKNOWLEDGED: acknowledged,
    Kind.CORRECTED: corrected,
    Kind.EVIDENCE_ADDED: evidence_added,
    Kind.DISCLOSURE_PROOF_ADDED: disclosure_proof_added,
    Kind.WITHDRAWN: withdrawn,
    Kind.LOGGED: logged,
    Kind.FILED: logged,
}


def short_sha(sha256: str) -> str:
    return Truncator(sha256).chars(20)


def same_minute(first: datetime, second: datetime) -> bool:
    """Whether two local times read the same to the minute."""
    return first.timetuple()[:5] == second.timetuple()[:5]


def join(parts: Iterable[SafeString], separator: str = "") -> SafeString:
    """Pieces of HTML, each already escaped, as one."""
    return format_html_join(separator, "{}", ((part,) for part in parts))
