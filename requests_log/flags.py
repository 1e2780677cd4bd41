"""What stands out about a request, decided when it is read.

Every page, list and export asks this module, and nothing stores a flag: a decision
recorded (or backdated) after a follow-up or a later request was logged changes what
they say at once, everywhere. The functions are pure: they read a request's targets
(with accounts), decisions and follow-ups, which the selectors prefetch, and the
employee's declines (`Declines`, one query for a whole list: selectors.declines_for).

Times are compared to the minute, as the forms take them: a decline and a follow-up in
the same minute count as decline first.
"""

from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from boundary.models import SocialAccount

from .models import Decision, FollowUp, PromotionRequest
from .text import isolated

DEADLINE_SOON = timedelta(days=3)
PRESSURE_KINDS = frozenset(
    {
        FollowUp.Kind.ASKED_AGAIN,
        FollowUp.Kind.PRESSURE,
        FollowUp.Kind.CONSEQUENCE,
        FollowUp.Kind.RETALIATION,
    }
)


@dataclass(frozen=True)
class DeclinedRequest:
    """An earlier request the employee declined, which a later ask repeats."""

    pk: int
    title: str
    declined_at: datetime


@dataclass(frozen=True)
class Flag:
    code: str
    label: str  # the headline: "Targets an account closed to employer content"
    level: str  # "danger" or "warning": how the page colours it
    details: tuple[str, ...] = ()  # what it is about: the accounts, the follow-ups
    earlier: DeclinedRequest | None = None  # the "no" an ask repeats, to name and link

    def text(self, shown: Container[int] | None = None) -> str:
        """The flag in words, naming the earlier declined request when there is one.
        `shown`: the requests the reader may see (an export's scope); one outside it
        is mentioned but not named."""
        details = list(self.details)
        if self.earlier is not None:
            if shown is None or self.earlier.pk in shown:
                title = isolated(self.earlier.title)
                details.append(f"you declined “{title}” from the same person")
            else:
                details.append(
                    "you declined an earlier request from the same person (not in this export)"
                )
        return f"{self.label}: {'; '.join(details)}" if details else self.label


@dataclass(frozen=True)
class RequestFlags:
    """The flags of one request, and which of its follow-ups came after a decline."""

    items: tuple[Flag, ...]
    pressure_after_decline: frozenset[int] = frozenset()  # follow-up ids

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def texts(self, shown: Container[int] | None = None) -> list[str]:
        return [flag.text(shown) for flag in self.items]

    @property
    def earlier_decline(self) -> DeclinedRequest | None:
        return next((flag.earlier for flag in self.items if flag.earlier), None)

    def marks_event(self, kind: str, payload: dict) -> bool:
        """Whether this timeline event is a follow-up that pressed again after a decline
        (the badge on the timeline, the mark in the PDF and the CSV)."""
        return kind == "follow_up" and payload.get("follow_up") in self.pressure_after_decline


@dataclass
class Declines:
    """An employee's declines, by who asked (requester_key); for several employees at once."""

    by_requester: dict[tuple[int, str], list[tuple[datetime, DeclinedRequest]]] = field(
        default_factory=dict
    )

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, int, str, datetime]]) -> "Declines":
        """Rows of (employee id, requester key, request id, request title, declined at)."""
        declines = cls()
        for employee_id, key, pk, title, declined_at in rows:
            declines.by_requester.setdefault((employee_id, key), []).append(
                (to_minute(declined_at), DeclinedRequest(pk, title, declined_at))
            )
        for entries in declines.by_requester.values():
            entries.sort(key=lambda entry: (entry[0], entry[1].pk))
        return declines

    def repeated_by(self, promotion_request: PromotionRequest) -> DeclinedRequest | None:
        """The latest decline of another request from the same person at or before the
        moment this one was asked, if any."""
        asked = to_minute(promotion_request.occurred_at)
        earlier = None
        entries = self.by_requester.get(
            (promotion_request.employee_id, promotion_request.requester_key), []
        )
        for declined_minute, declined in entries:
            if declined_minute > asked:
                break
            if declined.pk != promotion_request.pk:
                earlier = declined
        return earlier


def to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def first_decline(promotion_request: PromotionRequest) -> datetime | None:
    declines = [
        decision.decided_at
        for decision in promotion_request.decisions.all()
        if decision.kind == Decision.Kind.DECLINE
    ]
    return to_minute(min(declines)) if declines else None


def pressure_after_decline(promotion_request: PromotionRequest) -> list[FollowUp]:
    """Follow-ups that pressed again (asked again, pressure, consequences, retaliation)
    at or after the request's first decline."""
    declined = first_decline(promotion_request)
    if declined is None:
        return []
    return [
        follow_up
        for follow_up in promotion_request.follow_ups.all()
        if follow_up.kind in PRESSURE_KINDS and to_minute(follow_up.occurred_at) >= declined
    ]


def dated_before_a_decline(
    promotion_request: PromotionRequest,
    *,
    decided_at: datetime,
    later_asks: Iterable[PromotionRequest],
) -> list[tuple[datetime, str]]:
    """What a decline dated `decided_at` would not count as coming after it, though it
    came after the ask: this request's pressure and later asks by the same person, dated
    in between. Each as (when, what), in order. (Forms warn before such a date is saved.)"""
    asked, declined = to_minute(promotion_request.occurred_at), to_minute(decided_at)
    earlier = [
        (follow_up.occurred_at, f"“{isolated(follow_up.what_was_said[:60])}”")
        for follow_up in promotion_request.follow_ups.all()
        if follow_up.kind in PRESSURE_KINDS and asked <= to_minute(follow_up.occurred_at) < declined
    ]
    earlier += [
        (ask.occurred_at, f"the request “{isolated(ask.promoted_item)}”")
        for ask in later_asks
        if asked <= to_minute(ask.occurred_at) < declined and ask.pk != promotion_request.pk
    ]
    return sorted(earlier, key=lambda item: item[0])


def request_flags(promotion_request: PromotionRequest, *, declines: Declines) -> RequestFlags:
    """What a reader of the record should notice at once, most serious first within
    each kind of concern."""
    flags: list[Flag] = []
    targets = list(promotion_request.targets.all())
    for boundary, code, text, level in (
        (
            SocialAccount.Boundary.CLOSED,
            "closed_account",
            "Targets an account closed to employer content",
            "danger",
        ),
        (
            SocialAccount.Boundary.ASK_FIRST,
            "ask_first_account",
            "Targets an account marked “ask me first”",
            "warning",
        ),
    ):
        accounts = [str(t.account) for t in targets if t.boundary_at_request == boundary]
        if accounts:
            flags.append(Flag(code, text, level, (", ".join(map(isolated, accounts)),)))
    framing = PromotionRequest.Framing
    if promotion_request.framing in {framing.REQUIRED, framing.CONSEQUENCES}:
        label = promotion_request.get_framing_display().lower()
        flags.append(
            Flag("framing", f"Framed as {label}: consent may not be freely given", "danger")
        )
    elif promotion_request.framing == framing.EXPECTED:
        flags.append(Flag("framing", "Framed as expected, not as a free choice", "warning"))
    if not promotion_request.compensation_offered.strip():
        flags.append(Flag("no_compensation", "No compensation offered", "warning"))
    if (
        promotion_request.deadline is not None
        and promotion_request.deadline - promotion_request.occurred_at < DEADLINE_SOON
    ):
        flags.append(Flag("short_deadline", "Deadline in under three days", "warning"))
    pressed = frozenset(follow_up.pk for follow_up in pressure_after_decline(promotion_request))
    asked_again = _asked_again(declines.repeated_by(promotion_request), len(pressed))
    if asked_again is not None:
        flags.append(asked_again)
    return RequestFlags(tuple(flags), pressed)


def _asked_again(earlier: DeclinedRequest | None, pressed: int) -> Flag | None:
    if earlier is None and not pressed:
        return None
    details: tuple[str, ...] = ()
    if pressed:
        plural = "s" if pressed != 1 else ""
        details = (f"{pressed} follow-up{plural} after your decline of this request",)
    return Flag("asked_after_decline", "Asked again after a decline", "danger", details, earlier)
