"""People and roles, for admins. The role is the one source of truth: Django's staff and
superuser flags follow from it (User.apply_role) and are never edited here; a role is
changed only through services.user_role_set, by a superuser."""

from typing import cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm

from . import selectors, services
from .models import Invitation, SocialAccount, User


class PersonChangeForm(UserChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "manager" in self.fields:
            manager = cast(forms.ModelChoiceField, self.fields["manager"])
            manager.queryset = selectors.people_who_may_manage().exclude(pk=self.instance.pk)
            manager.help_text = "Someone with the manager, HR or admin role."


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PersonChangeForm
    ordering = ["email"]
    list_display = ["email", "display_name", "role", "manager", "department", "is_active"]
    list_filter = ["role", "is_active", "department"]
    search_fields = ["email", "display_name", "department"]
    list_select_related = ["manager"]
    raw_id_fields = ["manager"]
    readonly_fields = [
        "is_staff",
        "is_superuser",
        "email_verified_at",
        "last_login",
        "date_joined",
    ]
    fieldsets = (
        (None, {"fields": ("email", "password", "email_verified_at")}),
        (
            "Profile",
            {
                "fields": (
                    "display_name",
                    "job_title",
                    "department",
                    "manager",
                    "time_zone",
                    "work_country",
                    "work_state",
                )
            },
        ),
        (
            "Role and access",
            {
                "fields": ("role", "is_active", "is_staff", "is_superuser"),
                "description": "Staff and superuser follow from the role: admins are both, "
                "everyone else neither.",
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "role", "password1", "password2"),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("role")
        return fields

    def save_model(self, request, obj, form, change):
        """The role goes through the service, which sets the flags with it."""
        role = obj.role
        if change and "role" in form.changed_data:
            obj.role = form.initial["role"]
        elif not change:
            obj.apply_role(User.Role.EMPLOYEE)
        super().save_model(request, obj, form, change)
        if obj.role != role or not change:
            services.user_role_set(user=obj, role=role, by=request.user)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are made on the app's page (people/invite/), which emails the link."""

    list_display = ["email", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email"]
    list_select_related = ["invited_by"]
    list_display_links = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ListOnlyAdmin(admin.ModelAdmin):
    """A list, nothing more: no detail page (where every field would show), no adding,
    changing or deleting. Only admins (superusers) reach the admin at all."""

    list_display_links = None
    # Newest first, by the primary key's index: the models' own orderings (a reminder's
    # due time, an account's platform and handle) would sort a whole table of a million
    # reminders for every page of the list. A column's header still sorts by it.
    ordering = ["-pk"]
    # Count what the filters match, not the whole table besides on every filtered page.
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SocialAccount)
class SocialAccountAdmin(ListOnlyAdmin):
    """A list for support: what the person wrote about an account and their note on its
    boundary are theirs, so there is no detail page; changes are the person's own (and
    dated on their record)."""

    list_display = ["__str__", "owner", "boundary", "follower_count", "archived_at"]
    list_filter = ["platform", "boundary"]
    search_fields = ["handle", "owner__email"]
    list_select_related = ["owner"]
