"""What an export contains: redaction, spreadsheet safety, the PDF's text, and how an
earlier export is proven to be part of a later one."""

import csv
import io
import json
import subprocess
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from requests_log import services
from requests_log.exports import containerformat, fileformat, verifier
from requests_log.exports import services as export_services
from requests_log.exports.record import Scope
from requests_log.models import Export, FollowUp, TimelineEvent
from tests.factories import UserFactory, decline, log_request
from tests.support import plain

from .conftest import check, record_for
from .test_formats import csv_rows, make, make_csv, make_json, make_pdf, make_zip

pytestmark = pytest.mark.django_db


def export_now(employee, format="json", **scope) -> tuple[bytes, Export]:
    """An export made the way the app makes it: row, build, "exported" event."""
    export = export_services.export_request(
        employee=employee, requested_by=employee, format=format, scope=Scope(**scope)
    )
    export = export_services.export_claim(export_id=export.pk)
    export = export_services.export_build(export=export)
    with export.file.open("rb") as handle:
        return handle.read(), export


# --- Redaction -----------------------------------------------------------------------------


def test_withheld_field_is_absent_but_the_record_verifies(dispute, maya, trusted):
    data = make_json(maya, withhold=("witnesses",))

    result = check(data, trusted)

    assert result.verdict == verifier.INTACT
    assert b"Priya Shah" not in data
    # The request's and the follow-up's; the other request named no witness.
    assert result.chain.fields_withheld == 2
    assert "shown; 2 fields withheld, each accounted for by its hash" in result.reason


def test_withheld_request_leaves_a_visible_gap(dispute, maya, trusted):
    meeting = dispute["meeting"]

    data = make_json(maya, mode="except", requests=(meeting.pk,))

    result = check(data, trusted)
    assert result.verdict == verifier.INTACT
    assert (result.chain.shown, result.chain.withheld) == (1, 4)
    assert b"team player" not in data
    assert b"new product line" not in data
    assert b'"withheld":{"from":1,"to":4}' in data


def test_withheld_request_in_the_csv_is_one_withheld_row(dispute, maya, trusted):
    rows = csv_rows(make_csv(maya, mode="chosen", requests=(dispute["other"].pk,)))

    assert [(row[0], row[1], row[2]) for row in rows[1:-1]] == [
        ("withheld", "1", "4"),
        ("event", "5", "5"),
    ]
    assert rows[1][fileformat.COLUMN["summary"]] == "4 events withheld (outside this export)"


def test_correction_of_a_withheld_field_is_withheld_too(dispute, maya, trusted):
    services.promotion_request_correct(
        promotion_request=dispute["meeting"], actor=maya, witnesses="Priya Shah, Ana Lim"
    )

    data = make_json(maya, withhold=("witnesses",))

    assert check(data, trusted).verdict == verifier.INTACT
    assert b"Ana Lim" not in data


def test_the_flags_follow_a_corrected_pick_in_the_export_and_its_check(maya, trusted):
    """An export's flags are folded from its events (chain.Replay), as the verifier folds
    them again: after the person picked is corrected, both follow the new pick."""
    priya, daniel = UserFactory(display_name="Priya Nair"), UserFactory(display_name="Dan")
    now = timezone.now()
    first = log_request(maya, requester_user=priya, occurred_at=now - timedelta(hours=3))
    decline(first, at=now - timedelta(hours=2))
    later = log_request(maya, requester_user=daniel, occurred_at=now - timedelta(hours=1))
    services.promotion_request_correct(promotion_request=later, actor=maya, requester_user=priya)

    data = make_json(maya)

    assert check(data, trusted).verdict == verifier.INTACT
    # What the export says of the later request, folded from its events as the check does.
    assert "asked_after_decline" in [flag.code for flag in record_for(maya).flags()[later.pk]]


def test_withheld_details_are_named_in_the_pdf(dispute, maya):
    text = pdf_text(make_pdf(maya, withhold=("witnesses", "words_used")))

    assert "Priya Shah" not in text
    assert "Withheld by the employee" in text
    assert "Witnesses' names, The words used" in " ".join(text.split())


# --- Spreadsheet safety --------------------------------------------------------------------

INJECTIONS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTabbed",
    "\rReturned",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_csv_neutralises_formula_cells_and_keeps_the_value_in_the_record(maya, trusted, text):
    log_request(maya, promoted_item=text)

    rows = csv_rows(make_csv(maya))

    assert rows[1][fileformat.COLUMN["request"]] == "'" + text
    assert json.loads(rows[1][fileformat.COLUMN["values"]])["promoted_item"] == text
    assert check(make_csv(maya), trusted).verdict == verifier.INTACT


@pytest.mark.parametrize(
    "text", ["Daniel's | 50% off", "Café “quoted”, with a comma", "line one\nline two", "'kept'"]
)
def test_csv_keeps_everything_else_exactly(maya, text):
    log_request(maya, promoted_item=text)

    rows = csv_rows(make_csv(maya))

    assert rows[1][fileformat.COLUMN["request"]] == text


def test_csv_is_rfc_4180(dispute, maya):
    data = make_csv(maya)

    assert data.count(b"\r\n") == len(csv_rows(data))
    # A byte order mark first, so that Excel on Windows reads UTF-8.
    assert data.startswith(fileformat.CSV_BOM + fileformat.CSV_HEADER_LINE)
    data.decode("utf-8")


def test_csv_written_before_the_byte_order_mark_still_verifies(dispute, maya, trusted, monkeypatch):
    monkeypatch.setattr(fileformat, "CSV_BOM", b"")
    old = make_csv(maya)
    monkeypatch.undo()

    result = check(old, trusted)

    assert not old.startswith(fileformat.CSV_BOM)
    assert result.verdict == verifier.INTACT


# --- PDF -----------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    completed = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],  # noqa: S607 - poppler-utils, as in .ci/run
        input=data,
        capture_output=True,
        check=True,
    )
    return completed.stdout.decode()


def test_pdf_text_has_the_requester_the_words_the_decision_and_the_head(dispute, maya):
    data = make_pdf(maya)

    text = pdf_text(data)
    flat = " ".join(text.split())
    head = TimelineEvent.objects.filter(employee=maya).order_by("-seq").first()
    assert "Daniel Reyes (Head of Marketing)" in text
    assert "You're expected to post three videos about the new product line by Friday." in flat
    assert "Decline" in text
    assert "I keep my personal life apart from work" in flat
    assert head.hash in text.replace(" ", "").replace("\n", "")
    assert "Not a team player." in flat
    assert "not legal advice" in flat
    assert "SHA-256 " in text


def test_pdf_gives_the_text_of_each_reply_sent(dispute, maya):
    from requests_log import replies

    decision = dispute["meeting"].decisions.get()
    services.reply_mark_sent(decision=decision, actor=maya)

    flat = " ".join(pdf_text(make_pdf(maya)).split())

    reply = " ".join(replies.reply_text_for(decision).split())
    assert flat.count(reply) == 2  # with the decision, and on the timeline


def test_pdf_attachment_is_the_json_record(dispute, maya):
    data = make_pdf(maya)

    attachments = list(containerformat.embedded_files(io.BytesIO(data), 1 << 20, 1 << 26))

    record = attachments[0].read()
    assert record.startswith(fileformat.JSON_HEAD)
    assert b"Not a team player." in record


@pytest.mark.parametrize(("file_format", "reads"), [("pdf", 1), ("zip", 2)])
def test_pdf_and_zip_read_the_chain_once_per_written_file(
    dispute, maya, monkeypatch, file_format, reads
):
    from requests_log.exports.record import Record

    read = []
    event_rows = Record._event_rows
    monkeypatch.setattr(Record, "_event_rows", lambda record: read.append(1) or event_rows(record))

    make(file_format, maya)

    # A PDF lays out from the record.json it carries; a ZIP writes record.json once
    # (the PDF inside reuses it) and record.csv.
    assert len(read) == reads


def test_zip_carries_one_record_json_the_pdf_inside_attaches_too(dispute, maya):
    with zipfile.ZipFile(io.BytesIO(make_zip(maya))) as bundle:
        record_json = bundle.read("record.json")
        pdf = bundle.read("record.pdf")

    attached = list(containerformat.embedded_files(io.BytesIO(pdf), 1 << 20, 1 << 26))

    assert attached[0].read() == record_json


def test_long_pdf_is_laid_out_in_chunks_with_running_page_numbers(maya, trusted, monkeypatch):
    from requests_log.exports import pdf

    monkeypatch.setattr(pdf, "EVENTS_PER_CHUNK", 3)
    for number in range(4):
        log_request(maya, promoted_item=f"Product {number}")
    progress = []

    data = pdf.pdf_bytes(record_of(maya), progress=lambda p, note: progress.append(p))

    assert check(data, trusted).verdict == verifier.INTACT
    assert progress == sorted(progress)
    assert progress[-1] == 99
    text = pdf_text(data)
    pages = text.count("\f")
    assert f"Page {pages}" in text
    assert f"Pages {pages}" in " ".join(text.split())


def record_of(employee):
    from requests_log.exports.record import Record

    return Record(employee=employee, scope=Scope())


# --- Earlier and later exports -------------------------------------------------------------


def test_later_export_contains_the_earlier_one(dispute, maya, trusted):
    earlier, _ = export_now(maya)
    services.follow_up_add(
        promotion_request=dispute["meeting"],
        actor=maya,
        kind=FollowUp.Kind.ASKED_AGAIN,
        occurred_at=timezone.now(),
        who="Daniel Reyes",
        what_was_said="Have you thought again?",
    )
    later, _ = export_now(maya, format="csv")

    older = check(earlier, trusted)
    newer = check(later, trusted, probe_seq=older.chain.head_seq)

    prefix = verifier.compare(older, newer)
    assert prefix.contained
    assert "passes through the earlier head (event #5)" in prefix.reason


def test_later_export_that_withholds_the_earlier_head_vouches_through_its_export_event(
    dispute, maya, trusted
):
    # An event lands between the snapshot of the earlier export and its "exported" event,
    # and the later export withholds both: only the export event can vouch for the head.
    from requests_log.exports.jsonexport import json_chunks

    first = export_services.export_claim(
        export_id=export_services.export_request(
            employee=maya, requested_by=maya, format="json", scope=Scope()
        ).pk
    )
    record = export_services.export_record(first)
    log_request(maya, promoted_item="The winter range")
    sealed = []
    earlier = b"".join(json_chunks(record, sealed))
    first = export_services.export_finish(
        export=first, record=record, seal=sealed[0], size=len(earlier), sha256=""
    )
    later, _ = export_now(maya, mode="chosen", requests=(dispute["meeting"].pk,))

    older = check(earlier, trusted)
    newer = check(later, trusted, probe_seq=older.chain.head_seq)

    prefix = verifier.compare(older, newer)
    assert prefix.contained
    assert prefix.reason == (
        f"the later export's event #{first.event.seq} logs an export whose head is the earlier "
        "one's, and it is this very export"
    )


def test_exports_of_different_people_are_not_prefixes(dispute, maya, trusted):
    other = UserFactory()
    log_request(other)

    prefix = verifier.compare(check(make_json(maya), trusted), check(make_json(other), trusted))

    assert not prefix.contained
    assert prefix.reason == "they are records of different people or instances"


def test_newer_export_given_as_the_earlier_one_is_not_a_prefix(dispute, maya, trusted):
    older = make_json(maya)
    log_request(maya)
    newer = make_json(maya)

    prefix = verifier.compare(check(newer, trusted), check(older, trusted))

    assert not prefix.contained
    assert "past the later one's head" in prefix.reason


def test_rewritten_history_is_not_a_prefix(dispute, maya, trusted):
    earlier = check(make_json(maya), trusted)
    later = check(make_json(maya), trusted, probe_seq=earlier.chain.head_seq)
    later.chain.probe_hashes[earlier.chain.head_seq] = "f" * 64  # as if it had been replaced

    prefix = verifier.compare(earlier, later)

    assert not prefix.contained
    assert prefix.reason == "event #5 differs: the record was rewritten after export"


# --- The timeline --------------------------------------------------------------------------


def test_export_is_an_event_on_the_timeline(dispute, maya, trusted):
    data, export = export_now(maya, format="csv", withhold=("witnesses",))

    event = TimelineEvent.objects.filter(employee=maya).order_by("-seq").first()
    seal = json.loads(list(csv.reader(io.StringIO(data.decode())))[-1][13])
    assert event == export.event
    assert (event.kind, event.promotion_request, event.actor) == ("exported", None, maya)
    assert event.payload == {
        "actor_name": "Maya Okafor",
        "export": export.pk,
        "format": "csv",
        "scope": "every request; withheld: witnesses' names",
        "manifest_sha256": fileformat.manifest_digest(seal["manifest"]),
        "head_seq": 5,
        "head_hash": export.head_hash,
        "events_shown": 5,
        "events_withheld": 0,
        "fields_withheld": 2,
    }
    assert export.manifest_sha256 == event.payload["manifest_sha256"]


@pytest.mark.parametrize(
    ("quantity", "content_format", "asked"),
    [
        (1, "posts", "asked for 1 post about the summer sale (expected)"),
        (3, "videos", "asked for 3 videos about the summer sale (expected)"),
        (None, "reviews", "asked for reviews or testimonials about the summer sale (expected)"),
    ],
)
def test_a_logged_request_is_summed_up_as_the_request_page_says_it(
    maya, quantity, content_format, asked
):
    log_request(
        maya,
        requester_name="Daniel Reyes",
        quantity=quantity,
        content_format=content_format,
        promoted_item="the summer sale",
        framing="expected",
    )

    rows = csv.DictReader(io.StringIO(make_csv(maya).decode(), newline=""))
    logged = next(row for row in rows if row["kind"] == "logged")

    assert plain(logged["summary"]).startswith(f"Daniel Reyes {asked}. Words used: ")


def test_a_free_ask_is_summed_up_without_nested_parentheses(maya):
    log_request(maya, quantity=2, content_format="stories", framing="asked")

    rows = csv.DictReader(io.StringIO(make_csv(maya).decode(), newline=""))
    logged = next(row for row in rows if row["kind"] == "logged")

    assert "2 stories about The new product line (asked, free to say no). Words used:" in plain(
        logged["summary"]
    )


RIGHT_TO_LEFT_OVERRIDE = "\u202e"


def test_a_right_to_left_override_in_a_name_leaves_the_pdf_dates_alone(maya):
    log_request(
        maya,
        requester_name=f"Daniel {RIGHT_TO_LEFT_OVERRIDE}Reyes",
        occurred_at=timezone.now().replace(year=2025, month=11, day=23, hour=10, minute=30),
    )

    text = pdf_text(make_pdf(maya))

    meta = next(line for line in text.splitlines() if "asked by" in line)
    assert "2025-11-23" in meta, meta


def test_a_right_to_left_override_in_a_name_is_isolated_in_the_csv(maya):
    log_request(maya, requester_name=f"Daniel {RIGHT_TO_LEFT_OVERRIDE}Reyes")

    logged = next(row for row in csv_rows(make_csv(maya)) if row[8] == "logged")

    assert logged[12].startswith(f"\u2068Daniel {RIGHT_TO_LEFT_OVERRIDE}Reyes\u2069 asked for")
