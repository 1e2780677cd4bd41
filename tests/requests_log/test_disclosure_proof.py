"""Disclosure proof per accepted account: the service, its event, the pending projection."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from boundary.models import SocialAccount
from requests_log import chain, flags, selectors, services, timeline
from requests_log.models import Decision, DisclosureProof, PromotionRequest, TimelineEvent
from tests.factories import SocialAccountFactory, log_request

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def screenshot(name="post.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def accepted_request(employee, *platforms):
    accounts = [
        SocialAccountFactory(owner=employee, platform=platform, handle=f"maya.{platform}")
        for platform in platforms
    ]
    promotion_request = log_request(employee, target_accounts=accounts)
    services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.ACCEPT,
        accounts=accounts,
        disclosure_required=True,
    )
    promotion_request.refresh_from_db()
    return promotion_request, accounts


def pending(promotion_request):
    return PromotionRequest.objects.get(pk=promotion_request.pk).disclosure_pending


def test_accepting_for_accounts_makes_disclosure_pending(employee):
    promotion_request, _ = accepted_request(employee, "instagram", "tiktok")

    assert promotion_request.disclosure_pending is True
    assert timeline.verify_chain(employee=employee).drift == ()


def test_accepting_for_no_account_leaves_nothing_pending(employee):
    promotion_request = log_request(employee)

    services.decision_record(
        promotion_request=promotion_request, decided_by=employee, kind=Decision.Kind.ACCEPT
    )

    assert pending(promotion_request) is False


def test_proof_with_link_and_screenshot_appends_evidence_then_proof_event(employee):
    promotion_request, (instagram,) = accepted_request(employee, "instagram")

    proof = services.disclosure_proof_add(
        promotion_request=promotion_request,
        account=instagram,
        recorded_by=employee,
        post_url="https://www.instagram.com/p/abc123/",
        screenshot=screenshot(),
    )

    events = list(promotion_request.events.order_by("seq"))
    assert [event.kind for event in events][-2:] == ["evidence_added", "disclosure_proof_added"]
    assert events[-1].payload == {
        "actor_name": "Maya Okafor",
        "proof": proof.pk,
        "decision": proof.decision_id,
        "account": instagram.pk,
        "account_label": "Instagram @maya.instagram",
        "post_url": "https://www.instagram.com/p/abc123/",
        "evidence": proof.evidence_id,
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }
    assert proof.evidence.sha256 == hashlib.sha256(PNG).hexdigest()
    assert pending(promotion_request) is False
    report = timeline.verify_chain(employee=employee)
    assert (report.ok, report.drift) == (True, ())


def test_pending_clears_only_when_every_accepted_account_has_proof(employee):
    promotion_request, (instagram, tiktok) = accepted_request(employee, "instagram", "tiktok")

    services.disclosure_proof_add(
        promotion_request=promotion_request,
        account=instagram,
        recorded_by=employee,
        post_url="https://www.instagram.com/p/abc123/",
    )
    after_first = pending(promotion_request)
    services.disclosure_proof_add(
        promotion_request=promotion_request,
        account=tiktok,
        recorded_by=employee,
        screenshot=screenshot("tiktok.png"),
    )

    assert (after_first, pending(promotion_request)) == (True, False)
    assert (
        selectors.promotion_requests_disclosure_pending(
            PromotionRequest.objects.filter(employee=employee)
        ).count()
        == 0
    )


def test_replay_says_what_the_projection_says(employee):
    promotion_request, (instagram, tiktok) = accepted_request(employee, "instagram", "tiktok")
    services.disclosure_proof_add(
        promotion_request=promotion_request,
        account=tiktok,
        recorded_by=employee,
        post_url="https://www.tiktok.com/@maya.tiktok/video/1",
    )
    replay = chain.Replay()

    for event in TimelineEvent.objects.filter(employee=employee).order_by("seq"):
        replay.add(
            {"kind": event.kind, "request": event.promotion_request_id, **_header(event)},
            event.payload,
        )

    facts = {item["id"]: item for item in replay.facts()}[promotion_request.pk]
    assert [proof["account"] for proof in facts["disclosure_proofs"]] == [tiktok.pk]
    assert flags.disclosure_pending_accounts(facts) == [instagram.pk]


def _header(event):
    return {
        "employee": event.employee_id,
        "seq": event.seq,
        "actor": event.actor_id,
        "occurred_at": chain.utc_iso(event.occurred_at),
    }


def test_proof_for_an_account_not_accepted_is_refused_and_stores_nothing(employee):
    promotion_request, _ = accepted_request(employee, "instagram")
    youtube = SocialAccountFactory(owner=employee, platform=SocialAccount.Platform.YOUTUBE)
    before = promotion_request.events.count()

    with pytest.raises(ValidationError, match="did not accept this request for YouTube"):
        services.disclosure_proof_add(
            promotion_request=promotion_request,
            account=youtube,
            recorded_by=employee,
            post_url="https://youtu.be/x",
        )

    assert promotion_request.events.count() == before
    assert DisclosureProof.objects.count() == 0


def test_proof_for_a_request_not_accepted_is_refused(employee):
    account = SocialAccountFactory(owner=employee)
    promotion_request = log_request(employee, target_accounts=[account])

    with pytest.raises(ValidationError, match="request you accepted"):
        services.disclosure_proof_add(
            promotion_request=promotion_request,
            account=account,
            recorded_by=employee,
            post_url="https://www.instagram.com/p/abc/",
        )


def test_proof_after_a_later_decline_is_refused_and_nothing_is_pending(employee):
    promotion_request, (instagram,) = accepted_request(employee, "instagram")
    services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.DECLINE,
        decline_reasons=["no_time"],
    )

    with pytest.raises(ValidationError):
        services.disclosure_proof_add(
            promotion_request=promotion_request,
            account=instagram,
            recorded_by=employee,
            post_url="https://www.instagram.com/p/abc/",
        )

    assert pending(promotion_request) is False
    assert timeline.verify_chain(employee=employee).drift == ()


@pytest.mark.parametrize(
    ("post_url", "message"),
    [
        ("", "link, a screenshot, or both"),
        ("http://www.instagram.com/p/abc/", "must start with https://"),
    ],
)
def test_proof_without_a_usable_link_or_screenshot_is_refused(employee, post_url, message):
    promotion_request, (instagram,) = accepted_request(employee, "instagram")

    with pytest.raises(ValidationError, match=message):
        services.disclosure_proof_add(
            promotion_request=promotion_request,
            account=instagram,
            recorded_by=employee,
            post_url=post_url,
        )

    assert pending(promotion_request) is True


def test_withdrawal_after_acceptance_clears_pending(employee):
    promotion_request, _ = accepted_request(employee, "instagram")

    services.promotion_request_withdraw(promotion_request=promotion_request, actor=employee)

    assert pending(promotion_request) is False
    assert timeline.verify_chain(employee=employee).drift == ()


def test_verify_chain_reports_an_edited_pending_column(employee):
    promotion_request, _ = accepted_request(employee, "instagram")

    PromotionRequest.objects.filter(pk=promotion_request.pk).update(disclosure_pending=False)

    drift = timeline.verify_chain(employee=employee).drift
    assert drift == (
        f"request #{promotion_request.number}: disclosure_pending in the table is False, "
        "its events say True",
    )
