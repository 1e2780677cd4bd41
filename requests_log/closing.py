"""Closing an account (issue 13, data rights; README, "Closing an account").

What is kept: every request shared with HR when the account closes (HR may already act
on it) and, while a legal hold is in force, the whole record. Everything else goes, in
two steps:

1. account_close, in the web request: the person can no longer sign in (every session
   ends), their address, settings, second factors, notifications, reminders, receipts,
   export files and evidence files go, and the rows of the requests not kept lose every
   word: names, what was said, conditions, notes.
2. account_erase, run by the database's owner (`manage.py erase_closed_accounts`, daily):
   each value in the events of what is not kept is replaced by its salted digest
   (chain.erased_value), so the chain still verifies and no value can be read back. The
   app's own database role may not rewrite the append-only timeline, so this step never
   runs in the web process.

What stays of a request not kept: that it existed, when, its kind of channel and format,
its status, and the hashes that chain it.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pgtrigger
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from boundary.models import SocialAccount, User
from boundary.security_log import security_event
from boundary.services import user_sessions_end_elsewhere

from . import chain
from .models import (
    AccountClosure,
    Decision,
    DisclosureProof,
    Evidence,
    Export,
    FollowUp,
    LegalHold,
    Notification,
    PromotionRequest,
    ReceiptAddress,
    ReceiptSchedule,
    Reminder,
    TimelineEvent,
    VerificationJob,
)

# Events whose fields hold no one's words, only what the chain needs to vouch for
# itself: which exports were made (exports vouch for earlier ones) and which requests a
# share covered. Kept whole.
STRUCTURAL_KINDS = frozenset(
    {
        TimelineEvent.Kind.EXPORTED,
        TimelineEvent.Kind.SHARED_WITH_HR,
        TimelineEvent.Kind.SHARING_WITHDRAWN,
    }
)
ACCOUNT_EVENT_KINDS = frozenset(
    {
        TimelineEvent.Kind.ACCOUNT_LINKED,
        TimelineEvent.Kind.ACCOUNT_CHANGED,
        TimelineEvent.Kind.ACCOUNT_REMOVED,
    }
)
# The payload fields that hold someone's words or names, which erasure replaces: what
# a request, an answer or a follow-up said, who took part, evidence file names and
# account handles (a request's targets name them). The rest (times, kinds, numbers,
# account ids, hashes) is what the chain and its replay need to hold together, and says
# nothing of anyone.
ERASED_FIELDS = frozenset(
    {
        "about",
        "account_label",
        "actor_name",
        "boundary_note",
        "changes",
        "compensation_offered",
        "details",
        "disclosure_terms",
        "handle",
        "message_to_requester",
        "name",
        "note",
        "notes",
        "pay",
        "post_url",
        "promoted_item",
        "reason",
        "reply",
        "requester_name",
        "requester_title",
        "setting",
        "targets",
        "what_was_said",
        "who",
        "witnesses",
        "words_used",
    }
)
# What the rows of a request not kept are left with in place of every word.
REQUEST_WORDS = dict.fromkeys(
    (
        "requester_name",
        "requester_title",
        "requester_key",
        "setting",
        "words_used",
        "promoted_item",
        "compensation_offered",
        "disclosure_terms",
        "witnesses",
        "notes",
    ),
    "",
)
DECISION_WORDS = {"pay": "", "decline_reasons": [], "details": "", "message_to_requester": ""}
FOLLOW_UP_WORDS = {"who": "", "what_was_said": "", "witnesses": ""}
CLOSED_DISPLAY_NAME = "Closed account"
# The rewrite of the append-only timeline that erasure is, and nothing else.
TIMELINE_APPEND_ONLY = "requests_log.TimelineEvent:timelineevent_append_only"
ERASE_BATCH = 500


class AccountClosed(Exception):
    """The account was closed already."""


@dataclass(frozen=True)
class ClosingPreview:
    """What closing would keep and remove, for the page that asks."""

    hold: LegalHold | None
    requests_kept: int
    requests_removed: int
    accounts: int


def legal_hold_in_force(employee: User) -> LegalHold | None:
    return LegalHold.objects.filter(employee=employee, released_at__isnull=True).first()


def requests_kept(employee: User, *, held: bool) -> QuerySet[PromotionRequest]:
    """The requests closing keeps: all of them under a legal hold, else those shared with
    HR now."""
    requests = PromotionRequest.objects.filter(employee=employee)
    return requests if held else requests.filter(shared_with_hr_at__isnull=False)


def closing_preview(employee: User) -> ClosingPreview:
    hold = legal_hold_in_force(employee)
    total = PromotionRequest.objects.filter(employee=employee).count()
    kept = requests_kept(employee, held=hold is not None).count()
    return ClosingPreview(
        hold=hold,
        requests_kept=kept,
        requests_removed=total - kept,
        accounts=SocialAccount.objects.filter(owner=employee).count(),
    )


# --- Step 1: in the web request --------------------------------------------------------------


@transaction.atomic
def account_close(*, employee: User) -> AccountClosure:
    """Close the account (the caller has checked the person's password): see the module's
    docstring for what goes now and what is kept."""
    employee = User.objects.select_for_update().get(pk=employee.pk)
    if employee.closed_at is not None:
        raise AccountClosed
    hold = legal_hold_in_force(employee)
    kept = requests_kept(employee, held=hold is not None)
    kept_ids = sorted(kept.values_list("pk", flat=True))
    if hold is None:
        _strip_requests_not_kept(employee, kept_ids)
        _archive_accounts_not_kept(employee, kept_ids)
    _remove_personal_data(employee)
    closed_at = _anonymise(employee, keeps_records=bool(kept_ids))
    closure = AccountClosure.objects.create(
        employee=employee, closed_at=closed_at, kept_request_ids=kept_ids
    )
    security_event(
        "account_closed", actor=employee, obj=employee, kept=len(kept_ids), held=hold is not None
    )
    return closure


def _strip_requests_not_kept(employee: User, kept_ids: list[int]) -> None:
    """Every word in the rows of the requests not kept, and their evidence files."""
    requests = PromotionRequest.objects.filter(employee=employee).exclude(pk__in=kept_ids)
    requests.update(**REQUEST_WORDS)
    Decision.objects.filter(promotion_request__in=requests).update(**DECISION_WORDS)
    FollowUp.objects.filter(promotion_request__in=requests).update(**FOLLOW_UP_WORDS)
    DisclosureProof.objects.filter(promotion_request__in=requests).update(post_url="")
    evidence = Evidence.objects.filter(promotion_request__in=requests).exclude(file="")
    for item in evidence.only("pk", "file"):
        item.file.delete(save=False)
    # The hash stays: it is what the chain says the file was.
    Evidence.objects.filter(promotion_request__in=requests).update(file="", original_name="")


def _archive_accounts_not_kept(employee: User, kept_ids: list[int]) -> None:
    """Accounts no kept request names lose their handle and notes, in one statement."""
    named = Q(request_targets__promotion_request__in=kept_ids)
    SocialAccount.objects.filter(owner=employee).exclude(
        pk__in=SocialAccount.objects.filter(named).values("pk")
    ).update(
        handle=Concat(Value("closed-"), Cast("pk", CharField())),
        about="",
        boundary_note="",
        archived_at=Coalesce("archived_at", Value(timezone.now())),
    )


def _remove_personal_data(employee: User) -> None:
    """What serves the person only: notifications, reminders still to come, receipts,
    checks and exports' files (their rows stay: they state the chain's head), factors."""
    Notification.objects.filter(user=employee).delete()
    Reminder.objects.filter(
        employee=employee, state__in=[Reminder.State.SCHEDULED, Reminder.State.QUEUED]
    ).update(state=Reminder.State.CANCELLED)
    ReceiptAddress.objects.filter(employee=employee).delete()
    ReceiptSchedule.objects.filter(employee=employee).delete()
    VerificationJob.objects.filter(verified_by=employee).delete()
    for export in Export.objects.filter(employee=employee).exclude(file="").only("pk", "file"):
        export.file.delete(save=False)
    Export.objects.filter(employee=employee).update(file="")
    TOTPDevice.objects.filter(user=employee).delete()
    StaticDevice.objects.filter(user=employee).delete()


def _anonymise(employee: User, *, keeps_records: bool) -> datetime:
    """The person can no longer sign in, and every session of theirs ends at its next
    request. Their name stays only beside the requests kept, which HR reads by it.
    Returns when the account closed."""
    employee.closed_at = closed_at = timezone.now()
    employee.is_active = False
    employee.email = f"closed-{employee.pk}@closed.invalid"
    employee.password = make_password(None)
    if not keeps_records:
        employee.display_name = CLOSED_DISPLAY_NAME
    employee.job_title = ""
    employee.manager = None
    employee.email_verified_at = None
    employee.save()
    user_sessions_end_elsewhere(user=employee)
    return closed_at


# --- Step 2: as the database's owner -----------------------------------------------------------


def timeline_rewritable() -> bool:
    """Whether this connection's database role may rewrite the timeline, as erasure
    must: the owner's may, the app's may not (boundary.dbroles)."""
    if connection.vendor != "postgresql":
        return True  # SQLite (`make run`) has no roles
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, 'UPDATE')", [TimelineEvent._meta.db_table])
        return cursor.fetchone()[0]


def closures_to_erase() -> QuerySet[AccountClosure]:
    """Closed accounts whose timeline is still to be erased, and that no hold keeps."""
    held = LegalHold.objects.filter(released_at__isnull=True).values("employee_id")
    return (
        AccountClosure.objects.filter(erased_at__isnull=True)
        .exclude(employee_id__in=held)
        .select_related("employee")
        .order_by("closed_at")
    )


@transaction.atomic
def account_erase(closure: AccountClosure) -> AccountClosure:
    """Erase the values in the closed account's timeline that closing did not keep: each
    becomes its digest. Needs the owner's database role (pgtrigger's append-only trigger
    is lifted for this statement alone); a hold in force refuses it."""
    closure = AccountClosure.objects.select_for_update().get(pk=closure.pk)
    employee = closure.employee
    if closure.erased_at is not None:
        return closure
    if legal_hold_in_force(employee) is not None:
        raise PermissionError("A legal hold is in force: nothing may be erased.")
    kept_ids = sorted(requests_kept(employee, held=False).values_list("pk", flat=True))
    # A hold at closing kept every row; released since, they go now.
    _strip_requests_not_kept(employee, kept_ids)
    _archive_accounts_not_kept(employee, kept_ids)
    events, fields = _erase_events(employee, kept_ids)
    closure.erased_at = timezone.now()
    closure.kept_request_ids = kept_ids
    closure.events_erased, closure.fields_erased = events, fields
    closure.save(update_fields=["erased_at", "kept_request_ids", "events_erased", "fields_erased"])
    security_event("account_erased", obj=employee, events=events, fields=fields)
    return closure


def events_to_erase(employee: User, kept_ids: list[int]) -> QuerySet[TimelineEvent]:
    """The employee's events that hold words closing did not keep: those of requests not
    kept, and of accounts no kept request names."""
    kept_accounts = SocialAccount.objects.filter(
        owner=employee, request_targets__promotion_request__in=kept_ids
    ).values_list("pk", flat=True)
    events = TimelineEvent.objects.filter(employee=employee).exclude(kind__in=STRUCTURAL_KINDS)
    return events.exclude(promotion_request__in=kept_ids).exclude(
        kind__in=ACCOUNT_EVENT_KINDS, payload__account__in=list(kept_accounts)
    )


def _erase_events(employee: User, kept_ids: list[int]) -> tuple[int, int]:
    changed: list[TimelineEvent] = []
    fields = 0
    events = events_to_erase(employee, kept_ids).only("pk", "payload", "field_salts")
    for event in events.iterator(chunk_size=ERASE_BATCH):
        payload, count = erased_payload(event.payload, json.loads(event.field_salts))
        if count:
            event.payload = payload
            changed.append(event)
            fields += count
    with pgtrigger.ignore(TIMELINE_APPEND_ONLY):
        TimelineEvent._base_manager.bulk_update(changed, ["payload"], batch_size=ERASE_BATCH)
    return len(changed), fields


def erased_payload(payload: dict[str, Any], salts: dict[str, str]) -> tuple[dict[str, Any], int]:
    """The payload with the value of each of ERASED_FIELDS replaced by its digest (empty
    values hold nothing to erase and stay), and how many it replaced."""
    erased, count = {}, 0
    for name, value in payload.items():
        if (
            name not in ERASED_FIELDS
            or value in chain.EMPTY_VALUES
            or chain.erased_digest(value) is not None
        ):
            erased[name] = value
        else:
            erased[name] = chain.erased_value(salts[name], value)
            count += 1
    return erased, count
