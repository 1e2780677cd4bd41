"""Everything an export shows comes from the chain's events (chain.Replay), never from the
tables that whoever runs the database can edit; verify_chain says where the tables drifted;
a verifier folds the events again and refuses a context that does not follow from them."""

import json

import pytest
from django.db import connection

from requests_log import timeline
from requests_log.exports import fileformat, signing, verifier
from tests.support import plain

from .conftest import check
from .test_formats import csv_rows, make_csv, make_json, make_pdf, resign
from .test_record import pdf_text

pytestmark = pytest.mark.django_db


def rewrite_the_tables(meeting) -> None:
    """What an outside test did with plain SQL: no trigger involved."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE requests_log_promotionrequest SET framing = 'asked', status = 'accepted',"
            " words_used = 'Would you like to?' WHERE id = %s",
            [meeting.pk],
        )
        cursor.execute(
            "UPDATE requests_log_decision SET kind = 'accept' WHERE promotion_request_id = %s",
            [meeting.pk],
        )


def test_verify_chain_reports_tables_that_drifted_from_the_events(dispute, maya):
    rewrite_the_tables(dispute["meeting"])

    report = timeline.verify_chain(employee=maya)

    assert not report.ok
    number = dispute["meeting"].number
    assert set(report.drift) == {
        f"request #{number}: framing in the table is 'asked', its events say 'expected'",
        f"request #{number}: status in the table is 'accepted', its events say 'declined'",
        f"request #{number}: words_used in the table is 'Would you like to?', its events say "
        '"You\'re expected to post three videos about the new product line by Friday."',
        f"request #{number}: its decisions in the tables differ from its events",
    }


def test_exports_show_what_the_events_say_not_the_edited_tables(dispute, maya, trusted):
    rewrite_the_tables(dispute["meeting"])

    pdf = " ".join(plain(pdf_text(make_pdf(maya))).split())
    record = make_json(maya)
    context = json.loads(record.split(b"\n")[1][len(b'"context":') : -1])
    meeting = next(item for item in context["requests"] if item["id"] == dispute["meeting"].pk)
    logged = next(row for row in csv_rows(make_csv(maya)) if row[8] == "logged")

    assert (meeting["status"], meeting["framing"]) == ("declined", "expected")
    assert [decision["kind"] for decision in meeting["decisions"]] == ["decline"]
    assert "Declined" in pdf
    assert "Accepted" not in pdf
    assert "Would you like to?" not in pdf
    assert "Accept with conditions" not in pdf
    assert "Would you like to?" not in plain(logged[12])
    assert check(record, trusted).verdict == verifier.INTACT


def test_a_context_rewritten_and_signed_again_is_altered(dispute, maya, trusted):
    """Even signed with the instance's own key, a context that its entries do not say
    is refused: the verifier folds the entries itself."""
    lines = make_json(maya).split(b"\n")
    context = json.loads(lines[1][len(b'"context":') : -1])
    for item in context["requests"]:
        item["status"] = "accepted"
    lines[1] = b'"context":' + fileformat.chain.canonical_bytes(context) + b","
    body = b"\n".join(lines[:-2]) + b"\n"
    seal = json.loads(lines[-2][len(b'"seal":') : -1])
    seal["manifest"]["body_sha256"] = fileformat.sha256_hex(body)
    key = signing.signing_key().private_key
    forged = body + b'"seal":' + fileformat.chain.canonical_bytes(resign(seal, key)) + b"}\n"

    result = check(forged, trusted)

    assert (result.verdict, result.where) == (verifier.ALTERED, "context")
    assert "does not follow from its events" in result.reason


def test_a_version_1_export_still_verifies(dispute, maya, trusted, monkeypatch):
    """Files made before contexts were folded from the events (their context is not
    checked, and the verdict says so only by their version)."""
    monkeypatch.setattr(fileformat, "VERSION", 1)
    monkeypatch.setattr(fileformat, "JSON_HEAD", fileformat.JSON_HEADS[1])
    old = make_json(maya)
    monkeypatch.undo()

    result = check(old, trusted)

    assert old.startswith(fileformat.JSON_HEADS[1])
    assert (result.verdict, result.manifest["version"]) == (verifier.INTACT, 1)
