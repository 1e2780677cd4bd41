"""The employee's append-only, hash-chained timeline."""

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .request import PromotionRequest


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Timeline events are append-only.")

    def delete(self):
        raise ValidationError("Timeline events are append-only.")


def append_only_triggers(name: str, what: str) -> tuple[pgtrigger.Trigger, ...]:
    """The triggers that refuse UPDATE, DELETE and TRUNCATE of an append-only table, even
    to its owner (who can only get past them knowingly, with pgtrigger.ignore). List the
    model in settings.APPEND_ONLY_MODELS too, so the app's role gets no such privilege."""
    return (
        pgtrigger.Protect(
            name=f"{name}_append_only", operation=pgtrigger.Update | pgtrigger.Delete
        ),
        pgtrigger.Trigger(
            name=f"{name}_no_truncate",
            when=pgtrigger.Before,
            operation=pgtrigger.Truncate,
            level=pgtrigger.Statement,
            func=(
                f"RAISE EXCEPTION 'pgtrigger: Cannot truncate the append-only {what}'; RETURN NULL;"
            ),
        ),
    )


@pgtrigger.register(*append_only_triggers("timelineevent", "timeline"))
class TimelineEvent(models.Model):
    """One entry in an employee's hash-chained, append-only history.

    `hash` covers the header fields and a salted digest of each payload field (see
    requests_log.chain), so an export can withhold one field and still verify.
    """

    class Kind(models.TextChoices):
        LOGGED = "logged", "Logged"
        FILED = "filed", "Filed in Boundary"
        CORRECTED = "corrected", "Detail corrected"
        FOLLOW_UP = "follow_up", "Follow-up"
        EVIDENCE_ADDED = "evidence_added", "Evidence added"
        DECISION = "decision", "Decision"
        REPLY_SENT = "reply_sent", "Reply sent"
        SEEN_BY_REQUESTER = "seen_by_requester", "Seen by the requester"
        ACKNOWLEDGED = "acknowledged", "Receipt acknowledged"
        WITHDRAWN = "withdrawn", "Withdrawn"
        DISCLOSURE_PROOF_ADDED = "disclosure_proof_added", "Disclosure proof added"
        REMINDER_SENT = "reminder_sent", "Reminder sent"
        SHARED_WITH_HR = "shared_with_hr", "Shared with HR"
        SHARING_WITHDRAWN = "sharing_withdrawn", "Sharing with HR withdrawn"
        VIEWED_BY_HR = "viewed_by_hr", "Viewed by HR"
        EXPORTED = "exported", "Exported"
        ACCOUNT_LINKED = "account_linked", "Account linked"
        ACCOUNT_CHANGED = "account_changed", "Account or boundary changed"
        ACCOUNT_REMOVED = "account_removed", "Account removed"

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="timeline_events"
    )
    seq = models.PositiveIntegerField(help_text="Position in the employee's chain, from 1.")
    promotion_request = models.ForeignKey(
        PromotionRequest, null=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(help_text="When it happened, as told.")
    recorded_at = models.DateTimeField(help_text="When Boundary stored it.")
    payload = models.JSONField(default=dict)
    salt = models.CharField(max_length=64, editable=False)
    # Each payload field's salt, derived from `salt` (chain.field_salts) and stored at
    # append as canonical JSON text: exports reveal every shown field's salt, and
    # deriving them again costs more than the rest of writing a long CSV. verify_chain
    # checks they still match `salt`.
    field_salts = models.TextField(editable=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["employee", "seq"], name="timelineevent_unique_seq"),
        ]
        indexes = [
            models.Index(fields=["promotion_request", "seq"]),
            models.Index(fields=["employee", "kind", "recorded_at"]),
            # Events that belong to no request (exports), which every export shows.
            models.Index(
                fields=["employee", "seq"],
                condition=models.Q(promotion_request__isnull=True),
                name="timelineevent_employee_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ValidationError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Timeline events are append-only.")
