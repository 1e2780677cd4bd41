"""Receipts the employee keeps: signed checkpoints of her chain, timestamped by
independent authorities, sent to a personal address if she wants them.

When her record changes, her next checkpoint falls due, no sooner than RECEIPT_INTERVAL
after the last (receipt_due_after_change, called as each event is appended); a sweep
issues the due ones every minute, and she can ask for one at any time. Each checkpoint
asks every authority in RFC3161_TSA_URLS for a timestamp, in a task with retries, so a
slow authority never holds up a write. Whoever runs the server keeps every checkpoint it
issued; a rewrite of the chain after one was issued shows against it (verify_chain) and
against the receipt the employee holds (verifier.check with receipts).
"""

import hashlib
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing as django_signing
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from boundary.models import User

from .. import chain
from ..models import TimelineEvent
from ..models.receipts import (
    Checkpoint,
    ReceiptAddress,
    ReceiptDelivery,
    ReceiptSchedule,
    Timestamp,
)
from . import receiptformat, verifier
from .signing import signing_key

logger = logging.getLogger(__name__)
CONFIRMATION_SALT = "boundary.receipt-address"
CONFIRMATION_RESEND_SECONDS = 60


class TransientTimestampError(Exception):
    """The authority could not answer now (network, time-out, a 5xx): worth retrying."""


def instance_host() -> str:
    return receiptformat.instance_host(settings.SITE_URL)


# --- When the next checkpoint is due -------------------------------------------------------------


def receipt_due_after_change(*, employee_id: int) -> None:
    """Her record changed: her next checkpoint is due now, or when the last one's
    RECEIPT_INTERVAL is over if that is later; changes before it is issued share it.
    timeline_append sends this statement (receipt_due_statement) with its own, so it
    costs an append no round trip of its own."""
    with connection.cursor() as cursor:
        cursor.execute(*receipt_due_statement(employee_id=employee_id))


def receipt_due_statement(*, employee_id: int) -> tuple[str, list[Any]]:
    """receipt_due_after_change's statement and its parameters. Every append runs it
    while it holds her row's lock, so it is one statement that writes nothing when a
    checkpoint is due already, as in a burst of changes: an upsert Django's ORM cannot
    spell, in SQL that PostgreSQL and SQLite both take."""
    table = ReceiptSchedule._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return (
        # Bandit B608 waived: {table} is the model's own table; values are parameters.
        f"INSERT INTO {table} (employee_id, due_at, quiet_until) VALUES (%s, %s, NULL) "  # noqa: S608 # nosec B608
        f"ON CONFLICT (employee_id) DO UPDATE SET due_at = CASE "
        f"WHEN {table}.quiet_until > excluded.due_at THEN {table}.quiet_until "
        f"ELSE excluded.due_at END WHERE {table}.due_at IS NULL",
        [employee_id, now],
    )


def receipts_issue_due(*, now=None, batch: int = 500) -> int:
    """The sweep: issue every checkpoint that is due. Safe for several sweepers at once:
    each checkpoint is issued under the employee's row lock, and a head already
    checkpointed is not signed again."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            ReceiptSchedule.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")
            .values_list("employee_id", flat=True)[:batch]
        )
    issued = 0
    for employee in User.objects.filter(pk__in=due):
        if checkpoint_issue(employee=employee, reason=Checkpoint.Reason.CHANGED):
            issued += 1
    return issued


# --- Issuing ---------------------------------------------------------------------------------


@transaction.atomic
def checkpoint_issue(*, employee: User, reason: str) -> Checkpoint | None:
    """Sign the employee's chain head as a checkpoint and keep it; then (after commit)
    ask each timestamp authority, and send it to her confirmed address. A head that the
    latest checkpoint already states gets no new one (that one is returned when she asks;
    None after a change that needed none). None for an empty record."""
    User.objects.select_for_update().only("pk").get(pk=employee.pk)
    head = (
        TimelineEvent.objects.filter(employee=employee)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    latest = Checkpoint.objects.filter(employee=employee).order_by("-issued_at", "-id").first()
    now = timezone.now()
    ReceiptSchedule.objects.filter(employee=employee).update(due_at=None)
    if head is None:
        return None
    seq, head_hash = head
    if latest is not None and (latest.seq, latest.head_hash) == (seq, head_hash):
        return latest if reason == Checkpoint.Reason.ASKED else None
    key = signing_key()
    note = receiptformat.checkpoint_note(
        origin=receiptformat.receipt_origin(instance_host(), employee.pk),
        seq=seq,
        head_hash=head_hash,
        issued_at=chain.utc_iso(now),
    )
    checkpoint = Checkpoint.objects.create(
        employee=employee,
        seq=seq,
        head_hash=head_hash,
        issued_at=now,
        reason=reason,
        note=key.sign_note(note, instance_host()),
        key_fingerprint=key.fingerprint,
    )
    quiet_until = now + timedelta(seconds=settings.RECEIPT_INTERVAL)
    ReceiptSchedule.objects.filter(employee=employee).update(quiet_until=quiet_until)
    address = ReceiptAddress.objects.filter(employee=employee, confirmed_at__isnull=False).first()
    delivery = None
    if address is not None:
        delivery = ReceiptDelivery.objects.create(checkpoint=checkpoint, email=address.email)
    transaction.on_commit(lambda: _after_issue(checkpoint, delivery, address))
    return checkpoint


def _after_issue(
    checkpoint: Checkpoint, delivery: ReceiptDelivery | None, address: ReceiptAddress | None
) -> None:
    from .tasks import send_receipt as send_receipt_task
    from .tasks import timestamp_checkpoint as timestamp_checkpoint_task

    for authority in settings.RFC3161_TSA_URLS:
        timestamp_checkpoint_task.delay(checkpoint.pk, authority)
    if delivery is not None and address is not None and address.cadence == address.Cadence.EACH:
        # A little later, so the timestamps are usually in the email too.
        send_receipt_task.apply_async((delivery.pk,), countdown=settings.RECEIPT_EMAIL_DELAY)


def receipt_of(checkpoint: Checkpoint) -> str:
    """The receipt as the employee keeps it: the signed note, then its timestamps."""
    return receiptformat.receipt_text(
        checkpoint.note, [bytes(stamp.response) for stamp in checkpoint.timestamps.all()]
    )


# --- Timestamps ------------------------------------------------------------------------------


def timestamp_fetch(
    *, checkpoint_id: int, authority: str, post: Callable[[str, bytes], bytes] | None = None
) -> Timestamp | None:
    """Ask `authority` (an RFC 3161 URL) to timestamp the checkpoint's note and keep the
    answer once it is the one asked for (status granted, our digest, our nonce). Safe to
    run twice. Raises TransientTimestampError when it is worth trying again."""
    from rfc3161_client import (
        HashAlgorithm,
        PKIStatus,
        TimestampRequestBuilder,
        decode_timestamp_response,
    )

    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id).first()
    if checkpoint is None:
        logger.warning("Checkpoint %s is gone; no timestamp asked.", checkpoint_id)
        return None
    if checkpoint.timestamps.filter(authority=authority).exists():
        return None
    note = receiptformat.read_receipt(checkpoint.note).note.encode()
    request = TimestampRequestBuilder().data(note).hash_algorithm(HashAlgorithm.SHA512).build()
    answer = (post or _post)(authority, request.as_bytes())
    try:
        response = decode_timestamp_response(answer)
    except ValueError as error:
        raise TransientTimestampError(f"{authority} answered with no timestamp") from error
    info = response.tst_info
    imprint = info.message_imprint.message
    if PKIStatus(response.status) != PKIStatus.GRANTED:
        raise TransientTimestampError(f"{authority} did not grant a timestamp")
    if imprint != hashlib.sha512(note).digest() or info.nonce != request.nonce:
        raise TransientTimestampError(f"{authority} timestamped something else")
    try:
        with transaction.atomic():
            return Timestamp.objects.create(
                checkpoint=checkpoint,
                authority=authority,
                authority_name=verifier.authority_name(response)[:200],
                response=answer,
                stamped_at=info.gen_time,
                received_at=timezone.now(),
            )
    except IntegrityError:
        return None  # another worker got there first


def _post(authority: str, body: bytes) -> bytes:
    if urllib.parse.urlsplit(authority).scheme not in {"http", "https"}:
        raise ValueError(f"RFC3161_TSA_URLS holds {authority!r}: only http(s) URLs are asked.")
    request = urllib.request.Request(  # noqa: S310 - the operator's configured https/http URL
        authority,
        data=body,
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    try:
        # Bandit B310 waived: an http(s) URL from RFC3161_TSA_URLS (checked above), not input.
        with urllib.request.urlopen(  # noqa: S310 # nosec B310
            request, timeout=settings.RFC3161_TIMEOUT
        ) as answer:
            return answer.read(1024 * 1024)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise TransientTimestampError(f"{authority}: {error}") from error


# --- A personal address --------------------------------------------------------------------


@dataclass(frozen=True)
class AddressSaved:
    address: ReceiptAddress
    link_sent: bool  # False: confirmed already, or a link went less than a minute ago


@transaction.atomic
def receipt_address_set(*, employee: User, email: str, cadence: str) -> AddressSaved:
    """Where receipts go, and how often. A new or changed address waits for its
    confirmation: a link emailed to it, sent again when she saves it still unconfirmed
    (at most once a minute, so the form cannot flood a stranger's inbox)."""
    address = ReceiptAddress.objects.select_for_update().filter(employee=employee).first()
    if address is None:
        address = ReceiptAddress(employee=employee, email=email)
    if address._state.adding or not _same(address.email, email):
        address.confirmed_at = None
    address.email, address.cadence = email, cadence
    address.save()
    link_sent = address.confirmed_at is None and cache.add(
        f"receipt-address-link:{employee.pk}:{email.casefold()}",
        True,
        timeout=CONFIRMATION_RESEND_SECONDS,
    )
    if link_sent:
        token = django_signing.dumps(
            {"employee": employee.pk, "email": email}, salt=CONFIRMATION_SALT
        )
        link = settings.SITE_URL.rstrip("/") + reverse(
            "exports:receipt-address-confirm", args=[token]
        )
        transaction.on_commit(lambda: _send_confirmation(email, link))
    return AddressSaved(address, link_sent)


def _same(one: str, other: str) -> bool:
    return one.casefold() == other.casefold()


def _send_confirmation(email: str, link: str) -> None:
    hours = settings.RECEIPT_CONFIRMATION_MAX_AGE // 3600
    valid_for = f"{hours // 24} days" if hours >= 48 else f"{max(hours, 1)} hours"
    body = render_to_string(
        "emails/receipt-address-body.txt", {"link": link, "valid_for": valid_for}
    )
    EmailMessage("Confirm where your receipts go", body, to=[email]).send()


def receipt_address_of_link(*, token: str) -> ReceiptAddress | None:
    """The address a confirmation link is for, while the link is good: None for a bad,
    old or outdated link (the address changed since it was sent)."""
    try:
        claim = django_signing.loads(
            token, salt=CONFIRMATION_SALT, max_age=settings.RECEIPT_CONFIRMATION_MAX_AGE
        )
    except django_signing.BadSignature:
        return None
    address = ReceiptAddress.objects.filter(employee_id=claim.get("employee")).first()
    if address is None or not _same(address.email, str(claim.get("email", ""))):
        return None
    return address


def receipt_address_confirm(*, token: str) -> ReceiptAddress | None:
    """Confirm the address a link was sent to; None for a bad, old or outdated link."""
    address = receipt_address_of_link(token=token)
    if address is None:
        return None
    if address.confirmed_at is None:
        address.confirmed_at = timezone.now()
        address.save(update_fields=["confirmed_at"])
    return address


# --- Sending -----------------------------------------------------------------------------


def receipt_send(*, delivery_ids: Iterable[int]) -> int:
    """Send receipts (one each, or several in a digest) to their address, once: each
    delivery is claimed (locked, so two senders never both take it) and the claim
    committed before anything is sent, and it is marked sent after. Returns how many
    went. An SMTP failure releases the claim and raises, for the task to retry; a claim
    left by a sender that died is taken again once stale (receipts_requeue_stuck)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT)
    with transaction.atomic():
        taken = list(
            ReceiptDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(delivery_ids), sent_at__isnull=True)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
            .values_list("pk", flat=True)
        )
        ReceiptDelivery.objects.filter(pk__in=taken).update(
            claimed_at=now, attempts=F("attempts") + 1
        )
    if not taken:
        return 0
    deliveries = list(
        ReceiptDelivery.objects.filter(pk__in=taken)
        .select_related("checkpoint")
        .prefetch_related("checkpoint__timestamps")
        .order_by("checkpoint__issued_at")
    )
    message = EmailMessage(
        "Your Boundary receipt" if len(deliveries) == 1 else "Your Boundary receipts",
        render_to_string("emails/receipt-body.txt", {"deliveries": deliveries}),
        to=[deliveries[0].email],
    )
    for delivery in deliveries:
        checkpoint = delivery.checkpoint
        name = f"boundary-receipt-{checkpoint.issued_at:%Y%m%d-%H%M%S}-{checkpoint.seq}.txt"
        # As bytes, so no mail client or server re-wraps it: a receipt's lines matter.
        message.attach(name, receipt_of(checkpoint).encode(), "application/octet-stream")
    try:
        message.send()
    except OSError:
        ReceiptDelivery.objects.filter(pk__in=taken).update(claimed_at=None)
        raise
    ReceiptDelivery.objects.filter(pk__in=taken).update(sent_at=timezone.now())
    return len(taken)


def receipts_requeue_stuck(*, now=None) -> int:
    """Queue again each receipt email ("each" cadence) that should have gone by now but
    did not: its task was lost with the broker, or its sender died holding the claim.
    Gives up after REMINDER_MAX_ATTEMPTS tries (the last error is in the worker's log)."""
    from .tasks import send_receipt as send_receipt_task

    now = now or timezone.now()
    overdue = now - timedelta(
        seconds=settings.RECEIPT_EMAIL_DELAY + settings.REMINDER_QUEUE_TIMEOUT
    )
    stale = now - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT)
    stuck = list(
        ReceiptDelivery.objects.filter(
            sent_at__isnull=True,
            created_at__lt=overdue,
            attempts__lt=settings.REMINDER_MAX_ATTEMPTS,
            checkpoint__employee__receipt_address__cadence=ReceiptAddress.Cadence.EACH,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in stuck:
        send_receipt_task.delay(delivery_id)
    return len(stuck)


def receipts_daily_digest() -> int:
    """Each daily address's unsent receipts, in one email. Returns the emails sent."""
    pending: dict[str, list[int]] = {}
    unsent = ReceiptDelivery.objects.filter(
        sent_at__isnull=True,
        checkpoint__employee__receipt_address__cadence=ReceiptAddress.Cadence.DAILY,
        checkpoint__employee__receipt_address__confirmed_at__isnull=False,
    ).values_list("email", "pk")
    for email, delivery_id in unsent.iterator():
        pending.setdefault(email, []).append(delivery_id)
    return sum(1 for ids in pending.values() if receipt_send(delivery_ids=ids))
