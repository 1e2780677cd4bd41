from datetime import datetime, timedelta
from typing import Any

import factory
from django.utils import timezone

from boundary.models import SocialAccount, User
from requests_log import services
from requests_log.models import Decision, PromotionRequest


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password("correct horse battery staple")


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount

    owner = factory.SubFactory(UserFactory)
    platform = SocialAccount.Platform.INSTAGRAM
    handle = factory.Sequence(lambda n: f"handle.{n}")
    follower_count = 1200
    followers_as_of = factory.LazyFunction(timezone.localdate)
    boundary = SocialAccount.Boundary.OPEN


def log_request(employee: User, **overrides: Any) -> PromotionRequest:
    """Log a request through the service, so it has its timeline. The defaults raise
    no flag: a free ask, paid, no deadline, no targets."""
    details = {
        "actor": employee,
        "target_accounts": (),
        "requester_name": "Daniel Reyes",
        "requester_title": "Head of Marketing",
        "occurred_at": timezone.now() - timedelta(hours=1),
        "channel": PromotionRequest.Channel.MEETING,
        "setting": "Marketing meeting",
        "words_used": "Would you post about the new line?",
        "promoted_item": "The new product line",
        "content_format": PromotionRequest.ContentFormat.VIDEOS,
        "quantity": 3,
        "framing": PromotionRequest.Framing.ASKED,
        "compensation_offered": "€400 per video",
        **overrides,
    }
    return services.promotion_request_log(employee=employee, **details)


def decline(
    promotion_request: PromotionRequest,
    *,
    at: datetime,
    reason: str = Decision.DeclineReason.PERSONAL_SEPARATE,
) -> Decision:
    """The employee declines, at `at` (as she tells it), for `reason`."""
    return services.decision_record(
        promotion_request=promotion_request,
        decided_by=promotion_request.employee,
        kind=Decision.Kind.DECLINE,
        decided_at=at,
        decline_reasons=[reason],
    )
