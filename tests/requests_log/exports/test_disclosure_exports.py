"""Exports of a request with disclosure proof: every format verifies, the PDF shows the
proofs, what is still pending, and the rights notes chosen from where she works."""

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from requests_log import services
from requests_log.exports import fileformat, verifier
from requests_log.models import Decision, PromotionRequest
from tests.factories import SocialAccountFactory, log_request

from .conftest import check
from .test_formats import make, make_csv, make_pdf
from .test_record import pdf_text

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def proven(maya):
    """Maya works in Oregon; she accepted a required ask for Instagram and TikTok and
    proved the Instagram post."""
    maya.work_country, maya.work_state = "US", "OR"
    maya.save(update_fields=["work_country", "work_state"])
    instagram = SocialAccountFactory(owner=maya, platform="instagram", handle="maya.makes")
    tiktok = SocialAccountFactory(owner=maya, platform="tiktok", handle="mayamakes")
    promotion_request = log_request(
        maya, target_accounts=[instagram, tiktok], framing=PromotionRequest.Framing.REQUIRED
    )
    services.decision_record(
        promotion_request=promotion_request,
        decided_by=maya,
        kind=Decision.Kind.ACCEPT,
        accounts=[instagram, tiktok],
    )
    services.disclosure_proof_add(
        promotion_request=promotion_request,
        account=instagram,
        recorded_by=maya,
        post_url="https://www.instagram.com/p/abc123/",
        screenshot=SimpleUploadedFile("post.png", PNG, "image/png"),
    )
    return promotion_request


@pytest.mark.parametrize("file_format", ["json", "csv", "pdf", "zip"])
def test_exports_with_disclosure_proof_verify(proven, maya, trusted, file_format):
    result = check(make(file_format, maya), trusted)

    assert result.verdict == verifier.INTACT
    assert "4 shown" in result.reason


def test_pdf_shows_proof_pending_accounts_and_the_notes_for_oregon(proven, maya):
    data = make_pdf(maya)

    flat = " ".join(pdf_text(data).split())
    assert "Disclosure pending: no proof yet for TikTok @mayamakes." in flat
    assert "Instagram @maya.makes · proof recorded" in flat
    assert "https://www.instagram.com/p/abc123/" in flat
    assert hashlib.sha256(PNG).hexdigest() in flat.replace(" ", "")
    assert "Oregon ORS 659A.330(1)(b)" in flat
    assert "16 CFR 255.5" in flat
    assert "as of 24 November 2026" in flat
    assert "Not legal advice" in flat
    assert "Labor Code 980" not in flat  # California's note is not hers


def test_pdf_manifest_states_what_the_rights_notes_were_chosen_from(proven, maya):
    data = make_pdf(maya)

    seal_line = data.rsplit(b"\n", 2)[-2]
    assert seal_line.startswith(fileformat.PDF_SEAL_PREFIX)
    manifest = json.loads(seal_line[len(fileformat.PDF_SEAL_PREFIX) :])["manifest"]
    assert manifest["rights_notes"] == {
        "work_country": "US",
        "work_state": "OR",
        "checked": "2026-11-24",
        "notes": [
            "us-ftc-endorsements",
            "us-ftc-testimonials",
            "us-or-personal-accounts",
            "platform-instagram",
            "platform-tiktok",
            "platform-youtube",
        ],
    }


def test_csv_summarises_the_proof_event(proven, maya):
    text = make_csv(maya).decode("utf-8-sig")

    assert (
        "Disclosure proof for \u2068Instagram @maya.makes\u2069: "
        "\u2068https://www.instagram.com/p/abc123/\u2069; screenshot SHA-256 "
        + hashlib.sha256(PNG).hexdigest()
    ) in text
