"""What stands out about a request, decided when it is read.

Every page, list and export asks this module, and nothing stores a flag: a decision
recorded (or backdated) after a follow-up or a later request was logged changes what
they say at once, everywhere. The rules read a request's *facts*, a plain dict:

    {"id", "employee", "title", "requester_key", "occurred_at", "deadline", "framing",
     "compensation_offered",
     "targets": [{"account", "platform", "handle", "boundary", "since"}, …],
     "decisions": [{"kind", "decided_at"}, …],
     "follow_ups": [{"follow_up", "kind", "occurred_at"}, …]}

with times as chain timestamps ("2026-11-23T10:30:00.000000Z"). Pages build facts from
the tables (selectors.request_facts); exports and the stand-alone verifier build them
from the chain's events (chain.replay), so an export's flags follow from its own
events and anyone can repeat them. For that, this module is pure Python: no Django,
nothing else of Boundary (the verifier copies it with verifier.py, the three *format.py files
and chain.py).

Times are compared to the minute, as the forms take them: a decline and a follow-up in
the same minute count as decline first.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

DEADLINE_SOON = timedelta(days=3)
PRESSURE_KINDS = frozenset({"asked_again", "pressure", "consequence", "retaliation"})
DECLINE = "decline"
# As boundary.models.SocialAccount.Platform says them (a test checks they agree).
PLATFORM_LABELS = {
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "x": "X",
    "linkedin": "LinkedIn",
    "facebook": "Facebook",
    "threads": "Threads",
    "bluesky": "Bluesky",
    "twitch": "Twitch",
    "snapchat": "Snapchat",
    "pinterest": "Pinterest",
    "other": "Other",
}
FORCED_FRAMINGS = {"required": "required", "consequences": "with stated consequences"}

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolated(value: object) -> str:
    """`value` wrapped in Unicode's directional isolates (FSI … PDI), so that a
    right-to-left name, or a right-to-left override typed into one, cannot reorder the
    dates and words around it: in flags, and in the PDF's and the CSV's summaries."""
    text = str(value)
    if not text:
        return text
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


def moment(chain_time: str) -> datetime:
    """A chain timestamp ("…Z") as an aware datetime."""
    return datetime.fromisoformat(chain_time.replace("Z", "+00:00"))


def to_minute(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


def as_declared(
    targets: Iterable[Mapping[str, Any]],
    declarations: Mapping[Any, Sequence[Mapping[str, Any]]],
    asked_at: str,
) -> list[dict[str, Any]]:
    """Each target with the boundary its account had declared when the request was made,
    and since when (`since`, the first declaration of that boundary in a row), from the
    account's dated declarations ({account: [{"at", "boundary"}, …]} in chain order).
    An account declared only later keeps the boundary recorded when the request was
    logged, with no `since`."""
    asked = to_minute(moment(asked_at))
    resolved = []
    for target in targets:
        in_force = [
            declared
            for declared in declarations.get(target.get("account"), [])
            if to_minute(moment(declared["at"])) <= asked
        ]
        if not in_force:
            resolved.append({**target, "since": None})
            continue
        boundary = in_force[-1]["boundary"]
        since = in_force[-1]["at"]
        for declared in reversed(in_force):
            if declared["boundary"] != boundary:
                break
            since = declared["at"]
        resolved.append({**target, "boundary": boundary, "since": since})
    return resolved


def account_label(target: Mapping[str, Any]) -> str:
    """ "Instagram @maya.makes", as the pages write an account."""
    platform = PLATFORM_LABELS.get(target.get("platform", ""), str(target.get("platform")))
    return f"{platform} @{target.get('handle')}"


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
    # The details as someone other than the employee reads them (HR), where they differ.
    details_about_her: tuple[str, ...] | None = None

    def text(self, shown: Container[int] | None = None, *, about_her: bool = False) -> str:
        """The flag in words, naming the earlier declined request when there is one.
        `shown`: the requests the reader may see (an export's scope); one outside it
        is mentioned but not named. Spoken to the employee ("you declined"), as her
        pages and her exports say it (an export's context holds these words, and a
        verifier folds them again: they stay as they are); `about_her` for HR's page."""
        details = list(self.details)
        who = "you"
        if about_her:
            details, who = list(self.details_about_her or self.details), "the employee"
        if self.earlier is not None:
            if shown is None or self.earlier.pk in shown:
                title = isolated(self.earlier.title)
                details.append(f"{who} declined “{title}” from the same person")
            else:
                details.append(
                    f"{who} declined an earlier request from the same person (not in this export)"
                )
        return f"{self.label}: {'; '.join(details)}" if details else self.label

    @property
    def text_about_her(self) -> str:
        """text() as HR reads it: about the employee, not to her."""
        return self.text(about_her=True)


@dataclass(frozen=True)
class RequestFlags:
    """The flags of one request, and which of its follow-ups came after a decline."""

    items: tuple[Flag, ...]
    pressure_after_decline: frozenset[int] = frozenset()  # follow-up ids

    def __iter__(self) -> Iterator[Flag]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def texts(self, shown: Container[int] | None = None) -> list[str]:
        return [flag.text(shown) for flag in self.items]

    @property
    def summary(self) -> str:
        """Every flag in words, in one line (a list's tooltip)."""
        return "; ".join(self.texts())

    @property
    def earlier_decline(self) -> DeclinedRequest | None:
        return next((flag.earlier for flag in self.items if flag.earlier), None)

    def marks_event(self, kind: str, payload: Mapping[str, Any]) -> bool:
        """Whether this timeline event is a follow-up that pressed again after a decline
        (the badge on the timeline, the mark in the PDF and the CSV)."""
        return kind == "follow_up" and payload.get("follow_up") in self.pressure_after_decline


@dataclass
class Declines:
    """Declines by who asked (employee, requester_key); for several employees at once."""

    # Each list holds (minute declined, request id, title, declined at), in that order.
    by_requester: dict[tuple[Any, str], list[tuple[datetime, int, str, datetime]]] = field(
        default_factory=dict
    )

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, str, int, str, datetime]]) -> Declines:
        """Rows of (employee, requester key, request id, request title, declined at)."""
        declines = cls()
        for employee, key, pk, title, declined_at in rows:
            declines.by_requester.setdefault((employee, key), []).append(
                (to_minute(declined_at), pk, title, declined_at)
            )
        for entries in declines.by_requester.values():
            entries.sort(key=itemgetter(0, 1))
        return declines

    @classmethod
    def from_facts(cls, requests: Iterable[Mapping[str, Any]]) -> Declines:
        """The declines among these requests' facts (an export's, say)."""
        return cls.from_rows(
            (item["employee"], item["requester_key"], item["id"], item["title"], decided)
            for item in requests
            for decided in declined_at(item)
        )

    def repeated_by(self, facts: Mapping[str, Any]) -> DeclinedRequest | None:
        """The latest decline of another request from the same person at or before the
        moment this one was asked, if any."""
        asked = to_minute(moment(facts["occurred_at"]))
        entries = self.by_requester.get((facts["employee"], facts["requester_key"]), [])
        # A heavy record holds hundreds of declines per person: find the last one at or
        # before `asked` by bisection, then step back past this request's own.
        for index in range(bisect_right(entries, asked, key=itemgetter(0)) - 1, -1, -1):
            _, pk, title, declined_at = entries[index]
            if pk != facts["id"]:
                return DeclinedRequest(pk, title, declined_at)
        return None


def declined_at(facts: Mapping[str, Any]) -> list[datetime]:
    return [
        moment(decision["decided_at"])
        for decision in facts["decisions"]
        if decision["kind"] == DECLINE and decision.get("decided_at")
    ]


def pressure_after_decline(facts: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Follow-ups that pressed again (asked again, pressure, consequences, retaliation)
    at or after the request's first decline."""
    declines = declined_at(facts)
    if not declines:
        return []
    first = to_minute(min(declines))
    return [
        follow_up
        for follow_up in facts["follow_ups"]
        if follow_up["kind"] in PRESSURE_KINDS
        and to_minute(moment(follow_up["occurred_at"])) >= first
    ]


def dated_before_a_decline(
    facts: Mapping[str, Any],
    *,
    decided_at: datetime,
    later_asks: Iterable[Mapping[str, Any]],
) -> list[tuple[datetime, str]]:
    """What a decline dated `decided_at` would not count as coming after it, though it
    came after the ask: this request's pressure and later asks by the same person, dated
    in between. Each as (when, what), in order. (Forms warn before such a date is saved.)
    `later_asks` are facts of other requests ({"id", "title", "occurred_at"} suffice)."""
    asked, declined = to_minute(moment(facts["occurred_at"])), to_minute(decided_at)
    earlier = [
        (moment(follow_up["occurred_at"]), f"“{isolated(follow_up['what_was_said'][:60])}”")
        for follow_up in facts["follow_ups"]
        if follow_up["kind"] in PRESSURE_KINDS
        and asked <= to_minute(moment(follow_up["occurred_at"])) < declined
    ]
    earlier += [
        (moment(ask["occurred_at"]), f"the request “{isolated(ask['title'])}”")
        for ask in later_asks
        if ask["id"] != facts["id"] and asked <= to_minute(moment(ask["occurred_at"])) < declined
    ]
    return sorted(earlier, key=lambda item: item[0])


def request_flags(facts: Mapping[str, Any], *, declines: Declines) -> RequestFlags:
    """What a reader of the record should notice at once, most serious first within
    each kind of concern."""
    flags: list[Flag] = []
    for boundary, code, text, level in (
        ("closed", "closed_account", "Targets an account closed to employer content", "danger"),
        ("ask_first", "ask_first_account", "Targets an account marked “ask me first”", "warning"),
    ):
        accounts = [
            isolated(account_label(target))
            + (f" (so since {moment(target['since']):%d %b %Y})" if target.get("since") else "")
            for target in facts["targets"]
            if target.get("boundary") == boundary
        ]
        if accounts:
            flags.append(Flag(code, text, level, (", ".join(accounts),)))
    framing = facts.get("framing")
    if framing in FORCED_FRAMINGS:
        label = f"Framed as {FORCED_FRAMINGS[framing]}: consent may not be freely given"
        flags.append(Flag("framing", label, "danger"))
    elif framing == "expected":
        flags.append(Flag("framing", "Framed as expected, not as a free choice", "warning"))
    compensation = facts.get("compensation_offered")
    if isinstance(compensation, str) and not compensation.strip():
        flags.append(Flag("no_compensation", "No compensation offered", "warning"))
    deadline = facts.get("deadline")
    if deadline and moment(deadline) - moment(facts["occurred_at"]) < DEADLINE_SOON:
        flags.append(Flag("short_deadline", "Deadline in under three days", "warning"))
    pressed = frozenset(follow_up["follow_up"] for follow_up in pressure_after_decline(facts))
    asked_again = _asked_again(declines.repeated_by(facts), len(pressed))
    if asked_again is not None:
        flags.append(asked_again)
    return RequestFlags(tuple(flags), pressed)


def _asked_again(earlier: DeclinedRequest | None, pressed: int) -> Flag | None:
    if earlier is None and not pressed:
        return None
    details: tuple[str, ...] = ()
    about_her: tuple[str, ...] = ()
    if pressed:
        follow_ups = f"{pressed} follow-up{'s' if pressed != 1 else ''}"
        details = (f"{follow_ups} after your decline of this request",)
        about_her = (f"{follow_ups} after the employee's decline of this request",)
    return Flag(
        "asked_after_decline", "Asked again after a decline", "danger", details, earlier, about_her
    )


def disclosure_pending_accounts(facts: Mapping[str, Any]) -> list[Any]:
    """The accounts of an accepted request (not withdrawn since) that have no disclosure
    proof yet: those the latest decision (in chain order) accepted for, less those
    with a proof recorded (facts' `disclosure_proofs`, [{"account", …}, …]). Withheld
    accounts prove nothing either way: none is reported pending."""
    decisions = facts.get("decisions") or []
    if facts.get("status") != "accepted" or not decisions or decisions[-1].get("kind") != "accept":
        return []
    accounts = decisions[-1].get("accounts")
    if not isinstance(accounts, list):
        return []
    proven = {proof.get("account") for proof in facts.get("disclosure_proofs") or []}
    return [account for account in accounts if account not in proven]
