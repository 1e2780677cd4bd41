"""The request page's rights notes and disclosure checklist, and recording proof."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_log import services
from requests_log.models import Decision, DisclosureProof, PromotionRequest
from tests.factories import SocialAccountFactory, UserFactory, log_request
from tests.support import plain

pytestmark = pytest.mark.django_db

# test_request_detail_query_count_is_constant's, and the disclosure proofs with their files
QUERIES_ACCEPTED_PAGE = 12

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def maya(maya, client):
    """Maya, signed in, working in the UK."""
    maya.work_country = "GB"
    maya.save(update_fields=["work_country"])
    client.force_login(maya)
    return maya


def accepted(employee, *platforms, framing=PromotionRequest.Framing.ASKED):
    accounts = [
        SocialAccountFactory(owner=employee, platform=platform, handle=f"maya.{platform}")
        for platform in platforms
    ]
    promotion_request = log_request(employee, target_accounts=accounts, framing=framing)
    services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.ACCEPT,
        accounts=accounts,
    )
    return promotion_request, accounts


def proof_url(promotion_request):
    return reverse("requests_log:disclosure-proof-create", args=[promotion_request.pk])


def test_page_shows_checklist_per_accepted_account_and_uk_rights_notes(client, maya):
    promotion_request, (instagram, tiktok) = accepted(maya, "instagram", "tiktok")

    response = client.get(promotion_request.get_absolute_url())

    checklists = response.context["checklists"]
    assert [item["account"] for item in checklists] == [instagram, tiktok]
    assert [[check.code for check in item["items"]] for item in checklists] == [
        ["in_post", "video_said_and_shown", "upfront_ad", "platform_label"],
        ["in_post", "video_said_and_shown", "upfront_ad", "platform_label"],
    ]
    assert [note.id for note in response.context["rights_notes"]] == [
        "gb-ad-label",
        "platform-instagram",
        "platform-tiktok",
    ]
    page = plain(response.content.decode())
    assert "Disclosure pending" in page
    assert "Not legal advice" in page
    assert "as of 24 November 2026" in page
    assert f'id="id_proof_{instagram.pk}_post_url"' in response.content.decode()


def test_oregon_note_on_a_required_request_before_any_answer(client, maya):
    maya.work_country, maya.work_state = "US", "OR"
    maya.save(update_fields=["work_country", "work_state"])
    promotion_request = log_request(maya, framing=PromotionRequest.Framing.REQUIRED)

    response = client.get(promotion_request.get_absolute_url())

    assert [note.id for note in response.context["rights_notes"]] == ["us-or-personal-accounts"]
    assert response.context["checklists"] == []
    assert "ORS 659A.330(1)(b)" in response.content.decode()


def test_recording_proof_for_every_account_clears_disclosure_pending(client, maya):
    promotion_request, (instagram, tiktok) = accepted(maya, "instagram", "tiktok")

    first = client.post(
        proof_url(promotion_request),
        {"account": instagram.pk, "post_url": "https://www.instagram.com/p/abc/"},
    )
    still = PromotionRequest.objects.get(pk=promotion_request.pk).disclosure_pending
    client.post(
        proof_url(promotion_request),
        {"account": tiktok.pk, "screenshot": SimpleUploadedFile("tt.png", PNG, "image/png")},
    )

    promotion_request.refresh_from_db()
    assert first.status_code == 302
    assert first["Location"] == promotion_request.get_absolute_url() + "#disclosure"
    assert still is True
    assert promotion_request.disclosure_pending is False
    proofs = DisclosureProof.objects.order_by("pk")
    assert [(p.account, p.post_url, bool(p.evidence)) for p in proofs] == [
        (instagram, "https://www.instagram.com/p/abc/", False),
        (tiktok, "", True),
    ]
    page = plain(client.get(promotion_request.get_absolute_url()).content.decode())
    assert "Disclosure proof recorded" in page
    assert "Disclosure pending" not in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"post_url": "http://www.instagram.com/p/abc/"}, "post_url", "it starts with https://"),
        ({"post_url": "not a link at all"}, "post_url", "Enter a valid URL."),
        ({}, "__all__", "Add the post's link, a screenshot, or both."),
    ],
)
def test_bad_proof_is_refused_at_its_form_and_keeps_what_was_typed(
    client, maya, data, field, message
):
    promotion_request, (instagram,) = accepted(maya, "instagram")

    response = client.post(proof_url(promotion_request), {"account": instagram.pk, **data})

    form = response.context["checklists"][0]["form"]
    assert response.status_code == 400
    assert any(message in error for error in form.errors[field])
    assert form["post_url"].value() == data.get("post_url")
    assert not DisclosureProof.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("notes.txt", b"just words", "text/plain"), "is not an image"),
        (SimpleUploadedFile("empty.png", b"", "image/png"), "The submitted file is empty."),
        (SimpleUploadedFile("setup.png", b"MZ\x90\x00" + bytes(range(256)), "image/png"), "type"),
    ],
)
def test_bad_screenshot_is_refused_and_nothing_is_kept(client, maya, upload, message):
    promotion_request, (instagram,) = accepted(maya, "instagram")

    response = client.post(
        proof_url(promotion_request),
        {
            "account": instagram.pk,
            "post_url": "https://www.instagram.com/p/abc/",
            "screenshot": upload,
        },
    )

    errors = response.context["checklists"][0]["form"].errors["screenshot"]
    assert response.status_code == 400
    assert any(message in error for error in errors)
    assert not DisclosureProof.objects.exists()
    assert not promotion_request.evidence.exists()


def test_proof_for_an_account_not_accepted_is_refused(client, maya):
    promotion_request, _ = accepted(maya, "instagram")
    youtube = SocialAccountFactory(owner=maya, platform="youtube")

    response = client.post(
        proof_url(promotion_request), {"account": youtube.pk, "post_url": "https://youtu.be/x"}
    )

    assert response.status_code == 400
    assert not DisclosureProof.objects.exists()


def test_proof_on_a_request_not_accepted_records_nothing(client, maya):
    account = SocialAccountFactory(owner=maya)
    promotion_request = log_request(maya, target_accounts=[account])

    response = client.post(
        proof_url(promotion_request), {"account": account.pk, "post_url": "https://x.com/a/1"}
    )

    assert response.status_code == 302
    assert not DisclosureProof.objects.exists()


def test_proof_on_someone_elses_request_is_not_found_and_records_nothing(client, maya):
    other = UserFactory()
    promotion_request, (instagram,) = accepted(other, "instagram")

    response = client.post(
        proof_url(promotion_request),
        {"account": instagram.pk, "post_url": "https://www.instagram.com/p/abc/"},
    )

    assert response.status_code == 404
    assert not DisclosureProof.objects.exists()


def test_dashboard_marks_accepted_requests_whose_disclosure_is_pending(client, maya):
    promotion_request, _ = accepted(maya, "instagram")

    page = plain(client.get(reverse("requests_log:my-record")).content.decode())

    assert promotion_request.promoted_item in page
    assert "Disclosure pending" in page


@pytest.mark.parametrize("platforms", [("instagram",), ("instagram", "tiktok", "youtube")])
def test_request_page_query_count_is_the_same_for_one_or_three_proven_accounts(
    client, maya, django_assert_num_queries, platforms
):
    promotion_request, accounts = accepted(maya, *platforms)
    for account in accounts:
        services.disclosure_proof_add(
            promotion_request=promotion_request,
            account=account,
            recorded_by=maya,
            post_url="https://example.com/post",
            screenshot=SimpleUploadedFile("post.png", PNG, "image/png"),
        )

    with django_assert_num_queries(QUERIES_ACCEPTED_PAGE):
        response = client.get(promotion_request.get_absolute_url())

    assert [len(item["proofs"]) for item in response.context["checklists"]] == [1] * len(platforms)
