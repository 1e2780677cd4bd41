"""What an export shows of an employee's record, read once, in chain order.

Every export carries the whole chain, from event #1 to the head when it started: events
of the requests in scope are shown (withheld fields as their digests only), everything
else appears as withheld runs, so the chain still verifies and the reader sees that
something was left out. Events that belong to no request (earlier exports) are always
shown: they let a later export vouch for an earlier one.
"""

import hashlib
import json
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import CharField, Func, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from boundary.models import User

from .. import access, chain
from ..flags import RequestFlags, isolated
from ..models import (
    Checkpoint,
    Decision,
    FollowUp,
    PromotionRequest,
    TimelineEvent,
    Timestamp,
    what_is_asked,
)
from . import fileformat, receiptformat
from .readahead import read_ahead
from .signing import signing_key

CHUNK = 2000
FLUSH_AT = 256 * 1024  # bytes a file writer hands on at a time


class UtcIso(Func):
    """chain.utc_iso of a datetime column, computed by the database: "…T…Z" in UTC with
    microseconds (tests check both spellings against chain.utc_iso)."""

    output_field = CharField()
    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

    # `make run`'s SQLite keeps datetimes as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    sqlite_template = (
        "(replace(%(expressions)s, ' ', 'T') || "
        "CASE WHEN length(%(expressions)s) = 19 THEN '.000000' ELSE '' END || 'Z')"
    )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template=self.sqlite_template, **extra_context)


# Payload fields the employee may withhold, with how the export form names them.
WITHHOLDABLE_FIELDS = {
    "witnesses": "Witnesses' names",
    "words_used": "The words used",
    "who": "Who spoke, in follow-ups",
    "what_was_said": "What was said, in follow-ups",
    "setting": "The setting (meeting, channel name)",
    "compensation_offered": "Compensation offered",
    "notes": "My private notes",
    "details": "Details of my decisions",
    "reply": "The text of my replies",
    "name": "Evidence file names",
    "photo_originals": "Original photos that carry metadata (a ZIP holds a stripped copy)",
}
# Withheld, a photo whose metadata (GPS position, camera…) would leave with it goes into
# a ZIP only as its stripped copy; the manifest still names the original's SHA-256.
PHOTO_ORIGINALS = "photo_originals"
WITHHELD = "[withheld]"
EMPTY = chain.EMPTY_VALUES


@dataclass(frozen=True)
class Scope:
    """Which requests an export shows and which fields it withholds.

    mode "all": every request (in the period, if one is given); "chosen": only
    `requests`; "except": every request in the period except `requests`.
    """

    mode: str = "all"
    requests: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    withhold: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Scope":
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            mode=data.get("mode", "all"),
            requests=tuple(data.get("requests", ())),
            date_from=day(data.get("date_from")),
            date_to=day(data.get("date_to")),
            withhold=tuple(data.get("withhold", ())),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "requests": sorted(self.requests),
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "withhold": sorted(self.withhold),
        }

    def describe(self) -> str:
        count = len(self.requests)
        plural = "s" if count != 1 else ""
        if self.mode == "chosen":
            # As the employee knows them: her own numbers (#1, #2…), not table ids.
            numbers = PromotionRequest.objects.filter(pk__in=self.requests).order_by("number")
            ids = ", ".join(f"#{n}" for n in numbers.values_list("number", flat=True)[:10])
            text = f"{count} chosen request{plural} ({ids}{'…' if count > 10 else ''})"
        elif self.mode == "except":
            text = f"every request except {count} left out"
        else:
            text = "every request"
        if self.mode != "chosen" and (self.date_from or self.date_to):
            start = self.date_from.isoformat() if self.date_from else "the start"
            end = self.date_to.isoformat() if self.date_to else "today"
            text += f", from {start} to {end}"
        if self.withhold:
            text += "; withheld: " + ", ".join(
                WITHHOLDABLE_FIELDS.get(name, name).lower() for name in sorted(self.withhold)
            )
        return text

    def requests_of(self, viewer: User, zone: ZoneInfo) -> QuerySet[PromotionRequest]:
        """The requests in this scope, from the viewer's own record (exports are the
        employee's, of her record)."""
        queryset = access.own_promotion_requests(viewer)
        if self.mode == "chosen":
            return queryset.filter(pk__in=self.requests)
        if self.date_from:
            start = datetime.combine(self.date_from, time.min, tzinfo=zone)
            queryset = queryset.filter(occurred_at__gte=start)
        if self.date_to:
            queryset = queryset.filter(
                occurred_at__lte=datetime.combine(self.date_to, time.max, tzinfo=zone)
            )
        if self.mode == "except":
            queryset = queryset.exclude(pk__in=self.requests)
        return queryset


@dataclass
class Counts:
    shown: int = 0
    withheld: int = 0
    fields_withheld: int = 0


@dataclass
class Record:
    """One snapshot of an employee's chain for one export.

    The head is fixed when the record is made; events appended later (the export's own
    "exported" event among them) belong to the next export.
    """

    employee: User
    scope: Scope
    generated_at: datetime = field(default_factory=timezone.now)
    head_seq: int = 0
    head_hash: str = chain.GENESIS_HASH
    counts: Counts = field(default_factory=Counts)

    def __post_init__(self) -> None:
        head = (
            TimelineEvent.objects.filter(employee=self.employee)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        if head:
            self.head_seq, self.head_hash = head
        zone = self.employee.time_zone
        self.zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone or "UTC"))
        self.withhold = frozenset(self.scope.withhold)
        # A closed account's erased values are withheld, as digests, whatever the scope.
        self.erased = self.employee.closed_at is not None
        self._context: dict[str, Any] | None = None
        self._flags: dict[int, RequestFlags] | None = None
        self._story: chain.Replay | None = None
        self._offsets: dict[str, tuple[str | None, timedelta, str]] = {}
        self._anchor_seqs: set[int] = set()  # positions of timestamped checkpoints shown
        self._anchors: tuple[list[int], list[Checkpoint]] | None = None

    # --- Which requests and events -----------------------------------------------------------

    def requests(self) -> QuerySet[PromotionRequest]:
        return self.scope.requests_of(self.employee, self.zone)

    def shown_events(self) -> QuerySet[TimelineEvent]:
        """The events the export shows, in chain order: those of the requests in scope and
        those that belong to no request."""
        events = TimelineEvent.objects.filter(employee=self.employee, seq__lte=self.head_seq)
        in_scope = self.requests().values("pk")
        if self.scope.mode != "chosen":
            # Most of the chain: walk it in order by (employee, seq), no sort.
            return events.filter(
                Q(promotion_request__isnull=True) | Q(promotion_request__in=in_scope)
            ).order_by("seq")
        # A few requests: their events by (request, seq) and the employee-level ones by a
        # partial index, rather than walking the whole chain.
        of_requests = events.filter(promotion_request__in=in_scope).order_by().values("pk")
        employee_level = events.filter(promotion_request__isnull=True).order_by().values("pk")
        return TimelineEvent.objects.filter(
            pk__in=of_requests.union(employee_level, all=True)
        ).order_by("seq")

    def shown_event_count(self) -> int:
        return self.shown_events().count()

    def chain_rows(self) -> Iterator[tuple]:
        """The chain from #1 to the head as plain tuples, for writers that need no dicts:
        (first, last, hash) for a withheld run; for a shown event (seq, request_id, kind,
        actor_id, occurred_at, recorded_at, payload, field_salts, prev_hash, hash), the
        times as the chain hashes them (chain.utc_iso), the payload as the database
        spells it in JSON and the field salts as stored (canonical JSON). Counts what it
        yields in self.counts. The rows are read ahead (readahead.read_ahead): run no
        query until they are all read or the iteration is closed."""
        counts = self.counts = Counts()
        candidates = self._timestamped_checkpoint_seqs()
        visible = self._anchor_seqs = set()
        next_seq = 1
        for row in self._event_rows():
            seq = row[0]
            if seq > next_seq:
                counts.withheld += seq - next_seq
                if seq - 1 in candidates:
                    visible.add(seq - 1)
                yield (next_seq, seq - 1, row[8])
            counts.shown += 1
            if seq in candidates:
                visible.add(seq)
            next_seq = seq + 1
            yield row
        if next_seq <= self.head_seq:
            counts.withheld += self.head_seq - next_seq + 1
            if self.head_seq in candidates:
                visible.add(self.head_seq)
            yield (next_seq, self.head_seq, self.head_hash)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry of the chain from #1 to the head, as the JSON file holds them."""
        employee_id = self.employee.pk
        event_header = chain.event_header
        fields_of = self.fields
        loads = json.loads
        for row in self.chain_rows():
            if len(row) == 3:
                yield {"withheld": {"from": row[0], "to": row[1]}, "hash": row[2]}
                continue
            seq, request_id, kind, actor_id, occurred, recorded, payload, salts, prev, hsh = row
            header = event_header(
                employee_id=employee_id,
                seq=seq,
                request_id=request_id,
                kind=kind,
                actor_id=actor_id,
                occurred_at=occurred,
                recorded_at=recorded,
                prev_hash=prev,
            )
            fields = fields_of(loads(payload), loads(salts))
            yield {"event": header, "fields": fields, "hash": hsh}

    def _event_rows(self) -> Iterator[tuple]:
        # Times and payloads come as text: formatting and decoding a hundred thousand
        # of each in Python costs more than the rest of the fetch.
        rows = self.shown_events().values_list(
            "seq",
            "promotion_request_id",
            "kind",
            "actor_id",
            UtcIso("occurred_at"),
            UtcIso("recorded_at"),
            Cast("payload", TextField()),
            "field_salts",
            "prev_hash",
            "hash",
        )
        return read_ahead(*rows.query.sql_with_params(), chunk_size=CHUNK)

    # --- Checkpoints with independent timestamps ------------------------------------------------

    def _timestamped_checkpoint_seqs(self) -> frozenset[int]:
        """The chain positions up to the head that a timestamped checkpoint states."""
        return frozenset(
            Checkpoint.objects.filter(
                employee=self.employee, seq__lte=self.head_seq, timestamps__isnull=False
            )
            .order_by()
            .values_list("seq", flat=True)
            .distinct()
        )

    def anchor_checkpoints(self) -> list[Checkpoint]:
        """The latest timestamped checkpoints whose position the export shows (a shown
        event, or the end of a withheld run), at most receiptformat.ANCHORS_MAX, oldest
        first, with their timestamps: each proves that the chain up to its position
        existed by the time an independent authority gave. Call after the entries were
        read; the PDF and the manifest share one query."""
        seqs = sorted(self._anchor_seqs)[-receiptformat.ANCHORS_MAX :]
        if self._anchors is None or self._anchors[0] != seqs:
            checkpoints = (
                Checkpoint.objects.filter(employee=self.employee, seq__in=seqs)
                .filter(timestamps__isnull=False)
                .distinct()
                .prefetch_related(Prefetch("timestamps", queryset=Timestamp.objects.order_by("id")))
                .order_by("seq", "issued_at")
            )
            latest = {checkpoint.seq: checkpoint for checkpoint in checkpoints}  # last per seq
            self._anchors = (seqs, list(latest.values()))
        return self._anchors[1]

    def anchors(self) -> list[str]:
        """The anchor checkpoints as receipts (receiptformat.receipt_text), for the manifest."""
        return [
            receiptformat.receipt_text(
                checkpoint.note, [bytes(stamp.response) for stamp in checkpoint.timestamps.all()]
            )
            for checkpoint in self.anchor_checkpoints()
        ]

    def hides_any(self, payload: dict[str, Any]) -> bool:
        """Whether the scope withholds any field of this event's payload."""
        if not self.withhold and not self.erased:
            return False
        hidden = self.is_hidden
        return any(hidden(name, value) for name, value in payload.items())

    def is_hidden(self, name: str, value: Any) -> bool:
        """Whether the scope withholds this field of an event."""
        withhold = self.withhold
        # An empty field hides nothing: show it, so "withheld" marks real redactions.
        return value not in EMPTY and (
            chain.erased_digest(value) is not None
            or name in withhold
            or (
                # A correction names the fields it changed: withhold it with them.
                name == "changes" and isinstance(value, dict) and not withhold.isdisjoint(value)
            )
        )

    def split_fields(
        self, payload: dict[str, Any], salts: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        """An event's shown values, their salts and the withheld fields' digests (the
        CSV's three JSON cells), in the payload's order."""
        values, shown_salts, digests = {}, {}, {}
        hidden = self.is_hidden
        for name, value in payload.items():
            if hidden(name, value):
                self.counts.fields_withheld += 1
                digests[name] = chain.erased_digest(value) or chain.field_digest(salts[name], value)
            else:
                values[name] = value
                shown_salts[name] = salts[name]
        return values, shown_salts, digests

    def fields(self, payload: dict[str, Any], salts: dict[str, str]) -> dict[str, Any]:
        """An event's fields as the JSON file holds them: each shown one as its value
        and salt, each withheld one as its digest."""
        if not self.hides_any(payload):
            return {name: {"value": value, "salt": salts[name]} for name, value in payload.items()}
        values, shown_salts, digests = self.split_fields(payload, salts)
        fields: dict[str, Any] = {name: {"digest": digest} for name, digest in digests.items()}
        for name, value in values.items():
            fields[name] = {"value": value, "salt": shown_salts[name]}
        return fields

    # --- What the reader sees besides the chain ----------------------------------------------

    def story(self) -> chain.Replay:
        """What the shown events say (chain.Replay), read once: the requests as last
        corrected, their status, decisions, follow-ups, evidence and replies, the accounts
        as declared, and the people named as they were. Everything an export shows beside
        the events comes from here, never from the tables, which whoever runs the
        database could change."""
        if self._story is None:
            replay = chain.Replay()
            employee_id, loads, hides_any = self.employee.pk, json.loads, self.hides_any
            # Only what the fold reads (no salts, no hashes): the writers walk the whole
            # chain again after this, so this pass must cost as little as it can.
            rows = self.shown_events().values_list(
                "seq",
                "promotion_request_id",
                "kind",
                "actor_id",
                UtcIso("occurred_at"),
                Cast("payload", TextField()),
            )
            for seq, request_id, kind, actor_id, occurred_at, payload_text in read_ahead(
                *rows.query.sql_with_params(), chunk_size=CHUNK
            ):
                payload = loads(payload_text)
                if hides_any(payload):
                    payload = {
                        name: chain.WITHHELD if self.is_hidden(name, value) else value
                        for name, value in payload.items()
                    }
                header = {
                    "employee": employee_id,
                    "seq": seq,
                    "request": request_id,
                    "kind": kind,
                    "actor": actor_id,
                    "occurred_at": occurred_at,
                }
                replay.add(header, payload)
            self._story = replay
        return self._story

    def keep_story(self, replay: chain.Replay) -> None:
        """What the shown events say, folded by a writer that read them anyway."""
        self._story, self._context, self._flags = replay, None, None

    def context(self) -> dict[str, Any]:
        """record.json's context: folded from the shown events (chain.Replay.context), so
        a verifier can fold them again and compare."""
        if self._context is None:
            self._context = self.story().context()
        return self._context

    def names(self) -> dict[str, Any]:
        """What the CSV prints beside each event: each shown request's title by id, each
        kind's label, each actor's name by id (as text), and each request's flags."""
        story = self.story()
        return {
            "requests": {pk: item["title"] for pk, item in story.requests.items()},
            "kinds": kind_labels(),
            "people": {str(pk): name for pk, name in story.people.items()},
            "flags": self.flags(),
        }

    def flags(self) -> dict[int, RequestFlags]:
        """Each shown request's flags by id, from the shown events (flags.py)."""
        if self._flags is None:
            self._flags = self.story().flags()
        return self._flags

    def manifest(self, *, file_kind: str, **extra: Any) -> dict[str, Any]:
        """What the seal signs. Call after the entries were read (it holds their counts)."""
        employee = self.employee
        counts = self.counts
        return {
            "format": fileformat.FORMAT,
            "version": fileformat.VERSION,
            "file": file_kind,
            "instance": settings.SITE_URL,
            "key": signing_key().fingerprint,
            "employee": {"id": employee.pk, "name": employee.display_name},
            "generated_at": chain.utc_iso(self.generated_at),
            "time_zone": str(self.zone),
            "scope": self.scope.to_json(),
            "scope_text": self.scope.describe(),
            "chain": {
                "version": chain.CHAIN_VERSION,
                "head_seq": self.head_seq,
                "head_hash": self.head_hash,
                "events": self.head_seq,
                "shown": counts.shown,
                "withheld": counts.withheld,
                "fields_withheld": counts.fields_withheld,
            },
            "checkpoints": self.anchors(),
            **extra,
        }

    # --- Display helpers shared by the CSV and the PDF ---------------------------------------

    def local(self, moment: datetime) -> str:
        return timezone.localtime(moment, self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def local_text(self, utc_text: str) -> str:
        """local() of a chain timestamp ("…Z"), with the zone's offset looked up once per
        UTC hour: a long CSV converts a hundred thousand of them. When the offset is whole
        hours, the local date and hour are cached too and only the minutes copied."""
        hour = utc_text[:13]
        cached = self._offsets.get(hour)
        if cached is None:
            moment = datetime.fromisoformat(utc_text).astimezone(self.zone)
            offset = moment.utcoffset() or timedelta(0)
            local_hour = None
            if not offset % timedelta(hours=1):
                start = datetime.fromisoformat(hour + ":00") + offset
                local_hour = start.isoformat(" ", "minutes")[:13]
            cached = self._offsets[hour] = (local_hour, offset, " " + moment.strftime("%Z"))
        local_hour, offset, zone = cached
        if local_hour is not None:
            return f"{local_hour}:{utc_text[14:16]}{zone}"
        moment = datetime.fromisoformat(utc_text[:16]) + offset
        return moment.isoformat(" ", "minutes") + zone


def sealed_chunks(
    record: Record,
    file_kind: str,
    lines: Iterable[bytes],
    seal_line: Callable[[dict[str, Any]], bytes],
    sealed: list[dict[str, Any]] | None = None,
    digest: Any = None,
) -> Iterator[bytes]:
    """A sealed file (record.csv, record.json) in pieces of about 256 KB: its `lines`,
    then the line `seal_line` makes of the seal over them. The seal is also appended to
    `sealed`; `digest` (a hashlib SHA-256), if given, ends up covering the whole file."""
    digest = hashlib.sha256() if digest is None else digest
    pending: list[bytes] = []
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line)
        if size >= FLUSH_AT:
            block = b"".join(pending)
            digest.update(block)
            yield block
            pending, size = [], 0
    block = b"".join(pending)
    digest.update(block)
    yield block
    seal = signing_key().seal(record.manifest(file_kind=file_kind, body_sha256=digest.hexdigest()))
    if sealed is not None:
        sealed.append(seal)
    block = seal_line(seal)
    digest.update(block)
    yield block


def kind_labels() -> dict[str, str]:
    return {kind.value: kind.label for kind in TimelineEvent.Kind}


def values_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The shown field values of an event entry."""
    return {name: item["value"] for name, item in entry["fields"].items() if "value" in item}


# Inside the summary's parentheses: "Asked (free to say no)" would nest them.
FRAMING_LABELS: dict[Any, str] = {
    value: label.lower().replace(" (", ", ").rstrip(")")
    for value, label in PromotionRequest.Framing.choices
}
FOLLOW_UP_LABELS: dict[Any, str] = dict(FollowUp.Kind.choices)
DECISION_LABELS: dict[Any, str] = dict(Decision.Kind.choices)
DECLINE_REASONS: dict[Any, str] = dict(Decision.DeclineReason.choices)
KIND_LABELS: dict[Any, str] = dict(TimelineEvent.Kind.choices)
K = TimelineEvent.Kind


def summarise(
    kind: str,
    values: dict[str, Any],
    flags: RequestFlags | None = None,
    shown: Container[int] | None = None,
) -> str:
    """One line a person reads for an event; withheld fields say so. `flags`, those of
    the event's request, add what stands out about the event (asked again after a no);
    `shown`, the requests the export shows, which a flag may name."""

    def get(name: str) -> str:
        value = values.get(name, WITHHELD)
        return "" if value is None else str(value)

    def typed(name: str) -> str:
        """A field someone typed, set apart (text.isolated) from the words around it."""
        return isolated(get(name))

    if kind == K.FOLLOW_UP:
        label = FOLLOW_UP_LABELS.get(values.get("kind"), get("kind"))
        after = " (after a decline)" if flags and flags.marks_event(kind, values) else ""
        said = typed("what_was_said")
        # Their words in quotes; the employee's own account as she wrote it.
        return f"{label}{after}: {typed('who')}: " + (
            said if values.get("quoted") is False else f"“{said}”"
        )
    if kind == K.FILED:
        what = what_is_asked(get("content_format"), values.get("quantity"), typed("promoted_item"))
        summary = f"{typed('requester_name')} filed a request in Boundary for {what}"
        compensation = values.get("compensation_offered")
        summary += f"; offered: {typed('compensation_offered')}" if compensation else "; no pay"
        if values.get("disclosure_terms"):
            summary += f"; disclosure required: {typed('disclosure_terms')}"
        summary += "."
        if values.get("no_penalty_notice_shown") is True:
            summary += " The requester was told that declining carries no penalty."
        if values.get("closed_accounts_warned"):
            summary += " The requester was warned that an account chosen is closed."
        for flag in flags or ():
            if flag.earlier is not None:
                summary += f" {flag.text(shown)}."
        return summary
    if kind == K.LOGGED:
        framing = FRAMING_LABELS.get(values.get("framing"), get("framing"))
        what = what_is_asked(get("content_format"), values.get("quantity"), typed("promoted_item"))
        summary = (
            f"{typed('requester_name')} asked for {what} ({framing}). "
            f"Words used: {typed('words_used')}"
        )
        for flag in flags or ():
            if flag.earlier is not None:
                summary += f" {flag.text(shown)}."
        return summary
    if kind == K.CORRECTED:
        changes = values.get("changes")
        fields = ", ".join(sorted(changes)) if isinstance(changes, dict) else WITHHELD
        reason = isolated(values.get("reason") or "")
        return f"Corrected {fields}" + (f". Why: {reason}" if reason else "")
    if kind == K.DECISION:
        label = DECISION_LABELS.get(values.get("kind"), get("kind"))
        # Events before several reasons could be given hold one, as decline_reason.
        reasons = values.get("decline_reasons") or (
            [values["decline_reason"]] if values.get("decline_reason") else []
        )
        if reasons:
            label += ": " + "; ".join(DECLINE_REASONS.get(reason, reason) for reason in reasons)
        details = isolated(values.get("details") or "")
        message = isolated(values.get("message_to_requester") or "")
        return (
            label
            + (f". {details}" if details else "")
            + (f". Message to the requester: “{message}”" if message else "")
        )
    if kind == K.SEEN_BY_REQUESTER:
        return "The requester opened this answer in Boundary"
    if kind == K.ACKNOWLEDGED:
        return "The requester confirmed receiving the answer through its acknowledgement link"
    if kind == K.EVIDENCE_ADDED:
        return f"{typed('name')} ({get('size')} bytes), SHA-256 {get('sha256')}"
    if kind == K.DISCLOSURE_PROOF_ADDED:
        summary = f"Disclosure proof for {typed('account_label')}"
        if values.get("post_url"):
            summary += f": {typed('post_url')}"
        if values.get("sha256"):
            summary += f"; screenshot SHA-256 {get('sha256')}"
        return summary
    if kind == K.REPLY_SENT:
        return f"Reply sent: “{typed('reply')}”"
    if kind == K.WITHDRAWN:
        return "Withdrawn" + (f": {isolated(values['note'])}" if values.get("note") else "")
    if kind in (K.SHARED_WITH_HR, K.SHARING_WITHDRAWN):
        numbers = values.get("numbers")
        which = (
            ", ".join(f"#{number}" for number in numbers) if isinstance(numbers, list) else WITHHELD
        )
        every = "every request she logged: " if values.get("all") is True else ""
        if kind == K.SHARED_WITH_HR:
            return f"Shared with HR: {every}{which}"
        return f"Sharing with HR stopped for the future: {every}{which}"
    if kind == K.VIEWED_BY_HR:
        how = "In an HR export" if values.get("export") else "Opened"
        return f"{how} by {typed('actor_name')} (HR)"
    if kind == K.EXPORTED:
        return (
            f"Exported as {get('format').upper()}: {get('scope')} "
            f"(head #{get('head_seq')}, manifest {get('manifest_sha256')[:16]}…)"
        )
    return KIND_LABELS.get(kind, kind)
