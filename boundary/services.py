"""Writes to people and their linked accounts."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import SocialAccount, User

PROFILE_FIELDS = (
    "display_name",
    "job_title",
    "department",
    "manager",
    "time_zone",
    "work_country",
    "work_state",
    "deadline_reminders",
    "no_decision_reminders",
    "reply_reminders",
    "quiet_hours_start",
    "quiet_hours_end",
)


def user_register(*, email: str, password: str, display_name: str, **profile: Any) -> User:
    return User.objects.create_user(
        email=email, password=password, display_name=display_name, **profile
    )


def profile_update(*, user: User, **changes: Any) -> User:
    """Save profile changes. What depends on them (when reminders fall due) is the
    caller's to update: requests_log.reminders.reminders_retime_after_profile_change."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=list(changes))
    return user


def social_account_link(*, owner: User, **details: Any) -> SocialAccount:
    return SocialAccount.objects.create(owner=owner, **details)


def social_account_update(*, account: SocialAccount, **changes: Any) -> SocialAccount:
    for field, value in changes.items():
        setattr(account, field, value)
    account.save(update_fields=[*changes, "updated_at"])
    return account


@transaction.atomic
def social_account_remove(*, account: SocialAccount) -> bool:
    """Delete an account nobody referenced; archive one a request targets, so the
    record keeps pointing at it. Returns True when it was archived."""
    referenced = account.request_targets.exists() or account.decisions.exists()
    if referenced:
        account.archived_at = timezone.now()
        account.save(update_fields=["archived_at", "updated_at"])
        return True
    account.delete()
    return False
