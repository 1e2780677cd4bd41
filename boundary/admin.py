from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import SocialAccount, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "role", "department", "is_active", "is_staff"]
    list_filter = ["role", "is_active", "is_staff", "department"]
    search_fields = ["email", "display_name", "department"]
    list_select_related = ["manager"]
    raw_id_fields = ["manager"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
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
            {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups")},
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


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "boundary", "follower_count", "archived_at"]
    list_filter = ["platform", "boundary"]
    search_fields = ["handle", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
