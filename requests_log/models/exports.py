"""Exports of an employee's record and checks of uploaded exports."""

import secrets

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.urls import reverse

from .timeline import TimelineEvent


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

    @property
    def why_no_file(self) -> str:
        """Why this export cannot be downloaded (again), in a few words; "" if it can."""
        if self.has_file:
            return ""
        if self.state == self.State.READY:
            return "Sent to your browser when you made it, not kept. Export again for a copy."
        if self.state == self.State.EXPIRED:
            return "Kept for a week, then deleted. Export again for a copy."
        if self.state == self.State.FAILED:
            return "It could not be built; nothing was added to your record."
        return "Being built: it can be downloaded when it is ready."


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


def verification_job_token() -> str:
    return secrets.token_urlsafe(32)


class VerificationJob(models.Model):
    """A large upload to the verify page, checked by a Celery worker instead of the web
    process (EXPORT_VERIFY_INLINE_MAX_BYTES). Its page is reached only through `token`,
    a random 256-bit value, never the id. The uploads wait in the exports storage under
    verify-jobs/ and are deleted once checked; `result` is the verifier's answer as the
    worker pickled it (written only by the worker, never from a request)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Being checked"
        DONE = "done", "Checked"
        FAILED = "failed", "Could not be checked"

    token = models.CharField(max_length=64, unique=True, default=verification_job_token)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    progress_note = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField()
    upload = models.CharField(max_length=255)  # the export, in the exports storage
    earlier_upload = models.CharField(max_length=255, blank=True)
    receipts = models.JSONField(default=list, blank=True)  # [[name, base64], ...]
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    result = models.BinaryField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_state_display()}: {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("exports:verify-job", args=[self.token])

    @property
    def is_done(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
