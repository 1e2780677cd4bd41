"""Every write to a promotion request, and the timeline event that records it."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from boundary.models import SocialAccount, User
from boundary.services import (
    profile_update,
    social_account_link,
    social_account_remove,
    social_account_update,
)

from . import access
from .chain import requester_key
from .models import (
    AcknowledgementLink,
    Decision,
    DisclosureProof,
    Evidence,
    FollowUp,
    Notification,
    PromotionRequest,
    RequestTarget,
    TimelineEvent,
)
from .reminders import reminders_reschedule, reminders_retime_after_profile_change
from .replies import reply_text_for
from .timeline import json_value, timeline_append

# Fields of a request that the employee may correct, in the order the record shows them.
CORRECTABLE_FIELDS = (
    "requester_name",
    "requester_title",
    "occurred_at",
    "channel",
    "setting",
    "words_used",
    "promoted_item",
    "content_format",
    "quantity",
    "deadline",
    "framing",
    "compensation_offered",
    "witnesses",
    "notes",
)


# --- Requests ---------------------------------------------------------------------------


def request_snapshot(promotion_request: PromotionRequest) -> dict[str, Any]:
    """The request's details as the timeline stores them."""
    snapshot = {field: getattr(promotion_request, field) for field in CORRECTABLE_FIELDS}
    snapshot["number"] = promotion_request.number
    snapshot["requester_user"] = promotion_request.requester_user_id
    snapshot["source"] = promotion_request.source
    if promotion_request.source == PromotionRequest.Source.FILED_IN_APP:
        snapshot["disclosure_terms"] = promotion_request.disclosure_terms
    snapshot["targets"] = [
        {
            "account": target.account_id,
            "platform": target.account.platform,
            "handle": target.account.handle,
            "boundary": target.boundary_at_request,
        }
        for target in promotion_request.targets.select_related("account").order_by("account_id")
    ]
    return snapshot


def _check_own_accounts(
    *, employee: User, accounts: Iterable[SocialAccount]
) -> list[SocialAccount]:
    accounts = list(accounts)
    if any(account.owner_id != employee.pk for account in accounts):
        raise ValidationError("A request can only target your own accounts.")
    return accounts


def next_request_number(employee: User) -> int:
    """The employee's next request number. Locks her row, as appending to her timeline
    does, so two requests logged at once cannot take the same number."""
    User.objects.select_for_update().only("pk").get(pk=employee.pk)
    last = PromotionRequest.objects.filter(employee=employee).aggregate(last=Max("number"))
    return (last["last"] or 0) + 1


@transaction.atomic
def promotion_request_log(
    *,
    employee: User,
    actor: User,
    target_accounts: Iterable[SocialAccount],
    evidence_files: Iterable[UploadedFile] = (),
    source: str = PromotionRequest.Source.LOGGED_BY_EMPLOYEE,
    **details: Any,
) -> PromotionRequest:
    """Log a request: stores it with a snapshot of its targets' boundaries, appends the
    "logged" (or "filed") event, then one "evidence added" event per file."""
    unknown = set(details) - set(CORRECTABLE_FIELDS) - {"requester_user"}
    if unknown:
        raise TypeError(f"Unknown request fields: {sorted(unknown)}")
    promotion_request = PromotionRequest(
        employee=employee,
        source=source,
        filed_by=actor if source == PromotionRequest.Source.FILED_IN_APP else None,
        **details,
    )
    return _request_create(
        promotion_request,
        actor=actor,
        target_accounts=target_accounts,
        evidence_files=evidence_files,
    )


def _request_create(
    promotion_request: PromotionRequest,
    *,
    actor: User,
    target_accounts: Iterable[SocialAccount],
    evidence_files: Iterable[UploadedFile] = (),
    notices: dict[str, Any] | None = None,
) -> PromotionRequest:
    """Number and store a new request with its targets' boundaries as they are now, append
    its "logged" or "filed" event (with `notices`, what the filer was shown), add its
    evidence and plan its reminders."""
    employee = promotion_request.employee
    accounts = _check_own_accounts(employee=employee, accounts=target_accounts)
    promotion_request.requester_key = requester_key(
        promotion_request.requester_user_id, promotion_request.requester_name
    )
    promotion_request.number = next_request_number(employee)
    promotion_request.save()
    RequestTarget.objects.bulk_create(
        RequestTarget(
            promotion_request=promotion_request,
            account=account,
            boundary_at_request=account.boundary,
        )
        for account in accounts
    )
    kind = (
        TimelineEvent.Kind.FILED
        if promotion_request.source == PromotionRequest.Source.FILED_IN_APP
        else TimelineEvent.Kind.LOGGED
    )
    timeline_append(
        employee=employee,
        kind=kind,
        actor=actor,
        payload={**request_snapshot(promotion_request), **(notices or {})},
        promotion_request=promotion_request,
        occurred_at=promotion_request.occurred_at,
    )
    for uploaded in evidence_files:
        evidence_add(promotion_request=promotion_request, uploaded_file=uploaded, uploaded_by=actor)
    reminders_reschedule(promotion_request=promotion_request)
    return promotion_request


@transaction.atomic
def promotion_request_correct(
    *,
    promotion_request: PromotionRequest,
    actor: User,
    reason: str = "",
    **changes: Any,
) -> TimelineEvent | None:
    """Correct details of a request: updates its current fields and appends a
    "detail corrected" event holding each changed field's old and new value. The person
    picked as who asked (`requester_user`) may be corrected too: the flags and HR's
    counts follow whom it names. Returns None when nothing changed."""
    unknown = set(changes) - set(CORRECTABLE_FIELDS) - {"requester_user"}
    if unknown:
        raise TypeError(f"Not correctable: {sorted(unknown)}")
    promotion_request = PromotionRequest.objects.select_for_update().get(pk=promotion_request.pk)
    changed = {
        field: (
            requester_user_change(getattr(promotion_request, field), value)
            if field == "requester_user"
            else {"old": json_value(getattr(promotion_request, field)), "new": json_value(value)}
        )
        for field, value in changes.items()
        if getattr(promotion_request, field) != value
    }
    if not changed:
        return None
    for field, value in changes.items():
        setattr(promotion_request, field, value)
    update_fields = [*changed, "updated_at"]
    if {"requester_name", "requester_user"} & set(changed):
        promotion_request.requester_key = requester_key(
            promotion_request.requester_user_id, promotion_request.requester_name
        )
        update_fields.append("requester_key")
    promotion_request.save(update_fields=update_fields)
    if {"deadline", "occurred_at"} & set(changed):
        reminders_reschedule(promotion_request=promotion_request)
    return timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.CORRECTED,
        actor=actor,
        payload={"changes": changed, "reason": reason},
        promotion_request=promotion_request,
    )


def requester_user_change(old: User | None, new: User | None) -> dict[str, Any]:
    """A correction of the person picked: their ids, which the chain's replay follows
    (chain.Replay), and their names as they are now, which the record shows."""
    return {
        "old": old.pk if old else None,
        "new": new.pk if new else None,
        "old_name": old.display_name if old else "",
        "new_name": new.display_name if new else "",
    }


STATUS_AFTER_DECISION: dict[str, str] = {
    Decision.Kind.ACCEPT: PromotionRequest.Status.ACCEPTED,
    Decision.Kind.DECLINE: PromotionRequest.Status.DECLINED,
    Decision.Kind.COUNTER: PromotionRequest.Status.NEGOTIATING,
}


def status_after_decision(kind: str) -> str:
    return STATUS_AFTER_DECISION[kind]


@transaction.atomic
def decision_record(
    *,
    promotion_request: PromotionRequest,
    decided_by: User,
    kind: str,
    decided_at: datetime | None = None,
    accounts: Iterable[SocialAccount] = (),
    **terms: Any,
) -> Decision:
    """Record (or revise) the employee's answer: a new Decision row, a "decision"
    event, and the request's status set from it. Earlier decisions stay."""
    promotion_request = PromotionRequest.objects.select_for_update().get(pk=promotion_request.pk)
    if promotion_request.status == PromotionRequest.Status.WITHDRAWN:
        raise ValidationError("This request was withdrawn; there is nothing left to decide.")
    accounts = _check_own_accounts(employee=promotion_request.employee, accounts=accounts)
    revises = promotion_request.decisions.exists()
    decision = Decision.objects.create(
        promotion_request=promotion_request,
        kind=kind,
        decided_at=decided_at or timezone.now(),
        decided_by=decided_by,
        **terms,
    )
    decision.accounts.set(accounts)
    promotion_request.status = status_after_decision(kind)
    promotion_request.disclosure_pending = disclosure_pending_after(
        promotion_request=promotion_request, decision=decision
    )
    promotion_request.save(update_fields=["status", "disclosure_pending", "updated_at"])
    timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.DECISION,
        actor=decided_by,
        payload={
            "decision": decision.pk,
            "kind": kind,
            "revises": revises,
            **terms,
            "accounts": sorted(a.pk for a in accounts),
        },
        promotion_request=promotion_request,
        occurred_at=decision.decided_at,
    )
    reminders_reschedule(promotion_request=promotion_request)
    return decision


@transaction.atomic
def reply_mark_sent(
    *, decision: Decision, actor: User, sent_at: datetime | None = None
) -> TimelineEvent | None:
    """Record that the written reply for this decision was sent (once)."""
    now = sent_at or timezone.now()
    claimed = Decision.objects.filter(pk=decision.pk, reply_sent_at__isnull=True).update(
        reply_sent_at=now
    )
    if not claimed:
        return None
    decision.reply_sent_at = now
    promotion_request = decision.promotion_request
    event = timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.REPLY_SENT,
        actor=actor,
        payload={"decision": decision.pk, "reply": reply_text_for(decision)},
        promotion_request=promotion_request,
        occurred_at=now,
    )
    reminders_reschedule(promotion_request=promotion_request)
    return event


@transaction.atomic
def follow_up_add(
    *,
    promotion_request: PromotionRequest,
    actor: User,
    evidence_files: Iterable[UploadedFile] = (),
    **details: Any,
) -> FollowUp:
    """Add what happened next: appends a "follow-up" event and one per evidence file.
    Whether it came after a decline is decided when read (flags.py)."""
    follow_up = FollowUp.objects.create(promotion_request=promotion_request, **details)
    timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.FOLLOW_UP,
        actor=actor,
        payload={
            "follow_up": follow_up.pk,
            "kind": follow_up.kind,
            "who": follow_up.who,
            "what_was_said": follow_up.what_was_said,
            "witnesses": follow_up.witnesses,
            "quoted": follow_up.quoted,
        },
        promotion_request=promotion_request,
        occurred_at=follow_up.occurred_at,
    )
    for uploaded in evidence_files:
        evidence_add(
            promotion_request=promotion_request,
            uploaded_file=uploaded,
            uploaded_by=actor,
            follow_up=follow_up,
        )
    return follow_up


def sha256_of(uploaded_file: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()


@transaction.atomic
def evidence_add(
    *,
    promotion_request: PromotionRequest,
    uploaded_file: UploadedFile,
    uploaded_by: User,
    follow_up: FollowUp | None = None,
) -> Evidence:
    """Store a file under a random name, hash it, and append an "evidence added"
    event carrying the hash. The form has already checked its size and type."""
    evidence = Evidence(
        promotion_request=promotion_request,
        follow_up=follow_up,
        original_name=(uploaded_file.name or "evidence")[:255],
        # The form set the type it detected from the file's content.
        content_type=uploaded_file.content_type or "application/octet-stream",
        size=uploaded_file.size or 0,
        sha256=sha256_of(uploaded_file),
        uploaded_by=uploaded_by,
    )
    evidence.file.save("evidence", uploaded_file, save=False)
    evidence.save()
    timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.EVIDENCE_ADDED,
        actor=uploaded_by,
        payload={
            "evidence": evidence.pk,
            "follow_up": follow_up.pk if follow_up else None,
            "name": evidence.original_name,
            "content_type": evidence.content_type,
            "size": evidence.size,
            "sha256": evidence.sha256,
        },
        promotion_request=promotion_request,
    )
    return evidence


@transaction.atomic
def promotion_request_withdraw(
    *,
    promotion_request: PromotionRequest,
    actor: User,
    note: str = "",
    occurred_at: datetime | None = None,
) -> TimelineEvent:
    """Record that the requester withdrew the ask."""
    promotion_request = PromotionRequest.objects.select_for_update().get(pk=promotion_request.pk)
    if promotion_request.status == PromotionRequest.Status.WITHDRAWN:
        raise ValidationError("This request is already withdrawn.")
    promotion_request.status = PromotionRequest.Status.WITHDRAWN
    promotion_request.disclosure_pending = False  # nothing is to be posted any more
    promotion_request.save(update_fields=["status", "disclosure_pending", "updated_at"])
    event = timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.WITHDRAWN,
        actor=actor,
        payload={"note": note},
        promotion_request=promotion_request,
        occurred_at=occurred_at,
    )
    reminders_reschedule(promotion_request=promotion_request)
    return event


# --- Disclosure proof --------------------------------------------------------------------


def disclosure_pending_after(*, promotion_request: PromotionRequest, decision: Decision) -> bool:
    """The projection of flags.disclosure_pending_accounts: after `decision` (the latest),
    is an accepted account still without proof?"""
    if decision.kind != Decision.Kind.ACCEPT:
        return False
    accepted = {account.pk for account in decision.accounts.all()}
    proven = set(
        DisclosureProof.objects.filter(promotion_request=promotion_request).values_list(
            "account_id", flat=True
        )
    )
    return bool(accepted - proven)


@transaction.atomic
def disclosure_proof_add(
    *,
    promotion_request: PromotionRequest,
    account: SocialAccount,
    recorded_by: User,
    post_url: str = "",
    screenshot: UploadedFile | None = None,
) -> DisclosureProof:
    """Record proof that a post on an accepted account disclosed the connection, in order:
    the screenshot kept as evidence (hashed, its own "evidence added" event), the proof
    row, a "disclosure proof added" event carrying the link and the screenshot's SHA-256,
    and the request's `disclosure_pending` recomputed."""
    promotion_request = PromotionRequest.objects.select_for_update().get(pk=promotion_request.pk)
    decision = promotion_request.decisions.order_by("pk").last()
    if (
        promotion_request.status != PromotionRequest.Status.ACCEPTED
        or decision is None
        or decision.kind != Decision.Kind.ACCEPT
    ):
        raise ValidationError("Disclosure proof is for a request you accepted.")
    if not decision.accounts.filter(pk=account.pk).exists():
        raise ValidationError(f"You did not accept this request for {account}.")
    if not post_url and screenshot is None:
        raise ValidationError("Add the post's link, a screenshot, or both.")
    if post_url and not post_url.lower().startswith("https://"):
        raise ValidationError("The post's link must start with https://.")
    evidence = (
        evidence_add(
            promotion_request=promotion_request, uploaded_file=screenshot, uploaded_by=recorded_by
        )
        if screenshot is not None
        else None
    )
    proof = DisclosureProof.objects.create(
        promotion_request=promotion_request,
        decision=decision,
        account=account,
        post_url=post_url,
        evidence=evidence,
        recorded_by=recorded_by,
        recorded_at=timezone.now(),
    )
    timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.DISCLOSURE_PROOF_ADDED,
        actor=recorded_by,
        payload={
            "proof": proof.pk,
            "decision": decision.pk,
            "account": account.pk,
            "account_label": str(account),
            "post_url": post_url,
            "evidence": evidence.pk if evidence else None,
            "sha256": evidence.sha256 if evidence else "",
        },
        promotion_request=promotion_request,
        occurred_at=proof.recorded_at,
    )
    promotion_request.disclosure_pending = disclosure_pending_after(
        promotion_request=promotion_request, decision=decision
    )
    promotion_request.save(update_fields=["disclosure_pending", "updated_at"])
    return proof


# What an account declares, as the timeline keeps it: each declaration is dated and chained,
# so the boundary in force when a request was made can be read from the record.
ACCOUNT_DECLARED_FIELDS = (
    "platform",
    "handle",
    "follower_count",
    "followers_as_of",
    "about",
    "boundary",
    "boundary_note",
)


def account_declaration(account: SocialAccount) -> dict[str, Any]:
    return {
        "account": account.pk,
        **{field: getattr(account, field) for field in ACCOUNT_DECLARED_FIELDS},
    }


@transaction.atomic
def account_link(*, owner: User, **details: Any) -> SocialAccount:
    """Link an account (boundary.services.social_account_link) and put its declaration,
    with its boundary, on the owner's timeline."""
    account = social_account_link(owner=owner, **details)
    timeline_append(
        employee=owner,
        kind=TimelineEvent.Kind.ACCOUNT_LINKED,
        actor=owner,
        payload=account_declaration(account),
    )
    return account


@transaction.atomic
def account_update(*, account: SocialAccount, actor: User, **changes: Any) -> SocialAccount:
    """Save changes to an account; if any, its new declaration goes on the timeline, naming
    what changed (a boundary closed on 12 November stays dated so)."""
    social_account_update(account=account, **changes)
    if changes:
        timeline_append(
            employee=account.owner,
            kind=TimelineEvent.Kind.ACCOUNT_CHANGED,
            actor=actor,
            payload={**account_declaration(account), "changed": sorted(changes)},
        )
    return account


@transaction.atomic
def account_remove(*, account: SocialAccount, actor: User) -> bool:
    """Remove an account (archived if the record refers to it) and say so on the timeline.
    Returns True when it was archived."""
    declaration = account_declaration(account)
    archived = social_account_remove(account=account)
    timeline_append(
        employee=actor,
        kind=TimelineEvent.Kind.ACCOUNT_REMOVED,
        actor=actor,
        payload={
            "account": declaration["account"],
            "platform": declaration["platform"],
            "handle": declaration["handle"],
            "archived": archived,
        },
    )
    return archived


@transaction.atomic
def employee_profile_update(*, user: User, **changes: Any) -> User:
    """Save a person's profile (boundary.services.profile_update), then re-plan her
    pending reminders if her time zone or quiet hours moved."""
    profile_update(user=user, **changes)
    reminders_retime_after_profile_change(employee=user, changed=changes)
    return user


def notifications_mark_read(*, user: User, pk: int | None = None) -> int:
    """Mark one of the user's notifications, or all of them, as read."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if pk is not None:
        unread = unread.filter(pk=pk)
    return unread.update(read_at=timezone.now())


# --- Filed in Boundary: a manager asks one of their reports -------------------------------


class FilingRefused(ValidationError):
    """The viewer may not file to, or act on, this request (the view answers 404)."""


@transaction.atomic
def promotion_request_file(
    *,
    manager: User,
    employee: User,
    target_accounts: Iterable[SocialAccount],
    promoted_item: str,
    content_format: str,
    quantity: int | None = None,
    deadline: datetime | None = None,
    compensation_offered: str = "",
    disclosure_terms: str = "",
) -> PromotionRequest:
    """A manager files a request to one of their reports, in Boundary.

    Side effects, in order: the request is stored as filed (framing "asked": a filed
    request is always a free ask, with the manager as requester and their words as
    filed, not correctable by anyone); the "filed" event goes onto the EMPLOYEE's chain,
    recording that the manager was told declining carries no penalty and which chosen
    accounts the employee has closed; her reminders are planned, including the notice
    that a request was filed (sent once by the reminder sweep)."""
    if not access.can_file_for(manager, employee):
        raise FilingRefused("You can file requests only to your own reports.")
    accounts = list(target_accounts)
    if any(account.owner_id != employee.pk or account.archived_at for account in accounts):
        raise ValidationError("A request can only target accounts the employee still uses.")
    promotion_request = PromotionRequest(
        employee=employee,
        source=PromotionRequest.Source.FILED_IN_APP,
        filed_by=manager,
        requester_user=manager,
        requester_name=manager.display_name,
        requester_title=manager.job_title,
        occurred_at=timezone.now(),
        channel=PromotionRequest.Channel.IN_BOUNDARY,
        framing=PromotionRequest.Framing.ASKED,
        promoted_item=promoted_item,
        content_format=content_format,
        quantity=quantity,
        deadline=deadline,
        compensation_offered=compensation_offered,
        disclosure_terms=disclosure_terms,
    )
    closed = sorted(
        account.pk for account in accounts if account.boundary == SocialAccount.Boundary.CLOSED
    )
    return _request_create(
        promotion_request,
        actor=manager,
        target_accounts=accounts,
        notices={"no_penalty_notice_shown": True, "closed_accounts_warned": closed},
    )


@transaction.atomic
def promotion_request_withdraw_filed(
    *, promotion_request: PromotionRequest, manager: User
) -> TimelineEvent:
    """The manager who filed a request takes it back, while it is still open (an answer
    already given stays the answer). Appends "withdrawn" to the employee's chain."""
    locked = PromotionRequest.objects.select_for_update().get(pk=promotion_request.pk)
    if not access.can_withdraw_filed(manager, locked):
        raise ValidationError("This request is no longer open, so it cannot be withdrawn.")
    return promotion_request_withdraw(promotion_request=locked, actor=manager)


@transaction.atomic
def decision_mark_seen(*, decision_id: int, viewer: User) -> TimelineEvent | None:
    """The requester opened this answer in Boundary: proof of delivery, stronger than the
    employee's own "reply sent". Claimed with a conditional update, so however many
    times (or tabs) the manager opens it, one "seen by the requester" event is appended.
    Returns None when it was already seen. Reads only what it needs of the request (the
    manager's pages never load the employee's notes, not even here)."""
    decision = (
        Decision.objects.select_related("promotion_request__employee")
        .only(
            "pk",
            "decided_at",
            "promotion_request__id",
            "promotion_request__source",
            "promotion_request__filed_by_id",
            "promotion_request__employee__id",
        )
        .get(pk=decision_id)
    )
    promotion_request = decision.promotion_request
    if not access.can_see_answer(viewer, promotion_request):
        raise FilingRefused("Only the person who filed a request sees its answer.")
    now = timezone.now()
    claimed = Decision.objects.filter(pk=decision.pk, seen_by_requester_at__isnull=True).update(
        seen_by_requester_at=now
    )
    if not claimed:
        return None
    return timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.SEEN_BY_REQUESTER,
        actor=viewer,
        payload={"decision": decision.pk, "decided_at": decision.decided_at},
        promotion_request=promotion_request,
        occurred_at=now,
    )


# --- Acknowledgement links: proof of delivery from a requester outside Boundary -----------


def acknowledgement_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def acknowledgement_link_create(*, decision: Decision, actor: User) -> str:
    """A new one-time link for the written reply to this answer; returns its token (only
    its SHA-256 is stored, so it is shown once). Earlier unused links to the same answer
    stop working: the latest reply sent is the one to confirm."""
    if decision.promotion_request.employee_id != actor.pk:
        raise FilingRefused("Only the employee adds a link to her reply.")
    now = timezone.now()
    AcknowledgementLink.objects.filter(
        decision=decision, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    token = secrets.token_urlsafe(32)
    AcknowledgementLink.objects.create(
        decision=decision,
        token_sha256=acknowledgement_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=AcknowledgementLink.VALID_FOR_DAYS),
    )
    return token


def acknowledgement_link_valid(token: str) -> AcknowledgementLink | None:
    """The unused, unexpired link for this token, with what its page names; else None."""
    if not token or len(token) > 100:
        return None
    return (
        AcknowledgementLink.objects.filter(
            token_sha256=acknowledgement_token_hash(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("decision__promotion_request__employee")
        .only(
            "pk",
            "decision_id",
            "expires_at",
            "decision__promotion_request_id",
            "decision__promotion_request__employee_id",
            "decision__promotion_request__employee__display_name",
        )
        .first()
    )


@transaction.atomic
def acknowledgement_confirm(*, token: str) -> TimelineEvent | None:
    """Someone holding the link confirmed they received the answer: marks the link used
    (a conditional update, so it works once even if clicked twice at once) and appends
    "acknowledged" to the employee's chain, with the time only. None if the link is
    unknown, used or expired."""
    link = acknowledgement_link_valid(token)
    if link is None:
        return None
    now = timezone.now()
    claimed = AcknowledgementLink.objects.filter(
        pk=link.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not claimed:
        return None
    promotion_request = link.decision.promotion_request
    return timeline_append(
        employee=promotion_request.employee,
        kind=TimelineEvent.Kind.ACKNOWLEDGED,
        actor=None,
        payload={"decision": link.decision_id},
        promotion_request=promotion_request,
        occurred_at=now,
    )
