"""The employee's timeline: appending hash-chained events and checking the chain."""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from boundary.models import User

from . import chain
from .models import PromotionRequest, TimelineEvent


def json_value(value: Any) -> Any:
    """A model value as the canonical JSON the chain hashes."""
    if isinstance(value, datetime):
        return chain.utc_iso(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def timeline_append(
    *,
    employee: User,
    kind: str,
    actor: User | None,
    payload: dict[str, Any],
    promotion_request: PromotionRequest | None = None,
    occurred_at: datetime | None = None,
) -> TimelineEvent:
    """Append one event to the employee's chain.

    Locks the employee's row first, so concurrent writers queue up behind each other
    instead of both linking to the same head (a fork). The actor's name as it is now
    goes into the payload (`actor_name`), so the record names people as they were.
    """
    if actor is not None:
        payload = {**payload, "actor_name": actor.display_name}
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("timeline_append must run inside a transaction.")
    User.objects.select_for_update().only("pk").get(pk=employee.pk)
    head = (
        TimelineEvent.objects.filter(employee=employee)
        .order_by("-seq")
        .values("seq", "hash")
        .first()
    )
    seq = head["seq"] + 1 if head else 1
    prev_hash = head["hash"] if head else chain.GENESIS_HASH
    recorded_at = timezone.now()
    event = chained_event(
        employee=employee,
        seq=seq,
        prev_hash=prev_hash,
        kind=kind,
        actor=actor,
        payload=payload,
        promotion_request=promotion_request,
        occurred_at=occurred_at or recorded_at,
        recorded_at=recorded_at,
    )
    event.save(force_insert=True)
    return event


def chained_event(
    *,
    employee: User,
    seq: int,
    prev_hash: str,
    kind: str,
    actor: User | None,
    payload: dict[str, Any],
    promotion_request: PromotionRequest | None,
    occurred_at: datetime,
    recorded_at: datetime,
) -> TimelineEvent:
    """Event number `seq` of the employee's chain, linked to `prev_hash`, with its salts
    and hash; not saved (timeline_append saves it, the benchmark inserts many at once)."""
    payload = {field: json_value(value) for field, value in payload.items()}
    salt = secrets.token_hex(32)
    field_salts = chain.field_salts(salt, payload)
    event = TimelineEvent(
        employee=employee,
        seq=seq,
        promotion_request=promotion_request,
        kind=kind,
        actor=actor,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        payload=payload,
        salt=salt,
        field_salts=chain.canonical_text(field_salts),
        prev_hash=prev_hash,
    )
    event.hash = content_hash(event, field_salts)
    return event


def content_hash(event: TimelineEvent, field_salts: dict[str, str]) -> str:
    """The hash the chain gives this event's header and payload (see requests_log.chain)."""
    header = chain.event_header(
        employee_id=event.employee_id,
        seq=event.seq,
        request_id=event.promotion_request_id,
        kind=event.kind,
        actor_id=event.actor_id,
        occurred_at=chain.utc_iso(event.occurred_at),
        recorded_at=chain.utc_iso(event.recorded_at),
        prev_hash=event.prev_hash,
    )
    return chain.event_hash(header, chain.field_digests(field_salts, event.payload))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    head: str
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(*, employee: User) -> ChainReport:
    """Recompute every hash of the employee's chain; report the first event that fails."""
    expected_prev = chain.GENESIS_HASH
    checked = 0
    events = TimelineEvent.objects.filter(employee=employee).order_by("seq")
    for expected_seq, event in enumerate(events.iterator(chunk_size=2000), start=1):
        checked += 1
        if event.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                expected_prev,
                event.seq,
                f"event #{expected_seq} is missing (found #{event.seq} next)",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False, checked, expected_prev, event.seq, "does not link to the event before it"
            )
        field_salts = chain.field_salts(event.salt, event.payload)
        if content_hash(event, field_salts) != event.hash:
            return ChainReport(
                False,
                checked,
                expected_prev,
                event.seq,
                "its content does not match its hash (it was changed)",
            )
        # Exports print the stored salts: a changed one would make them fail to verify.
        if stored_json(event.field_salts) != field_salts:
            return ChainReport(
                False,
                checked,
                expected_prev,
                event.seq,
                "its stored field salts do not derive from its salt (they were changed)",
            )
        expected_prev = event.hash
    return ChainReport(True, checked, expected_prev)


def stored_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
