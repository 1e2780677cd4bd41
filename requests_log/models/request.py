"""A promotion request and what hangs off it: targets, decisions, follow-ups, evidence."""

import secrets

from django.conf import settings
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
        IN_BOUNDARY = "in_boundary", "Filed in Boundary"
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
    # 1, 2, 3… per employee: what pages and exports call it ("request #3").
    number = models.PositiveIntegerField()
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
    # Who asked, normalised, so "asked again after a decline" matches across requests
    # (flags.Declines).
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
    # Filed in Boundary: how the company will require posts to disclose the connection
    # ("#ad first, and the platform's paid-partnership label"). Logged requests leave it
    # empty; the FILED event carries it.
    disclosure_terms = models.CharField(
        "disclosure the company will require", max_length=300, blank=True
    )
    witnesses = models.CharField(max_length=500, blank=True)
    notes = models.TextField(max_length=5000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    shared_with_hr_at = models.DateTimeField(null=True, blank=True)
    # Accepted, and an accepted account has no disclosure proof yet: kept by the services
    # from the chain's rule (flags.disclosure_pending_accounts), checked by verify_chain.
    disclosure_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "number"], name="promotionrequest_unique_number"
            ),
        ]
        indexes = [
            models.Index(fields=["employee", "status", "deadline"]),
            models.Index(fields=["employee", "-occurred_at"]),
            models.Index(fields=["employee", "requester_key"]),
            models.Index(fields=["employee", "framing"]),
            models.Index(fields=["filed_by", "-occurred_at"]),
            models.Index(
                fields=["-occurred_at"],
                condition=models.Q(disclosure_pending=True),
                name="promoreq_disclosure_pend_idx",
            ),
            models.Index(
                fields=["shared_with_hr_at"],
                condition=models.Q(shared_with_hr_at__isnull=False),
                name="promoreq_shared_with_hr_idx",
            ),
            # What HR may see (access.hr_visible), by when it was asked: the HR
            # dashboard's period filter and its lists read only these rows.
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(source="filed") | models.Q(shared_with_hr_at__isnull=False),
                name="promoreq_hr_visible_idx",
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
    account = models.ForeignKey(
        SocialAccount, on_delete=models.PROTECT, related_name="request_targets"
    )
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
    accounts = models.ManyToManyField(SocialAccount, blank=True, related_name="decisions")
    # Decline: why (DeclineReason values, as many as apply).
    decline_reasons = models.JSONField(default=list, blank=True)
    # Decline: more about why; accept: other conditions; counter: the proposal.
    details = models.TextField(max_length=3000, blank=True)
    # A decline's or an acceptance's details are for the record unless the employee puts
    # them in her reply; a counter-proposal's are the reply.
    details_in_reply = models.BooleanField(default=False)
    reply_sent_at = models.DateTimeField(null=True, blank=True)
    # A request filed in Boundary: what the employee chose to tell the manager who filed
    # it. The one free text of a decision that the requester reads.
    message_to_requester = models.TextField(max_length=2000, blank=True)
    # When the requester first opened this answer in Boundary (the SEEN_BY_REQUESTER
    # event); claimed with a conditional update, so the event is appended once.
    seen_by_requester_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]
        get_latest_by = ["decided_at", "id"]
        indexes = [
            models.Index(fields=["promotion_request", "decided_at"]),
            # The declines of a person's requests (flags: "asked again after a no"): with
            # the kind in the index, and random_page_cost set for SSDs (settings.py), the
            # planner walks her requests' declines instead of scanning every decision
            # (35 ms to 3 ms for 2,000 requests among 400,000).
            models.Index(
                fields=["promotion_request", "decided_at"],
                condition=models.Q(kind="decline"),
                name="decision_decline_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.decided_at:%Y-%m-%d}"

    @property
    def decline_reason_labels(self) -> list[str]:
        return [DECLINE_REASON_LABELS.get(reason, reason) for reason in self.decline_reasons]


DECLINE_REASON_LABELS: dict[str, str] = dict(Decision.DeclineReason.choices)


class FollowUp(models.Model):
    """Something that happened after the ask: asked again, pressure, retaliation."""

    class Kind(models.TextChoices):
        ASKED_AGAIN = "asked_again", "Asked again"
        PRESSURE = "pressure", "Pressure remark"
        CONSEQUENCE = "consequence", "Consequence stated"
        RETALIATION = "retaliation", "Retaliation"
        OTHER = "other", "Other"

    promotion_request = models.ForeignKey(
        PromotionRequest, on_delete=models.PROTECT, related_name="follow_ups"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    occurred_at = models.DateTimeField("when it happened")
    who = models.CharField(max_length=120)
    what_was_said = models.TextField(max_length=5000)
    # Their words, as a quote; or the employee's own account of what happened.
    quoted = models.BooleanField(default=True)
    witnesses = models.CharField(max_length=500, blank=True)
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


class AcknowledgementLink(models.Model):
    """A one-time link the employee puts in her written reply to a requester who is not in
    Boundary: opening it and confirming appends an ACKNOWLEDGED event (proof the answer
    arrived). Only the token's SHA-256 is stored, so the table cannot be read back into
    working links."""

    VALID_FOR_DAYS = 14

    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="acknowledgement_links"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Acknowledgement link for decision {self.decision_id}"
