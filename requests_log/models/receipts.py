"""Receipts: signed checkpoints of an employee's chain, independent timestamps of them,
when the next one is due, and where the employee has them sent.

Checkpoints and timestamps are kept forever and never changed (like the timeline): a
rewrite of the chain by whoever runs the server is found by comparing it with them, and
by anyone who holds a receipt (docs/receipts.md).
"""

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .timeline import append_only_triggers


class KeptForeverQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Receipts are kept as issued.")

    def delete(self):
        raise ValidationError("Receipts are kept as issued.")


class KeptForever(models.Model):
    """A row that is inserted once and never updated or deleted, here and in the database."""

    objects = KeptForeverQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("Receipts are kept as issued.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Receipts are kept as issued.")


@pgtrigger.register(*append_only_triggers("checkpoint", "checkpoints"))
class Checkpoint(KeptForever):
    """A signed statement of an employee's chain head: event #`seq` has hash `head_hash`.
    `note` is the signed note exactly as issued (receiptformat.checkpoint_note and
    signed_note): the receipt the employee keeps is this, plus its timestamps."""

    class Reason(models.TextChoices):
        CHANGED = "changed", "After changes to the record"
        ASKED = "asked", "Asked for"

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkpoints"
    )
    seq = models.PositiveIntegerField()
    head_hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.TextField(help_text="The signed note, as issued.")
    key_fingerprint = models.CharField(max_length=80)

    class Meta:
        ordering = ["employee", "-issued_at", "-id"]
        indexes = [models.Index(fields=["employee", "-issued_at"], name="checkpoint_latest_idx")]

    def __str__(self) -> str:
        return f"Checkpoint of #{self.seq} at {self.issued_at:%Y-%m-%d %H:%M} UTC"


@pgtrigger.register(*append_only_triggers("timestamp", "timestamps"))
class Timestamp(KeptForever):
    """An RFC 3161 timestamp of a checkpoint's note, from one timestamp authority: a time
    the operator of this server cannot set."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="timestamps")
    authority = models.URLField(max_length=300)
    authority_name = models.CharField(
        max_length=200, blank=True, help_text="The name its certificate gives, to show."
    )
    response = models.BinaryField(help_text="The authority's TimeStampResp, DER.")
    stamped_at = models.DateTimeField(help_text="The time the authority says (genTime).")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["checkpoint", "stamped_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "authority"], name="timestamp_one_per_authority"
            )
        ]

    def __str__(self) -> str:
        return f"Timestamp by {self.authority} at {self.stamped_at:%Y-%m-%d %H:%M:%S} UTC"


class ReceiptSchedule(models.Model):
    """When the employee's next checkpoint is due: set when her record changes, no sooner
    than RECEIPT_INTERVAL after the last one (changes in between share one receipt)."""

    employee = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="receipt_schedule",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    # The last checkpoint's time plus RECEIPT_INTERVAL: no new one is due before it.
    quiet_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"], condition=models.Q(due_at__isnull=False), name="receipt_due_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Next receipt for {self.employee_id} due {self.due_at}"


class ReceiptAddress(models.Model):
    """A personal email address (outside the employer) where receipts are sent, once it
    is confirmed: each receipt as it is issued, or a daily digest."""

    class Cadence(models.TextChoices):
        EACH = "each", "Each receipt as it is issued"
        DAILY = "daily", "A daily digest"

    employee = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="receipt_address"
    )
    email = models.EmailField()
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.EACH)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email


class ReceiptDelivery(models.Model):
    """One receipt (or digest) on its way to a confirmed address. The unique constraint
    makes a second email for the same checkpoint and address impossible, even in a race;
    `sent_at` is set once it went."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="deliveries")
    email = models.EmailField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "email"], name="receipt_sent_once")
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="receipt_unsent_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Receipt {self.checkpoint_id} to {self.email}"
