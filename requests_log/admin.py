"""The admin manages people and roles (boundary/admin.py), not records. Nothing private
to an employee shows here: no request, timeline, decision, follow-up, evidence or
notification page, no words used, reasons, witnesses or payloads. What stays is lists of
the machinery's state for support (a reminder that failed, an export that did not
build, a verification's verdict), with no detail page and no link to a request."""

from django.contrib import admin

from boundary.admin import ListOnlyAdmin

from .models import Export, HrDigest, HrExport, Reminder, Verification


@admin.register(Reminder)
class ReminderAdmin(ListOnlyAdmin):
    """Failed reminders show here (filter by state) with their last error."""

    list_display = ["id", "employee", "kind", "number", "due_at", "state", "attempts", "last_error"]
    list_filter = ["state", "kind"]
    search_fields = ["employee__email"]
    list_select_related = ["employee"]


@admin.register(Export)
class ExportAdmin(ListOnlyAdmin):
    list_display = [
        "created_at",
        "employee",
        "format",
        "state",
        "events_shown",
        "events_withheld",
        "error",
    ]
    list_filter = ["format", "state"]
    search_fields = ["employee__email", "manifest_sha256"]
    list_select_related = ["employee"]


@admin.register(Verification)
class VerificationAdmin(ListOnlyAdmin):
    list_display = ["created_at", "verdict", "file_kind", "source", "key_fingerprint"]
    list_filter = ["verdict", "source", "file_kind"]
    search_fields = ["file_sha256", "manifest_sha256", "key_fingerprint"]


@admin.register(HrDigest)
class HrDigestAdmin(ListOnlyAdmin):
    """HR's weekly digests: a failed one shows here (filter by state) with its error."""

    list_display = ["week", "recipient", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state", "week"]
    search_fields = ["recipient__email"]
    list_select_related = ["recipient"]


@admin.register(HrExport)
class HrExportAdmin(ListOnlyAdmin):
    """Who in HR exported which period, and the file's SHA-256 (no content)."""

    list_display = ["created_at", "requested_by", "department", "date_from", "date_to", "rows"]
    search_fields = ["requested_by__email", "sha256"]
    list_select_related = ["requested_by"]
