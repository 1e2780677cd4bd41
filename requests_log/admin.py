"""Admin is for user management and support: the record itself is read-only here,
because every change must go through a service and leave a timeline event."""

from django.contrib import admin

from .models import (
    Decision,
    Evidence,
    Export,
    FollowUp,
    Notification,
    PromotionRequest,
    Reminder,
    ReminderDelivery,
    TimelineEvent,
    Verification,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PromotionRequest)
class PromotionRequestAdmin(ReadOnlyAdmin):
    list_display = ["promoted_item", "employee", "requester_name", "status", "occurred_at"]
    list_filter = ["status", "framing", "source"]
    search_fields = ["promoted_item", "requester_name", "employee__email"]
    list_select_related = ["employee"]


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "employee", "kind", "occurred_at", "recorded_at", "hash"]
    list_filter = ["kind"]
    search_fields = ["employee__email", "hash"]
    list_select_related = ["employee"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    """Failed reminders show here (filter by state) with their last error."""

    list_display = ["id", "employee", "kind", "number", "due_at", "state", "attempts", "last_error"]
    list_filter = ["state", "kind"]
    search_fields = ["employee__email"]
    list_select_related = ["employee"]


for model in (Decision, FollowUp, Evidence, ReminderDelivery, Notification):
    admin.site.register(model, ReadOnlyAdmin)


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "employee", "format", "state", "head_seq", "manifest_sha256"]
    list_filter = ["format", "state"]
    search_fields = ["employee__email", "manifest_sha256"]
    list_select_related = ["employee"]


@admin.register(Verification)
class VerificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "verdict", "file_kind", "file_name", "source", "export"]
    list_filter = ["verdict", "source", "file_kind"]
    search_fields = ["file_sha256", "manifest_sha256", "key_fingerprint"]
