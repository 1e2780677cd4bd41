"""The employee's timeline: appending hash-chained events and checking the chain."""

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from boundary.models import SocialAccount, User

from . import chain, flags
from .exports.receipts import receipt_due_statement
from .models import AccountClosure, Checkpoint, Export, PromotionRequest, TimelineEvent

Statement = tuple[str, list[Any]]

# What else changes whenever her record does, each a statement given her id that
# timeline_append sends with its lock: her next checkpoint falls due.
APPEND_BOOKKEEPING: tuple[Callable[..., Statement], ...] = (receipt_due_statement,)


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
    """Append one event to the employee's chain, with its bookkeeping.

    Locks the employee's row first, so concurrent writers queue up behind each other
    instead of both linking to the same head (a fork). The actor's name as it is now
    goes into the payload (`actor_name`), so the record names people as they were.
    """
    if actor is not None:
        payload = {**payload, "actor_name": actor.display_name}
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("timeline_append must run inside a transaction.")
    head_seq, head_hash = chain_head_locked(employee_id=employee.pk)
    recorded_at = timezone.now()
    event = chained_event(
        employee=employee,
        seq=head_seq + 1,
        prev_hash=head_hash,
        kind=kind,
        actor=actor,
        payload=payload,
        promotion_request=promotion_request,
        occurred_at=occurred_at or recorded_at,
        recorded_at=recorded_at,
    )
    event_insert(event)
    return event


def chain_head_locked(*, employee_id: int) -> tuple[int, str]:
    """Lock the employee's row, run the APPEND_BOOKKEEPING, then read her chain's head:
    its (seq, hash), or (0, GENESIS_HASH) while the chain is empty.

    The head is read by a statement after the lock's, never by the lock's own: PostgreSQL
    shows a statement what was committed when it started, so a head read beside FOR
    UPDATE would be the one from before the wait for the lock, and fork the chain. The
    statements still go to PostgreSQL in one round trip (an append's costliest part):
    psycopg2 sends them as one query string, the server runs them in turn, each seeing
    what was committed when it started, and psycopg2 returns the last one's rows (psycopg
    3 returns the first's: a change of driver must change this). SQLite
    takes one statement at a time; it has no row locks, and its transactions take the
    database's write lock as they begin (settings: transaction_mode IMMEDIATE).
    """
    # Bandit B608 waived below: the table names are the models' own.
    quote = connection.ops.quote_name
    users, events = (quote(model._meta.db_table) for model in (User, TimelineEvent))
    lock = f"SELECT 1 FROM {users} WHERE id = %s FOR UPDATE"  # noqa: S608 # nosec B608
    head = f"SELECT seq, hash FROM {events} WHERE employee_id = %s ORDER BY seq DESC LIMIT 1"  # noqa: S608 # nosec B608
    statements: list[Statement] = [
        *([(lock, [employee_id])] if connection.features.has_select_for_update else []),
        *(statement(employee_id=employee_id) for statement in APPEND_BOOKKEEPING),
        (head, [employee_id]),
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "; ".join(sql for sql, _ in statements),
                [value for _, params in statements for value in params],
            )
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, chain.GENESIS_HASH)


def event_insert(event: TimelineEvent) -> None:
    """Save a new event as event.save(force_insert=True) does: the same row and the same
    pre_save and post_save signals (the security log listens), by an INSERT written out
    here rather than compiled afresh by the ORM for every event (about 0.1 ms an append:
    scripts/bench_export.py's insert figures)."""
    meta, quote = TimelineEvent._meta, connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    # The stubs type a field's column as optional; a concrete field always has one.
    columns = ", ".join(quote(cast(str, field.column)) for field in fields)
    table, pk = quote(meta.db_table), quote(cast(str, meta.pk.column))
    pre_save.send(
        sender=TimelineEvent, instance=event, raw=False, using=connection.alias, update_fields=None
    )
    values = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            # Bandit B608 waived: the table and columns are the model's own.
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 # nosec B608
            f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING {pk}",
            values,
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias
    post_save.send(
        sender=TimelineEvent,
        instance=event,
        created=True,
        update_fields=None,
        raw=False,
        using=connection.alias,
    )


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
    if any(chain.erased_digest(value) is not None for value in payload.values()):
        raise ValueError("A new event cannot hold an erased value.")
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
    # Where the tables (projections) no longer say what the events say.
    drift: tuple[str, ...] = ()
    # Checkpoints and exports that state a chain head this chain no longer has.
    contradicted: tuple[str, ...] = ()


def verify_chain(*, employee: User) -> ChainReport:
    """Recompute every hash of the employee's chain and report the first event that
    fails; then replay the events and report every table row that says otherwise."""
    expected_prev = chain.GENESIS_HASH
    checked = 0
    replay = chain.Replay()
    stated = heads_stated(employee=employee)
    contradicted: list[tuple[int, str]] = []
    events = TimelineEvent.objects.filter(employee=employee).order_by("seq")
    for expected_seq, event in enumerate(events.iterator(chunk_size=2000), start=1):
        checked += 1
        for what, head_hash in stated.pop(event.seq, ()):
            if head_hash != event.hash:
                contradicted.append(
                    (
                        event.seq,
                        f"{what} states event #{event.seq} as "
                        f"{head_hash[:16]}…, the chain has {event.hash[:16]}…: rewritten after it",
                    )
                )
        replay.add(
            {
                "employee": event.employee_id,
                "seq": event.seq,
                "request": event.promotion_request_id,
                "kind": event.kind,
                "actor": event.actor_id,
                "occurred_at": chain.utc_iso(event.occurred_at),
            },
            chain.erased_as_withheld(event.payload),
        )
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
    for seq, statements in stated.items():  # past the chain's end
        contradicted += [
            (seq, f"{what} states event #{seq}, the chain ends at #{checked}: cut after it")
            for what, _ in statements
        ]
    drift = tuple(projection_drift(employee=employee, replay=replay))
    if contradicted:
        contradicted.sort()
        return ChainReport(
            False,
            checked,
            expected_prev,
            contradicted[0][0],
            "it was rewritten or cut after a checkpoint or an export stated its head",
            drift,
            tuple(line for _, line in contradicted),
        )
    if drift:
        return ChainReport(
            False,
            checked,
            expected_prev,
            None,
            "the tables no longer say what the events say",
            drift,
        )
    return ChainReport(True, checked, expected_prev)


def heads_stated(*, employee: User) -> dict[int, list[tuple[str, str]]]:
    """What every checkpoint issued and every export made of the employee's chain said
    its head was, by sequence number: (what said it, the head hash)."""
    stated: dict[int, list[tuple[str, str]]] = {}
    checkpoints = Checkpoint.objects.filter(employee=employee).values_list(
        "seq", "head_hash", "issued_at"
    )
    for seq, head_hash, issued_at in checkpoints.order_by("seq", "issued_at"):
        stated.setdefault(seq, []).append(
            (f"the checkpoint issued {issued_at:%Y-%m-%d %H:%M:%S} UTC", head_hash)
        )
    exports = (
        Export.objects.filter(employee=employee, head_seq__gt=0)
        .exclude(head_hash="")
        .values_list("head_seq", "head_hash", "created_at", "pk")
    )
    for head_seq, head_hash, created_at, pk in exports.order_by("head_seq", "created_at"):
        stated.setdefault(head_seq or 0, []).append(
            (f"export {pk} (made {created_at:%Y-%m-%d %H:%M:%S} UTC)", head_hash)
        )
    return stated


def projection_drift(*, employee: User, replay: chain.Replay) -> Iterator[str]:
    """Each difference between the employee's request, decision, follow-up, evidence and
    account rows and what her chain's events say (chain.Replay): rows are projections of
    the events, and someone with the database may have edited them."""
    requests = PromotionRequest.objects.filter(employee=employee)
    accounts = SocialAccount.objects.filter(owner=employee)
    kept_ids = (
        AccountClosure.objects.filter(employee=employee)
        .values_list("kept_request_ids", flat=True)
        .first()
    )
    if kept_ids is not None:
        # Closing stripped the rows of what it did not keep (requests_log.closing): only
        # the kept ones still say what their events say.
        requests = requests.filter(pk__in=kept_ids)
        accounts = accounts.filter(request_targets__promotion_request__in=kept_ids).distinct()
    requests = requests.prefetch_related(
        "targets", "decisions", "follow_ups", "evidence", "disclosure_proofs"
    ).order_by("number")
    for row in requests:
        told = replay.requests.get(row.pk)
        name = f"request #{row.number}"
        if told is None:
            yield f"{name}: in the table, but no event logged it"
            continue
        table_values = {
            field: json_value(
                row.requester_user_id if field == "requester_user" else getattr(row, field)
            )
            for field in chain.REQUEST_FIELDS
        }
        table_values["status"] = row.status
        # Whom "asked again" matches on (chain.requester_key): the flags follow it.
        table_values["requester_key"] = row.requester_key
        # A cache the sharing services keep: shared since the share that is in force.
        table_values["shared_with_hr_at"] = json_value(row.shared_with_hr_at)
        told = {**told, "disclosure_pending": bool(flags.disclosure_pending_accounts(told))}
        table_values["disclosure_pending"] = row.disclosure_pending
        for field, table in table_values.items():
            if table != told[field]:
                yield f"{name}: {field} in the table is {table!r}, its events say {told[field]!r}"
        pairs = (
            (
                "decisions",
                [
                    (d.kind, chain.utc_iso(d.decided_at), d.message_to_requester)
                    for d in row.decisions.all()
                ],
                [
                    (d["kind"], d["decided_at"], d.get("message_to_requester") or "")
                    for d in told["decisions"]
                ],
            ),
            (
                "answers seen by the requester",
                [
                    (d.pk, chain.utc_iso(d.seen_by_requester_at))
                    for d in row.decisions.all()
                    if d.seen_by_requester_at is not None
                ],
                [
                    (d["decision"], d["seen_by_requester_at"])
                    for d in told["decisions"]
                    if d.get("seen_by_requester_at") is not None
                ],
            ),
            (
                "follow-ups",
                [
                    (f.kind, chain.utc_iso(f.occurred_at), f.what_was_said)
                    for f in row.follow_ups.all()
                ],
                [(f["kind"], f["occurred_at"], f["what_was_said"]) for f in told["follow_ups"]],
            ),
            (
                "evidence",
                [e.sha256 for e in row.evidence.all()],
                [e["sha256"] for e in told["evidence"]],
            ),
            (
                "disclosure proofs",
                [(p.account_id, p.post_url, p.evidence_id) for p in row.disclosure_proofs.all()],
                [(p["account"], p["post_url"], p["evidence"]) for p in told["disclosure_proofs"]],
            ),
            (
                "targets",
                [(t.account_id, t.boundary_at_request) for t in row.targets.all()],
                [(t.get("account"), t.get("boundary")) for t in told["targets"]],
            ),
        )
        for what, table_rows, event_rows in pairs:
            if sorted(table_rows, key=repr) != sorted(event_rows, key=repr):
                yield f"{name}: its {what} in the tables differ from its events"
    for account in accounts:
        declared = replay.accounts.get(account.pk)
        if declared is None:
            continue  # linked before accounts were declared on the chain
        for field in ("platform", "handle", "boundary"):
            if getattr(account, field) != declared.get(field):
                yield (
                    f"account {account}: {field} in the table is {getattr(account, field)!r}, "
                    f"its declarations say {declared.get(field)!r}"
                )


def stored_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
