"""Closing an account (issue 13, data rights): what a legal hold keeps, and each closing.

A closing happens in two steps (requests_log.closing). At once, in the web process: the
person can no longer sign in, and what is not kept is removed from the ordinary tables.
Later, run by the database's owner (`manage.py erase_closed_accounts`): the values in
the person's append-only timeline are erased, each replaced by its salted digest, so the
chain still verifies. The app's database role may not rewrite the timeline (least
privilege, boundary.dbroles), so the second step cannot run in a web request.
"""

from django.conf import settings
from django.db import models


class LegalHold(models.Model):
    """A hold on a person's record while a dispute or a claim may need it: closing the
    account keeps the whole record until the hold is released. Placed and released by
    an operator (`manage.py legal_hold`), on the instruction of whoever may order one."""

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.CharField(max_length=500)
    placed_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["placed_at", "id"]
        indexes = [
            models.Index(
                fields=["employee"],
                condition=models.Q(released_at__isnull=True),
                name="legalhold_in_force_idx",
            )
        ]

    def __str__(self) -> str:
        state = "released" if self.released_at else "in force"
        return f"Legal hold on user {self.employee_id} ({state})"


class AccountClosure(models.Model):
    """One person's closed account: when it closed, what it kept, and when the owner's
    erasure step erased the rest of the timeline (null: still to do, or held)."""

    employee = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="closure"
    )
    closed_at = models.DateTimeField()
    # The requests kept at closing: those shared with HR then, or all under a legal hold.
    kept_request_ids = models.JSONField(default=list)
    erased_at = models.DateTimeField(null=True, blank=True)
    events_erased = models.PositiveIntegerField(default=0)
    fields_erased = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["closed_at", "id"]
        indexes = [
            models.Index(
                fields=["closed_at"],
                condition=models.Q(erased_at__isnull=True),
                name="closure_erasure_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Account of user {self.employee_id} closed {self.closed_at:%Y-%m-%d}"
