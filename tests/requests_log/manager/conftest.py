"""Daniel (the `manager`) files requests to Maya (the `employee`), who has an Instagram
account closed to employer content and a TikTok account open to it."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from boundary.models import SocialAccount, User
from requests_log import services
from requests_log.models import Decision, PromotionRequest
from tests.factories import SocialAccountFactory


@pytest.fixture
def closed_account(employee) -> SocialAccount:
    return SocialAccountFactory(
        owner=employee,
        platform=SocialAccount.Platform.INSTAGRAM,
        handle="maya.makes",
        follower_count=31200,
        boundary=SocialAccount.Boundary.CLOSED,
    )


@pytest.fixture
def open_account(employee) -> SocialAccount:
    return SocialAccountFactory(
        owner=employee,
        platform=SocialAccount.Platform.TIKTOK,
        handle="mayamakes",
        follower_count=29800,
        boundary=SocialAccount.Boundary.OPEN,
    )


def file_request(manager: User, employee: User, **overrides: Any) -> PromotionRequest:
    """A paid, disclosed request, filed through the service."""
    details: dict[str, Any] = {
        "target_accounts": [],
        "promoted_item": "The autumn collection",
        "content_format": PromotionRequest.ContentFormat.VIDEOS,
        "quantity": 2,
        "deadline": timezone.now() + timedelta(days=10),
        "compensation_offered": "€400 per video",
        "disclosure_terms": "#ad first, and the paid-partnership label",
        **overrides,
    }
    return services.promotion_request_file(manager=manager, employee=employee, **details)


def accept(promotion_request: PromotionRequest, **terms: Any) -> Decision:
    """Maya accepts with conditions, a private detail and a message to Daniel."""
    values: dict[str, Any] = {
        "pay": "€500 per video",
        "disclosure_required": True,
        "content_approval_required": True,
        "details": "PRIVATE: I need the money for the roof",
        "details_in_reply": False,
        "message_to_requester": "Happy to, on these terms.",
        **terms,
    }
    return services.decision_record(
        promotion_request=promotion_request,
        decided_by=promotion_request.employee,
        kind=Decision.Kind.ACCEPT,
        **values,
    )


@pytest.fixture
def filed(manager, employee, open_account) -> PromotionRequest:
    return file_request(manager, employee, target_accounts=[open_account])
