"""What whoever holds the database (and so the salts) can do to an employee's chain, as
the role that owns the tables, past the append-only triggers: the attacks receipts,
checkpoints and exports must expose."""

import json

import pgtrigger

from requests_log import chain
from requests_log.models import Export, TimelineEvent
from requests_log.timeline import content_hash
from tests.support import as_owner

APPEND_ONLY = "requests_log.TimelineEvent:timelineevent_append_only"
TABLE = TimelineEvent._meta.db_table
EXPORT_TABLE = Export._meta.db_table


def rewrite_and_rehash(employee, seq: int, **changes) -> None:
    """Change event #seq's payload and recompute its hash and every later one, so the
    chain links up again and verify_chain's hash walk passes."""
    events = list(TimelineEvent.objects.filter(employee=employee, seq__gte=seq).order_by("seq"))
    prev_hash = events[0].prev_hash
    with pgtrigger.ignore(APPEND_ONLY):
        for event in events:
            if event.seq == seq:
                event.payload = {**event.payload, **changes}
            event.prev_hash = prev_hash
            salts = chain.field_salts(event.salt, event.payload)
            event.field_salts = chain.canonical_text(salts)
            event.hash = content_hash(event, salts)
            as_owner(
                f"UPDATE {TABLE} SET payload = %s, field_salts = %s, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [json.dumps(event.payload), event.field_salts, prev_hash, event.hash, event.pk],
            )
            prev_hash = event.hash


def cut_tail(employee, keep: int) -> None:
    """Delete every event after #keep (and the exports' links to them): the chain still
    links up."""
    with pgtrigger.ignore(APPEND_ONLY):
        as_owner(
            f"UPDATE {EXPORT_TABLE} SET event_id = NULL WHERE event_id IN "
            f"(SELECT id FROM {TABLE} WHERE employee_id = %s AND seq > %s)",
            [employee.pk, keep],
        )
        as_owner(
            f"DELETE FROM {TABLE} WHERE employee_id = %s AND seq > %s",
            [employee.pk, keep],
        )
