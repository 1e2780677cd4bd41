"""The request page tells her what each photo's metadata says before she shares or
exports it; the export form names the photos that carry a location."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_log import evidence_privacy
from requests_log.exports.forms import ExportForm
from tests.factories import log_request
from tests.requests_log.test_imagemeta import gps_jpeg, text_png
from tests.support import plain

from .exports.conftest import PNG

pytestmark = pytest.mark.django_db


def read(page: str) -> str:
    """What a person reads: the text without tags, unescaped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", plain(page))).split())


@pytest.fixture
def signed_in(maya, client):
    client.force_login(maya)
    return client


@pytest.fixture
def photographed(maya):
    return log_request(
        maya,
        evidence_files=[
            SimpleUploadedFile("office <i>photo.jpg", gps_jpeg(), content_type="image/jpeg"),
            SimpleUploadedFile("whiteboard.png", PNG, content_type="image/png"),
            SimpleUploadedFile("notes.png", text_png(), content_type="image/png"),
        ],
    )


def test_request_page_shows_what_each_photo_carries(signed_in, photographed):
    page = signed_in.get(photographed.get_absolute_url()).content.decode()
    text = read(page)

    assert "This photo carries its GPS position (48.85840, 2.29450)" in text
    assert "the camera model (Canon EOS 80D)" in text
    assert "This photo carries text fields (Author, Comment)" in text
    # One warning per photo with metadata: the plain PNG has none.
    assert page.count('class="alert alert-warning small py-2 px-3 mt-1 mb-0 image-metadata"') == 2
    # Her file's name is escaped, in the text and in the label.
    assert "<i>photo" not in page
    assert "office &lt;i&gt;photo.jpg" in page


def test_export_form_names_the_photos_that_carry_a_location(signed_in, photographed):
    page = signed_in.get(reverse("exports:export-create")).content.decode()
    text = read(page)

    assert "These photos carry the GPS position where they were taken" in text
    assert f"office <i>photo.jpg (request #{photographed.number}): 48.85840, 2.29450" in text
    assert "whiteboard.png" not in text
    assert "notes.png" not in text  # metadata, but no location


def test_no_warning_without_metadata(signed_in, maya):
    plain_request = log_request(
        maya,
        evidence_files=[SimpleUploadedFile("whiteboard.png", PNG, content_type="image/png")],
    )
    page = signed_in.get(plain_request.get_absolute_url()).content.decode()
    assert "image-metadata" not in page
    form = signed_in.get(reverse("exports:export-create")).content.decode()
    assert "located-evidence" not in form


def test_a_missing_or_broken_file_shows_no_metadata(photographed):
    item = photographed.evidence.get(original_name="whiteboard.png")
    item.file.storage.delete(item.file.name)
    item.sha256 = "0" * 64  # not cached
    assert not evidence_privacy.metadata_of(item).has_metadata


@pytest.mark.parametrize(("file_format", "withheld"), [("zip", True), ("pdf", False)])
def test_only_a_zip_scope_withholds_photo_originals(maya, file_format, withheld):
    form = ExportForm(
        {"format": file_format, "mode": "all", "withhold": ["notes", "photo_originals"]},
        employee=maya,
    )
    assert form.is_valid(), form.errors
    assert ("photo_originals" in form.scope().withhold) is withheld
    assert "notes" in form.scope().withhold
