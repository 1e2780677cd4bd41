"""Everything Boundary holds about a person, for them to download (issue 13, data rights).

One JSON document, written as it is read: her profile and settings, her accounts (archived
ones too), notifications, where her receipts go, the receipts issued, the exports she made,
the records she checked on "Verify a record", who in HR read what, and her whole record
(every event of her chain, as chained). It never holds what is not hers to read (another
person's record, a password hash, a second factor's key, a token) and reads each table
once, in batches, so it runs in the same number of queries for 10 events or 10 million.

It is not a signed export: for proof, her exports (record.json, the PDF…) are the thing.
"""

import json
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django_countries.fields import Country

from boundary.models import SocialAccount, User
from boundary.services import PROFILE_FIELDS

from . import access
from .models import HrView, TimelineEvent, Verification

FORMAT = "boundary-personal-data/1"
BATCH = 2000


def _rows(queryset, fields: Iterable[str]) -> Iterator[dict[str, Any]]:
    return queryset.values(*fields).iterator(chunk_size=BATCH)


ACCOUNT_FIELDS = (
    "id", "platform", "handle", "follower_count", "followers_as_of", "about", "boundary",
    "boundary_note", "created_at", "archived_at",
)  # fmt: skip
EVENT_FIELDS = (
    "seq", "kind", "occurred_at", "recorded_at", "promotion_request_id", "payload", "hash",
)  # fmt: skip


def personal_data_sections(viewer: User) -> dict[str, Iterator[dict[str, Any]]]:
    """Each list in the document, as an iterator over plain dicts, all from the viewer's
    own scope."""
    return {
        "accounts": _rows(
            SocialAccount.objects.filter(owner_id=viewer.pk).order_by("pk"),
            ACCOUNT_FIELDS,
        ),
        "notifications": _rows(
            access.notifications_for(viewer).order_by("pk"),
            ("id", "message", "promotion_request_id", "created_at", "read_at"),
        ),
        "receipt_addresses": _rows(
            access.receipt_addresses_for(viewer), ("email", "cadence", "confirmed_at", "created_at")
        ),
        "receipts": _rows(
            access.checkpoints_for(viewer).order_by("pk"),
            ("id", "seq", "head_hash", "issued_at", "reason"),
        ),
        "exports": _rows(
            access.exports_for(viewer).order_by("pk"),
            ("id", "format", "state", "created_at", "head_seq", "manifest_sha256"),
        ),
        "verifications": _rows(
            Verification.objects.filter(verified_by_id=viewer.pk).order_by("pk"),
            ("id", "created_at", "file_name", "file_kind", "verdict", "reason"),
        ),
        "read_by_hr": _rows(
            HrView.objects.filter(promotion_request__employee_id=viewer.pk).order_by("pk"),
            ("promotion_request_id", "viewer__display_name", "viewed_at"),
        ),
        "record": _rows(
            TimelineEvent.objects.filter(employee_id=viewer.pk).order_by("seq"),
            EVENT_FIELDS,
        ),
    }


class _Encoder(DjangoJSONEncoder):
    """Django's encoder (times, dates, decimals), plus time zones and countries as text."""

    def default(self, o: Any) -> Any:
        if isinstance(o, ZoneInfo):
            return o.key
        if isinstance(o, Country):
            return o.code
        return super().default(o)


def personal_data_chunks(viewer: User) -> Iterator[str]:
    """The document as JSON text, in pieces (for a streamed download)."""
    encoder = _Encoder()
    profile = {field: getattr(viewer, field) for field in ("email", *PROFILE_FIELDS)}
    profile |= {
        "role": viewer.role,
        "manager": viewer.manager.display_name if viewer.manager else None,
        "date_joined": viewer.date_joined,
        "last_login": viewer.last_login,
        "email_verified_at": viewer.email_verified_at,
    }
    head = {"format": FORMAT, "generated_at": timezone.now(), "profile": profile}
    yield encoder.encode(head)[:-1]
    for name, rows in personal_data_sections(viewer).items():
        yield f', "{name}": ['
        for position, row in enumerate(rows):
            yield ("," if position else "") + encoder.encode(row)
        yield "]"
    yield "}\n"


def personal_data_json(viewer: User) -> dict[str, Any]:
    """The whole document as a dict (tests and small records)."""
    return json.loads("".join(personal_data_chunks(viewer)))
