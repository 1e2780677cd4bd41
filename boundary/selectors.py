"""Reading people, their accounts (scoped to their owner), invitations and second factors."""

from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Invitation, SocialAccount, User


def social_accounts_in_use(*, owner: User) -> QuerySet[SocialAccount]:
    """The owner's linked accounts; archived ones stay on the record, not here."""
    return SocialAccount.objects.filter(owner=owner, archived_at__isnull=True)


def social_accounts_archived(*, owner: User) -> QuerySet[SocialAccount]:
    return SocialAccount.objects.filter(owner=owner, archived_at__isnull=False)


def people_who_may_manage() -> QuerySet[User]:
    """Who may be set as someone's manager (admin's and HR's choice, never a directory
    for employees)."""
    return User.objects.filter(
        is_active=True, role__in=[User.Role.MANAGER, User.Role.HR, User.Role.ADMIN]
    )


def invitations_pending() -> QuerySet[Invitation]:
    """Invitations not yet accepted and not expired, newest first, for HR and admins."""
    return Invitation.objects.filter(
        accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def totp_device_confirmed(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
