"""Writes to people and their linked accounts."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from requests_log.models import Decision, RequestTarget
from requests_log.reminders import reminders_reschedule_for_employee

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
# Changing these moves when reminders fall due.
REMINDER_TIMING_FIELDS = {"time_zone", "quiet_hours_start", "quiet_hours_end"}


def user_register(*, email: str, password: str, display_name: str, **profile: Any) -> User:
    return User.objects.create_user(
        email=email, password=password, display_name=display_name, **profile
    )


@transaction.atomic
def profile_update(*, user: User, **changes: Any) -> User:
    """Save profile changes; re-time pending reminders if the zone or quiet hours moved."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=list(changes))
    if REMINDER_TIMING_FIELDS & set(changes):
        reminders_reschedule_for_employee(employee=user)
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
    referenced = (
        RequestTarget.objects.filter(account=account).exists()
        or Decision.objects.filter(accounts=account).exists()
    )
    if referenced:
        account.archived_at = timezone.now()
        account.save(update_fields=["archived_at", "updated_at"])
        return True
    account.delete()
    return False
