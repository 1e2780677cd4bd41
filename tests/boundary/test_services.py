import pytest
from django.db import IntegrityError, transaction

from boundary import services
from boundary.models import SocialAccount
from requests_log.models import RequestTarget
from requests_log.services import decision_record
from tests.factories import SocialAccountFactory, UserFactory, log_request

pytestmark = pytest.mark.django_db


def test_account_remove_deletes_unreferenced_account():
    owner = UserFactory()
    account = SocialAccountFactory(owner=owner)
    kept = SocialAccountFactory(owner=owner)

    archived = services.social_account_remove(account=account)

    assert archived is False
    assert list(SocialAccount.objects.filter(owner=owner)) == [kept]


def test_account_remove_archives_account_a_request_targets():
    owner = UserFactory()
    account = SocialAccountFactory(owner=owner)
    promotion_request = log_request(owner, target_accounts=[account])

    archived = services.social_account_remove(account=account)

    account.refresh_from_db()
    assert archived is True
    assert account.is_archived
    assert [
        t.account for t in RequestTarget.objects.filter(promotion_request=promotion_request)
    ] == [account]


def test_account_remove_archives_account_named_only_in_a_decision():
    owner = UserFactory()
    account = SocialAccountFactory(owner=owner)
    promotion_request = log_request(owner)
    decision_record(
        promotion_request=promotion_request, decided_by=owner, kind="accept", accounts=[account]
    )

    archived = services.social_account_remove(account=account)

    account.refresh_from_db()
    assert archived is True
    assert account.is_archived


def test_account_link_same_handle_again_after_archiving():
    owner = UserFactory()
    account = SocialAccountFactory(owner=owner, platform="tiktok", handle="mayamakes")
    log_request(owner, target_accounts=[account])
    services.social_account_remove(account=account)

    relinked = services.social_account_link(owner=owner, platform="tiktok", handle="mayamakes")

    assert set(SocialAccount.objects.filter(owner=owner)) == {account, relinked}


def test_account_link_duplicate_active_handle_refused_by_database():
    owner = UserFactory()
    services.social_account_link(owner=owner, platform="instagram", handle="maya.makes")

    with pytest.raises(IntegrityError), transaction.atomic():
        services.social_account_link(owner=owner, platform="instagram", handle="Maya.Makes")

    assert SocialAccount.objects.filter(owner=owner).count() == 1


def test_account_update_changes_boundary():
    account = SocialAccountFactory(boundary=SocialAccount.Boundary.OPEN)

    services.social_account_update(
        account=account, boundary=SocialAccount.Boundary.CLOSED, boundary_note="Family only"
    )

    account.refresh_from_db()
    assert (account.boundary, account.boundary_note) == ("closed", "Family only")


def test_profile_update_refuses_non_profile_fields():
    user = UserFactory()

    with pytest.raises(TypeError):
        services.profile_update(user=user, role="hr")

    user.refresh_from_db()
    assert user.role == "employee"


def test_user_register_hashes_password():
    user = services.user_register(
        email="maya@example.com", password="a long passphrase", display_name="Maya"
    )

    assert user.check_password("a long passphrase")
    assert user.password.startswith("md5$")
