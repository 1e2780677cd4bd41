"""Maya sees what her photo's metadata gives away before she exports it, and the ZIP she
exports holds the stripped copy and verifies."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import Page, expect

from requests_log import imagemeta
from requests_log.exports import verifier
from tests.factories import UserFactory, log_request
from tests.requests_log.test_imagemeta import gps_jpeg

from .test_exports import PASSWORD, export

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def photographed():
    maya = UserFactory(display_name="Maya Okafor", email="maya@example.com", password=PASSWORD)
    return log_request(
        maya,
        occurred_at=timezone.now() - timedelta(days=1),
        evidence_files=[
            SimpleUploadedFile("office-photo.jpg", gps_jpeg(), content_type="image/jpeg")
        ],
    )


def test_maya_sees_the_photo_metadata_and_exports_a_stripped_copy(
    desktop_page: Page, live_server, photographed, tmp_path, screenshot, check_accessibility
):
    page = desktop_page
    page.goto("/login/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(photographed.get_absolute_url() + "#evidence")
    warning = page.get_by_role("note", name="Metadata in office-photo.jpg")
    expect(warning).to_contain_text("This photo carries its GPS position (48.85840, 2.29450)")
    expect(warning).to_contain_text("the camera model (Canon EOS 80D)")
    warning.scroll_into_view_if_needed()
    screenshot(page, "request page photo metadata")
    check_accessibility(page, "request page photo metadata")

    page.get_by_role("link", name="Export this request").click()
    expect(page.locator(".located-evidence")).to_contain_text("office-photo.jpg")
    expect(page.get_by_label("Original photos that carry metadata")).to_be_checked()
    screenshot(page, "export form located photos")
    check_accessibility(page, "export form located photos")

    path = export(page, "ZIP: all three", tmp_path)
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names = bundle.namelist()
        [copy] = [name for name in names if name.startswith("stripped/")]
        assert not imagemeta.read_metadata(bundle.read(copy)).has_metadata
    assert not any(name.startswith("evidence/") for name in names)
    result = verifier.verify_file(io.BytesIO(data), trusted=None, probes=set())
    assert result.verdict in (verifier.INTACT, verifier.UNKNOWN_KEY), result.reason
