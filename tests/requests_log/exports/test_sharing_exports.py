"""Exports of a record with shares, a stop and HR's reads: every format verifies (the
verifier replays the sharing events like any others), and the CSV says what each was."""

import pytest

from requests_log import sharing
from requests_log.exports import verifier
from tests.factories import log_request

from .conftest import check
from .test_formats import make, make_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(maya, hr):
    """Maya shares request #1, then all she logged (#2 too), HR opens #1, and she stops
    sharing #2."""
    first = log_request(maya)
    second = log_request(maya, promoted_item="The winter range")
    sharing.promotion_requests_share(employee=maya, request_pks=[first.pk])
    sharing.promotion_requests_share(employee=maya)
    sharing.hr_view_record(viewer=hr, promotion_request_id=first.pk)
    sharing.promotion_requests_share_stop(employee=maya, request_pks=[second.pk])
    return first, second


@pytest.mark.parametrize("file_format", ["json", "csv", "pdf", "zip"])
def test_exports_with_sharing_events_verify(shared, maya, trusted, file_format):
    result = check(make(file_format, maya), trusted)

    assert result.verdict == verifier.INTACT
    assert "6 shown" in result.reason


def test_csv_says_what_was_shared_stopped_and_read(shared, maya):
    text = make_csv(maya).decode("utf-8-sig")

    assert "Shared with HR: #1" in text
    assert "Shared with HR: every request she logged: #2" in text
    assert "Opened by \u2068Hana Kim\u2069 (HR)" in text
    assert "Sharing with HR stopped for the future: #2" in text


def test_an_export_of_one_request_keeps_the_share_of_all(shared, maya, trusted):
    first, _ = shared

    result = check(make("json", maya, mode="chosen", requests=[first.pk]), trusted)

    assert result.verdict == verifier.INTACT
