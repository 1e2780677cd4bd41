from datetime import date

import pytest
from django.utils import timezone

from requests_log import replies, services
from requests_log.models import Decision
from tests.factories import SocialAccountFactory, decline, log_request

pytestmark = pytest.mark.django_db
Reason = Decision.DeclineReason


def answer(employee, kind, title="the new product line", **terms):
    promotion_request = log_request(employee, promoted_item=title)
    return services.decision_record(
        promotion_request=promotion_request, decided_by=employee, kind=kind, **terms
    )


def test_reply_to_a_decline_gives_the_reasons_in_one_sentence(employee):
    decision = answer(
        employee,
        Decision.Kind.DECLINE,
        decline_reasons=[Reason.PERSONAL_SEPARATE, Reason.CONTENT_FIT],
        details="Between us: I also think the products are overpriced.",
    )

    text = replies.reply_text_for(decision)

    assert text == (
        "Hi Daniel,\n"
        "\n"
        "About your request “the new product line”: thank you for thinking of me. I have "
        "considered it, and I will not post about it on my personal accounts.\n"
        "I keep my personal life apart from work, and it does not fit my content.\n"
        "I am glad to help with it in my role at work.\n"
        "\n"
        "Best regards,\n"
        "Maya Okafor"
    )


def test_reply_to_a_decline_carries_the_details_only_when_she_chose_to(employee):
    details = "The products do not fit my audience of ceramicists."
    kept = answer(
        employee, Decision.Kind.DECLINE, decline_reasons=[Reason.NO_TIME], details=details
    )
    shared = answer(
        employee,
        Decision.Kind.DECLINE,
        decline_reasons=[Reason.NO_TIME],
        details=details,
        details_in_reply=True,
    )

    assert details not in replies.reply_text_for(kept)
    assert f"I do not have the time.\n{details}\n" in replies.reply_text_for(shared)


@pytest.mark.parametrize(
    "title",
    ["The company's new product line", "Holiday campaign post", "  spring sale (3 reels) "],
)
def test_reply_names_any_title_in_quotes_not_mid_sentence(employee, title):
    decision = answer(employee, Decision.Kind.DECLINE, title, decline_reasons=[Reason.NO_TIME])

    text = replies.reply_text_for(decision)

    assert text.splitlines()[2].startswith(f"About your request “{title.strip()}”: thank you")


def test_reply_with_three_reasons_lists_them_with_a_final_and(employee):
    decision = answer(
        employee,
        Decision.Kind.DECLINE,
        decline_reasons=[Reason.CONTENT_FIT, Reason.NO_TIME, Reason.NOT_PAID],
    )

    lines = replies.reply_text_for(decision).splitlines()

    assert lines[3] == (
        "It does not fit my content, I do not have the time, and it is unpaid work."
    )


@pytest.mark.parametrize("reason", sorted(set(Reason) - {"other"}))
def test_reply_to_a_decline_gives_each_reason_as_a_sentence(employee, reason):
    promotion_request = log_request(employee)
    decision = decline(promotion_request, at=timezone.now(), reason=reason)

    lines = replies.reply_text_for(decision).splitlines()

    assert lines[3] == f"{Reason(reason).label}."


def test_reply_to_a_decline_for_another_reason_gives_no_reason(employee):
    promotion_request = log_request(employee)
    decision = decline(promotion_request, at=timezone.now(), reason=Reason.OTHER)

    lines = replies.reply_text_for(decision).splitlines()

    assert lines[3] == "I am glad to help with it in my role at work."


def test_reply_to_an_acceptance_lists_every_condition(employee):
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
        details_in_reply=True,
    )

    text = replies.reply_text_for(decision)

    assert text == (
        "Hi Daniel,\n"
        "\n"
        "About your request “the new product line”: thank you for asking. I am happy to post "
        "about it on these conditions:\n"
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


def test_reply_to_an_acceptance_without_conditions_says_so_plainly(employee):
    decision = answer(employee, Decision.Kind.ACCEPT, details="Note to self: ask for pay later")

    lines = replies.reply_text_for(decision).splitlines()

    assert lines[2] == (
        "About your request “the new product line”: thank you for asking. I am happy to post "
        "about it."
    )
    assert "Note to self" not in "\n".join(lines)


def test_reply_to_a_counter_proposal_is_the_proposal(employee):
    decision = answer(employee, Decision.Kind.COUNTER, details="One paid story, marked #ad.")

    text = replies.reply_text_for(decision)

    assert text == (
        "Hi Daniel,\n"
        "\n"
        "About your request “the new product line”: thank you for asking. I cannot do it as "
        "asked, but I can offer this:\n"
        "One paid story, marked #ad.\n"
        "Let me know if that works for you.\n"
        "\n"
        "Best regards,\n"
        "Maya Okafor"
    )
