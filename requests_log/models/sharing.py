"""What HR may read, and HR's reads: the rows that make them exactly-once.

Sharing itself is on the chain (SHARED_WITH_HR and SHARING_WITHDRAWN events);
`PromotionRequest.shared_with_hr_at` caches whether a request is shared now, kept by the
sharing services and checked by verify_chain. These tables only coalesce and claim.
"""

from django.conf import settings
from django.db import models

from .request import PromotionRequest


class HrView(models.Model):
    """One HR user's opening of one request on one day (in that HR user's time zone).
    Its unique constraint is what coalesces VIEWED_BY_HR events to one per HR user, per
    request, per day, even when two tabs open the page at once."""

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="hr_views"
    )
    day = models.DateField()
    viewed_at = models.DateTimeField()

    class Meta:
        ordering = ["viewed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["viewer", "promotion_request", "day"], name="hrview_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"Request {self.promotion_request_id} viewed by HR on {self.day}"


class HrDigest(models.Model):
    """The weekly digest of one HR user, sent at most once: the row for (recipient, week)
    is unique, and a sender claims it with a conditional update, as reminders are."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The Monday the week starts on.
    week = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    overdue_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "week"], name="hrdigest_one_per_week")
        ]

    def __str__(self) -> str:
        return f"HR digest for the week of {self.week}"


class HrExport(models.Model):
    """One HR export of a period's shared and filed requests: who, what, when, and the
    SHA-256 of the file handed out (the file itself is not kept)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    department = models.CharField(max_length=120, blank=True)
    rows = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]

    def __str__(self) -> str:
        return f"HR export {self.pk} by {self.requested_by_id}"
