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


def copies(instance: Any, count: int, **vary: Any) -> list[Any]:
    """`count` copies of a saved row in one INSERT (bulk_create): its concrete fields with
    a new id, and each field in `vary` set by a function of the copy's index (0, 1, …).
    For tests that need many rows quickly; copies get no timeline events of their own."""
    model = type(instance)
    fields = {
        field.attname: getattr(instance, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key
    }
    rows = [
        model(**{**fields, **{name: make(index) for name, make in vary.items()}})
        for index in range(count)
    ]
    return model.objects.bulk_create(rows)


def pending_requests(employee: User, count: int) -> list[PromotionRequest]:
    """`count` pending requests on `employee`'s record, each targeting a closed account
    and with a follow-up (so every list flags them): one through the services, the rest
    copied in bulk."""
    account = SocialAccountFactory(owner=employee, boundary=SocialAccount.Boundary.CLOSED)
    first = log_request(
        employee,
        target_accounts=[account],
        deadline=timezone.now() + timedelta(days=2),
    )
    follow_up = services.follow_up_add(
        promotion_request=first,
        actor=employee,
        kind="asked_again",
        occurred_at=timezone.now(),
        who="Daniel",
        what_was_said="Any news?",
    )
    top = PromotionRequest.objects.filter(employee=employee).order_by("-number").first()
    start = top.number if top else 0
    rest = copies(
        first,
        count - 1,
        number=lambda index: start + index + 1,
        promoted_item=lambda index: f"Item {index}",
        deadline=lambda index: timezone.now() + timedelta(days=index + 3),
    )
    target = first.targets.get()
    copies(target, len(rest), promotion_request_id=lambda index: rest[index].pk)
    copies(follow_up, len(rest), promotion_request_id=lambda index: rest[index].pk)
    return [first, *rest]
