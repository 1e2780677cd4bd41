"""Reading people's accounts, scoped to their owner."""

from django.db.models import QuerySet

from .models import SocialAccount, User


def social_accounts_in_use(*, owner: User) -> QuerySet[SocialAccount]:
    """The owner's linked accounts; archived ones stay on the record, not here."""
    return SocialAccount.objects.filter(owner=owner, archived_at__isnull=True)


def social_accounts_archived(*, owner: User) -> QuerySet[SocialAccount]:
    return SocialAccount.objects.filter(owner=owner, archived_at__isnull=False)
