"""Reminders about pending decisions, their deliveries, and in-app notifications."""

from django.conf import settings
from django.db import models

from .request import PromotionRequest


class Reminder(models.Model):
    """A notice about a pending decision, due at one moment and sent at most once.

    The database is the source of truth: a sweep claims due rows and queues one send
    task each; the send task claims the row again before it sends (see reminders.py).
    """

    class Kind(models.TextChoices):
        BEFORE_DEADLINE = "before_deadline", "Before the deadline"
        ON_DEADLINE = "on_deadline", "On the deadline"
        NO_DECISION = "no_decision", "Nothing decided yet"
        CONFIRM_REPLY = "confirm_reply", "Confirm your answer in writing"
        FILED = "filed", "A request filed for you"

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (too late)"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    OPEN_STATES = (State.SCHEDULED, State.QUEUED, State.SENDING)

    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="reminders"
    )
    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminders"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    number = models.PositiveSmallIntegerField(default=1, help_text="1, 2, 3 for repeats.")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # One live reminder of each kind and number per request; rescheduling
            # cancels the old row and adds a new one.
            models.UniqueConstraint(
                fields=["promotion_request", "kind", "number"],
                condition=models.Q(state__in=["scheduled", "queued", "sending", "sent"]),
                name="reminder_unique_live",
            ),
        ]
        indexes = [
            # Exactly the due-and-unsent rows the sweep looks for.
            models.Index(
                fields=["due_at"], condition=models.Q(state="scheduled"), name="reminder_due_idx"
            ),
            # Claims to retry: queued messages lost with the broker, workers that died.
            models.Index(
                fields=["queued_at"], condition=models.Q(state="queued"), name="reminder_queued_idx"
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(state="sending"),
                name="reminder_sending_idx",
            ),
            models.Index(fields=["promotion_request", "state"]),
            models.Index(
                fields=["finished_at"],
                condition=models.Q(state="failed"),
                name="reminder_failed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.due_at:%Y-%m-%d %H:%M} UTC"


class ReminderDelivery(models.Model):
    """One effect of a reminder on one channel. The unique constraint is what makes
    a second email or notification for the same reminder impossible, even in a race."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        IN_APP = "in_app", "In Boundary"

    reminder = models.ForeignKey(Reminder, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reminder", "channel"], name="delivery_unique_channel")
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} for reminder {self.reminder_id}"


class Notification(models.Model):
    """An in-app notice (the bell)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    reminder = models.OneToOneField(
        Reminder, null=True, blank=True, on_delete=models.PROTECT, related_name="notification"
    )
    promotion_request = models.ForeignKey(
        PromotionRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.message
