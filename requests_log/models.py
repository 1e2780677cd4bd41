import secrets
from datetime import timedelta

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models
from django.urls import reverse

from boundary.models import SocialAccount

SINGULAR_FORMATS = {
    "videos": "video",
    "posts": "post",
    "stories": "story",
    "reviews": "review or testimonial",
}


class PromotionRequest(models.Model):
    """One ask to promote something on the employee's personal accounts.

    Its current fields are the latest corrected version; every version, and how it
    got there, is on the timeline. `status` is derived from the timeline by services.
    """

    class Channel(models.TextChoices):
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        CHAT = "chat", "Chat"
        CALL = "call", "Call"
        IN_PERSON = "in_person", "In person"
        OTHER = "other", "Other"

    class Framing(models.TextChoices):
        ASKED = "asked", "Asked (free to say no)"
        EXPECTED = "expected", "Expected"
        REQUIRED = "required", "Required"
        CONSEQUENCES = "consequences", "With stated consequences"

    class ContentFormat(models.TextChoices):
        VIDEOS = "videos", "Videos"
        POSTS = "posts", "Posts"
        STORIES = "stories", "Stories"
        REVIEWS = "reviews", "Reviews or testimonials"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        NEGOTIATING = "negotiating", "Negotiating"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    class Source(models.TextChoices):
        LOGGED_BY_EMPLOYEE = "employee", "Logged by the employee"
        FILED_IN_APP = "filed", "Filed in Boundary"

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promotion_requests"
    )
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.LOGGED_BY_EMPLOYEE
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filed_promotion_requests",
    )
    requester_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requester_name = models.CharField(max_length=120)
    requester_title = models.CharField(max_length=120, blank=True)
    # Who asked, normalised, so "asked again after a decline" matches across requests.
    requester_key = models.CharField(max_length=140, editable=False)
    occurred_at = models.DateTimeField("when it happened")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    setting = models.CharField(max_length=200, blank=True)
    words_used = models.TextField(max_length=5000, blank=True)
    promoted_item = models.CharField("what is to be promoted", max_length=300)
    target_accounts = models.ManyToManyField(
        SocialAccount, through="RequestTarget", related_name="promotion_requests"
    )
    content_format = models.CharField(
        max_length=16, choices=ContentFormat.choices, default=ContentFormat.POSTS
    )
    quantity = models.PositiveSmallIntegerField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    framing = models.CharField(max_length=16, choices=Framing.choices)
    compensation_offered = models.CharField(max_length=300, blank=True)
    witnesses = models.CharField(max_length=500, blank=True)
    notes = models.TextField(max_length=5000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Set when it was logged: an earlier request from the same requester had been declined.
    after_decline_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    shared_with_hr_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["employee", "status", "deadline"]),
            models.Index(fields=["employee", "-occurred_at"]),
            models.Index(fields=["employee", "requester_key"]),
            models.Index(fields=["employee", "framing"]),
            models.Index(fields=["filed_by", "-occurred_at"]),
            models.Index(
                fields=["shared_with_hr_at"],
                condition=models.Q(shared_with_hr_at__isnull=False),
                name="promoreq_shared_with_hr_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promoted_item} — asked by {self.requester_name}"

    def get_absolute_url(self) -> str:
        return reverse("requests_log:request-detail", args=[self.pk])

    # Still waiting for the employee's answer.
    OPEN_STATUSES = (Status.PENDING, Status.NEGOTIATING)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def what_summary(self) -> str:
        return what_is_asked(self.content_format, self.quantity, self.promoted_item)

    @property
    def requester_label(self) -> str:
        if self.requester_title:
            return f"{self.requester_name} ({self.requester_title})"
        return self.requester_name


CONTENT_FORMAT_LABELS = dict(PromotionRequest.ContentFormat.choices)


def what_is_asked(content_format: str, quantity: int | None, promoted_item: str) -> str:
    """What a request asks for, in words: "3 videos about …", "1 post about …"."""
    label = CONTENT_FORMAT_LABELS.get(content_format, content_format).lower()
    if quantity == 1:
        label = SINGULAR_FORMATS.get(content_format, label)
    count = f"{quantity} " if quantity else ""
    return f"{count}{label} about {promoted_item}"


class RequestTarget(models.Model):
    """An account a request targets, with its boundary as it was when the request was logged."""

    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="targets"
    )
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="+")
    boundary_at_request = models.CharField(max_length=16, choices=SocialAccount.Boundary.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["promotion_request", "account"], name="requesttarget_unique_account"
            )
        ]

    def __str__(self) -> str:
        return str(self.account)


class Decision(models.Model):
    """The employee's answer. A revision is a new row; earlier ones stay."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", "Accept with conditions"
        DECLINE = "decline", "Decline"
        COUNTER = "counter", "Counter-propose"

    class DeclineReason(models.TextChoices):
        PERSONAL_SEPARATE = "personal_separate", "I keep my personal life apart from work"
        CONTENT_FIT = "content_fit", "It does not fit my content"
        AUDIENCE_TRUST = "audience_trust", "It could hurt my audience's trust or my image"
        NO_TIME = "no_time", "I do not have the time"
        NOT_PAID = "not_paid", "It is unpaid work"
        OTHER = "other", "Another reason"

    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="decisions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Accept: the conditions.
    pay = models.CharField(max_length=200, blank=True)
    disclosure_required = models.BooleanField(default=False)
    content_approval_required = models.BooleanField(default=False)
    ends_on = models.DateField(null=True, blank=True)
    accounts = models.ManyToManyField(SocialAccount, blank=True, related_name="+")
    # Decline: why.
    decline_reason = models.CharField(max_length=32, choices=DeclineReason.choices, blank=True)
    # Decline: more words; counter: the proposal; accept: other conditions.
    details = models.TextField(max_length=3000, blank=True)
    reply_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]
        get_latest_by = ["decided_at", "id"]
        indexes = [models.Index(fields=["promotion_request", "decided_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.decided_at:%Y-%m-%d}"


class FollowUp(models.Model):
    """Something that happened after the ask: asked again, pressure, retaliation."""

    class Kind(models.TextChoices):
        ASKED_AGAIN = "asked_again", "Asked again"
        PRESSURE = "pressure", "Pressure remark"
        CONSEQUENCE = "consequence", "Consequence stated"
        RETALIATION = "retaliation", "Retaliation"
        OTHER = "other", "Other"

    PRESSURE_KINDS = frozenset(
        {Kind.ASKED_AGAIN, Kind.PRESSURE, Kind.CONSEQUENCE, Kind.RETALIATION}
    )

    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="follow_ups"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField("when it happened")
    who = models.CharField(max_length=120)
    what_was_said = models.TextField(max_length=5000)
    witnesses = models.CharField(max_length=500, blank=True)
    after_decline = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["promotion_request", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.who}"


def evidence_storage():
    return storages["evidence"]


def evidence_upload_to(instance: "Evidence", filename: str) -> str:
    # A random name: nothing about the file or its owner is guessable from disk.
    return f"{instance.promotion_request.employee_id}/{secrets.token_hex(16)}"


class Evidence(models.Model):
    """A file attached to a request; hashed when stored and never replaced."""

    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="evidence"
    )
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(storage=evidence_storage, upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["promotion_request", "uploaded_at"])]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("requests_log:evidence-download", args=[self.pk])


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("Timeline events are append-only.")

    def delete(self):
        raise ValidationError("Timeline events are append-only.")


@pgtrigger.register(
    pgtrigger.Protect(
        name="timelineevent_append_only", operation=pgtrigger.Update | pgtrigger.Delete
    ),
    pgtrigger.Trigger(
        name="timelineevent_no_truncate",
        when=pgtrigger.Before,
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        func="RAISE EXCEPTION 'pgtrigger: Cannot truncate the append-only timeline'; RETURN NULL;",
    ),
)
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
        WITHDRAWN = "withdrawn", "Withdrawn"
        REMINDER_SENT = "reminder_sent", "Reminder sent"
        SHARED_WITH_HR = "shared_with_hr", "Shared with HR"
        SHARING_WITHDRAWN = "sharing_withdrawn", "Sharing with HR withdrawn"
        VIEWED_BY_HR = "viewed_by_hr", "Viewed by HR"
        EXPORTED = "exported", "Exported"

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


DEADLINE_SOON = timedelta(days=3)


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


def export_storage():
    return storages["exports"]


def export_upload_to(instance: "Export", filename: str) -> str:
    return f"{instance.employee_id}/{secrets.token_hex(16)}"


class Export(models.Model):
    """One export of an employee's record: what was asked for, how far its build got,
    and the file when one was kept (until `expires_at`). Finishing one appends an
    "exported" event to the employee's timeline."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF: to read"
        CSV = "csv", "CSV: to sort in a spreadsheet"
        JSON = "json", "JSON: to verify"
        ZIP = "zip", "ZIP: all three, with the evidence files"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    format = models.CharField(max_length=8, choices=Format.choices)
    scope = models.JSONField(default=dict, help_text="What to include and what to withhold.")
    description = models.CharField(max_length=300)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    progress_note = models.CharField(max_length=200, blank=True)
    file = models.FileField(
        storage=export_storage, upload_to=export_upload_to, max_length=200, blank=True
    )
    filename = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    head_seq = models.PositiveIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    events_shown = models.PositiveIntegerField(null=True, blank=True)
    events_withheld = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    event = models.OneToOneField(
        TimelineEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["employee", "-created_at"]),
            models.Index(fields=["manifest_sha256"]),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(state="ready"),
                name="export_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} export of {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("exports:export-detail", args=[self.pk])

    @property
    def is_done(self) -> bool:
        return self.state in {self.State.READY, self.State.FAILED, self.State.EXPIRED}

    @property
    def has_file(self) -> bool:
        return self.state == self.State.READY and bool(self.file)


class Verification(models.Model):
    """One check of an uploaded export, on the public page or by `verify_record`."""

    class Verdict(models.TextChoices):
        INTACT = "intact", "Intact"
        ALTERED = "altered", "Altered"
        UNKNOWN_KEY = "unknown_key", "Signed by an unknown key"
        NOT_EXPORT = "not_export", "Not a Boundary export"

    class Source(models.TextChoices):
        PAGE = "page", "Verify page"
        COMMAND = "command", "verify_record command"

    source = models.CharField(max_length=16, choices=Source.choices)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField()
    file_sha256 = models.CharField(max_length=64)
    file_kind = models.CharField(max_length=8, blank=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    reason = models.CharField(max_length=500)
    failed_at = models.CharField(max_length=120, blank=True)
    key_fingerprint = models.CharField(max_length=80, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    # The export it checked, when the manifest is one this instance signed.
    export = models.ForeignKey(
        Export, null=True, blank=True, on_delete=models.PROTECT, related_name="verifications"
    )
    earlier_file_sha256 = models.CharField(max_length=64, blank=True)
    earlier_contained = models.BooleanField(null=True, blank=True)
    earlier_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["export", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()}: {self.file_name}"
