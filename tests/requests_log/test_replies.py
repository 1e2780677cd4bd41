from datetime import date

import pytest
from django.utils import timezone

from requests_log import replies, services
from requests_log.models import Decision
from tests.factories import SocialAccountFactory, decline, log_request

pytestmark = pytest.mark.django_db


def test_reply_text_for_decline_gives_reason_and_details(employee):
    promotion_request = log_request(employee, promoted_item="the new product line")
    decision = services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.DECLINE,
        decline_reason=Decision.DeclineReason.PERSONAL_SEPARATE,
        details="The products do not fit my content either.",
    )

    text = replies.reply_text_for(decision)

    assert text == (
        "Hi Daniel,\n"
        "\n"
        "Thank you for thinking of me for the new product line. I have considered it and I "
        "will not be posting about it on my personal accounts.\n"
        "The main reason: I keep my personal life apart from work.\n"
        "The products do not fit my content either.\n"
        "I am glad to help with it in my role at work.\n"
        "\n"
        "Best regards,\n"
        "Maya Okafor"
    )


@pytest.mark.parametrize("reason", sorted(set(Decision.DeclineReason) - {"other"}))
def test_reply_text_for_decline_quotes_each_reason(employee, reason):
    promotion_request = log_request(employee)
    decision = decline(promotion_request, at=timezone.now(), reason=reason)

    text = replies.reply_text_for(decision)

    label = Decision.DeclineReason(reason).label
    assert [line for line in text.splitlines() if line.startswith("The main reason")] == [
        f"The main reason: {label}."
    ]


def test_reply_text_for_decline_with_other_reason_has_no_reason_line(employee):
    promotion_request = log_request(employee)
    decision = decline(promotion_request, at=timezone.now(), reason=Decision.DeclineReason.OTHER)

    text = replies.reply_text_for(decision)

    assert [line for line in text.splitlines() if line.startswith("The main reason")] == []


def test_reply_text_for_accept_lists_every_condition(employee):
    account = SocialAccountFactory(owner=employee, platform="instagram", handle="maya.makes")
    promotion_request = log_request(
        employee, promoted_item="the new product line", target_accounts=[account]
    )
    decision = services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.ACCEPT,
        accounts=[account],
        pay="€400 per video",
        disclosure_required=True,
        content_approval_required=True,
        ends_on=date(2025, 9, 30),
        details="No more than one post a week.",
    )

    text = replies.reply_text_for(decision)

    assert text == (
        "Hi Daniel,\n"
        "\n"
        "Thank you for asking. I am happy to post about the new product line on these "
        "conditions:\n"
        "- compensation of €400 per video\n"
        "- every post clearly discloses my connection to the company (#ad)\n"
        "- I approve the final content before it is published\n"
        "- the arrangement ends on 30 September 2025\n"
        "- it is limited to Instagram @maya.makes\n"
        "- No more than one post a week.\n"
        "Please confirm in writing that these work for you.\n"
        "\n"
        "Best regards,\n"
        "Maya Okafor"
    )


def test_reply_text_for_counter_gives_the_proposal(employee):
    promotion_request = log_request(employee, promoted_item="the new product line")
    decision = services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.COUNTER,
        details="One paid story, marked #ad.",
    )

    text = replies.reply_text_for(decision)

    assert text == (
        "Hi Daniel,\n"
        "\n"
        "Thank you for asking about the new product line. I cannot do it as asked, but I can "
        "offer this:\n"
        "One paid story, marked #ad.\n"
        "Let me know if that works for you.\n"
        "\n"
        "Best regards,\n"
        "Maya Okafor"
    )
