"""Receipts: signed checkpoints of an employee's chain, when they are issued, their
RFC 3161 timestamps (from a real authority on loopback, tests/tsa.py), where they are
sent, and what they expose when checked against an export: a rewrite or a cut tail,
even by whoever holds the database and the key."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from requests_log import timeline
from requests_log.checks import check_tsa_roots
from requests_log.exports import receiptformat, receipts, signing, tasks, verifier
from requests_log.exports import services as export_services
from requests_log.exports.record import Record, Scope
from requests_log.models import (
    Checkpoint,
    PromotionRequest,
    ReceiptAddress,
    ReceiptDelivery,
    ReceiptSchedule,
    TimelineEvent,
    Timestamp,
)
from tests.factories import log_request
from tests.tamper import cut_tail, rewrite_and_rehash
from tests.tsa import make_certificates

from .conftest import issue_receipt, receipt_bytes
from .test_formats import make_csv, make_json, make_pdf, make_zip
from .test_record import pdf_text

pytestmark = pytest.mark.django_db

ASKED, CHANGED = Checkpoint.Reason.ASKED, Checkpoint.Reason.CHANGED


def head_of(employee):
    return TimelineEvent.objects.filter(employee=employee).order_by("-seq").first()


def check(export: bytes, *named_receipts, trusted=None, tsa_roots=()):
    return verifier.check(
        io.BytesIO(export),
        receipts=[(f"r{number}.txt", data) for number, data in enumerate(named_receipts)],
        tsa_roots=list(tsa_roots),
        trusted=trusted,
    )


# --- When a checkpoint is due ------------------------------------------------------------


def test_a_change_makes_a_checkpoint_due_now_the_first_time(maya):
    log_request(maya)

    schedule = ReceiptSchedule.objects.get(employee=maya)
    assert schedule.due_at is not None
    assert schedule.due_at <= timezone.now()


def test_changes_within_the_interval_share_one_checkpoint(
    maya, settings, queued, django_capture_on_commit_callbacks
):
    settings.RECEIPT_INTERVAL = 600
    log_request(maya)
    with django_capture_on_commit_callbacks(execute=True):
        assert receipts.receipts_issue_due() == 1
    first = Checkpoint.objects.get(employee=maya)

    log_request(maya)
    log_request(maya)
    schedule = ReceiptSchedule.objects.get(employee=maya)
    with django_capture_on_commit_callbacks(execute=True):
        issued_early = receipts.receipts_issue_due()
        issued_on_time = receipts.receipts_issue_due(now=first.issued_at + timedelta(minutes=10))

    assert schedule.due_at == first.issued_at + timedelta(minutes=10)
    assert (issued_early, issued_on_time) == (0, 1)
    latest = Checkpoint.objects.filter(employee=maya).order_by("-issued_at").first()
    assert (latest.seq, latest.head_hash, latest.reason) == (
        head_of(maya).seq,
        head_of(maya).hash,
        CHANGED,
    )
    assert Checkpoint.objects.filter(employee=maya).count() == 2
    assert ReceiptSchedule.objects.get(employee=maya).due_at is None


def test_the_sweep_issues_only_what_is_due_and_each_head_once(
    maya, second_employee, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    log_request(second_employee)
    ReceiptSchedule.objects.filter(employee=second_employee).update(
        due_at=timezone.now() + timedelta(minutes=5)
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = receipts.receipts_issue_due()
        again = receipts.receipts_issue_due()

    assert (first, again) == (1, 0)
    assert list(Checkpoint.objects.values_list("employee", flat=True)) == [maya.pk]


def test_asking_signs_the_head_or_returns_the_latest_if_nothing_changed(
    maya, queued, django_capture_on_commit_callbacks
):
    assert issue_receipt(maya, capture=django_capture_on_commit_callbacks) is None  # empty record

    log_request(maya)
    first = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    same = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    nothing_new = issue_receipt(maya, CHANGED, capture=django_capture_on_commit_callbacks)

    assert first == same
    assert nothing_new is None
    assert (first.seq, first.head_hash, first.reason) == (1, head_of(maya).hash, ASKED)
    assert Checkpoint.objects.count() == 1


def test_checkpoints_and_timestamps_are_kept_as_issued(
    maya, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)

    with pytest.raises(ValidationError):
        checkpoint.save()
    with pytest.raises(ValidationError):
        Checkpoint.objects.filter(pk=checkpoint.pk).update(seq=0)
    with pytest.raises(ValidationError):
        checkpoint.delete()
    assert Checkpoint.objects.get(pk=checkpoint.pk).seq == 1


# --- The receipt's text -------------------------------------------------------------------


def test_a_receipt_is_a_signed_note_of_the_chain_head(
    maya, settings, queued, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://boundary.example.org"
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    key = signing.signing_key()

    receipt = receiptformat.read_receipt(receipts.receipt_of(checkpoint))

    origin = f"boundary.example.org/boundary/employee/{maya.pk}"
    assert receipt.note.splitlines()[:2] == [origin, "1"]
    assert bytes.fromhex(receipt.head_hash) == bytes.fromhex(head_of(maya).hash)
    assert receipt.issued_at == checkpoint.issued_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert [name for name, _, _ in receipt.signatures] == ["boundary.example.org"]
    assert verifier.signed_by(receipt, key.public_raw)
    forged = receiptformat.read_receipt(receipts.receipt_of(checkpoint).replace("\n1\n", "\n2\n"))
    assert not verifier.signed_by(forged, key.public_raw)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no signature"),
        ("a\nb\n\n— x AAAA\n", "not a Boundary checkpoint"),
        ("o\nx\nAAAA\nissued t\n\n— k AAAA\n", "cannot be read"),
        ("o\n1\n" + "A" * 43 + "=\nissued t\n\nno dash\n", "malformed"),
        ("o\n1\n" + "A" * 43 + "=\nissued t\n\n— k AAAA\n", "not an Ed25519 signature"),
    ],
)
def test_a_text_that_is_not_a_receipt_says_why(text, why):
    with pytest.raises(ValueError, match=why):
        receiptformat.read_receipt(text)


# --- Timestamps from an independent authority --------------------------------------------


def test_a_checkpoint_asks_every_authority_after_commit(
    maya, tsa, settings, queued, django_capture_on_commit_callbacks
):
    settings.RFC3161_TSA_URLS = [tsa.url, "https://tsa.example.org/tsr"]
    log_request(maya)

    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)

    assert queued["timestamp"] == [
        (checkpoint.pk, tsa.url),
        (checkpoint.pk, "https://tsa.example.org/tsr"),
    ]


def test_a_timestamp_is_kept_once_and_goes_into_the_receipt(
    maya, tsa, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)

    stamp = receipts.timestamp_fetch(checkpoint_id=checkpoint.pk, authority=tsa.url)
    again = receipts.timestamp_fetch(checkpoint_id=checkpoint.pk, authority=tsa.url)

    assert again is None
    assert len(tsa.requests) == 1
    assert abs(stamp.stamped_at - timezone.now()) < timedelta(minutes=1)
    receipt = receiptformat.read_receipt(receipts.receipt_of(checkpoint))
    assert receipt.timestamps == [bytes(stamp.response)]
    notes = verifier.timestamp_notes(receipt, [tsa.root.read_bytes()])
    assert notes == [f"timestamped by Test TSA at {stamp.stamped_at:%Y-%m-%d %H:%M:%S} UTC"]


def test_a_timestamp_over_another_text_is_refused(
    maya, tsa, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    first = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    receipts.timestamp_fetch(checkpoint_id=first.pk, authority=tsa.url)
    log_request(maya)
    second = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    grafted = receiptformat.read_receipt(receipts.receipt_of(second))
    grafted.timestamps = receiptformat.read_receipt(receipts.receipt_of(first)).timestamps

    notes = verifier.timestamp_notes(grafted, [tsa.root.read_bytes()])

    assert len(notes) == 1
    assert notes[0].startswith("a timestamp by Test TSA is refused")


def test_a_timestamp_from_an_untrusted_authority_is_refused(
    maya, tsa, tmp_path, queued, django_capture_on_commit_callbacks
):
    other = make_certificates(tmp_path, "Other TSA")[0]
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    receipts.timestamp_fetch(checkpoint_id=checkpoint.pk, authority=tsa.url)
    receipt = receiptformat.read_receipt(receipts.receipt_of(checkpoint))

    refused = verifier.timestamp_notes(receipt, [other.read_bytes()])
    unchecked = verifier.timestamp_notes(receipt, [])

    assert refused[0].startswith("a timestamp by Test TSA is refused")
    assert unchecked[0].endswith("(not checked: no authority's root certificate was given)")


def test_an_answer_that_stamps_something_else_is_not_kept(
    maya, tsa, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    first = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    receipts.timestamp_fetch(checkpoint_id=first.pk, authority=tsa.url)
    old_answer = bytes(Timestamp.objects.get(checkpoint=first).response)
    log_request(maya)
    second = issue_receipt(maya, capture=django_capture_on_commit_callbacks)

    with pytest.raises(receipts.TransientTimestampError, match="timestamped something else"):
        receipts.timestamp_fetch(
            checkpoint_id=second.pk, authority=tsa.url, post=lambda url, body: old_answer
        )
    with pytest.raises(receipts.TransientTimestampError, match="no timestamp"):
        receipts.timestamp_fetch(
            checkpoint_id=second.pk, authority=tsa.url, post=lambda url, body: b"<html>"
        )
    assert not Timestamp.objects.filter(checkpoint=second).exists()


def test_an_authority_that_cannot_be_reached_is_retried_then_given_up(
    maya, settings, monkeypatch, caplog, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    unreachable = "http://127.0.0.1:9/tsr"  # the discard port: nothing listens
    with pytest.raises(receipts.TransientTimestampError, match=re.escape(unreachable)):
        receipts.timestamp_fetch(checkpoint_id=checkpoint.pk, authority=unreachable)
    tries, post = [], receipts._post

    def counted(url, body):
        tries.append(url)
        return post(url, body)

    monkeypatch.setattr(receipts, "_post", counted)

    # Run in this process, Celery retries at once (the worker waits its countdown).
    outcome = tasks.timestamp_checkpoint.apply(args=(checkpoint.pk, unreachable))

    assert outcome.get() == "failed"
    assert len(tries) == settings.RFC3161_MAX_ATTEMPTS
    assert f"No timestamp from {unreachable} for checkpoint {checkpoint.pk}" in caplog.text
    assert not Timestamp.objects.exists()


# --- A personal address --------------------------------------------------------------------


def confirmation_link(message) -> str:
    return re.search(r"https?://\S+/receipts/confirm/\S+/", message.body).group(0)


def test_an_address_gets_receipts_only_once_confirmed(
    maya, client, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    with django_capture_on_commit_callbacks(execute=True):
        receipts.receipt_address_set(employee=maya, email="maya@home.example", cadence="each")
    link = confirmation_link(mail.outbox[0])
    issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    assert not ReceiptDelivery.objects.exists()

    opened = client.get(link)  # a mail scanner opening the link confirms nothing
    assert ReceiptAddress.objects.get(employee=maya).confirmed_at is None
    confirmed = client.post(link)

    assert opened.status_code == confirmed.status_code == 200
    assert ReceiptAddress.objects.get(employee=maya).confirmed_at is not None
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    delivery = ReceiptDelivery.objects.get()
    assert (delivery.checkpoint, delivery.email) == (checkpoint, "maya@home.example")
    assert queued["send"] == [(delivery.pk,)]


def test_a_changed_address_must_be_confirmed_again_and_old_links_stop_working(
    maya, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        receipts.receipt_address_set(employee=maya, email="maya@home.example", cadence="each")
    old_link = confirmation_link(mail.outbox[0])
    client.post(old_link)
    with django_capture_on_commit_callbacks(execute=True):
        receipts.receipt_address_set(employee=maya, email="Maya@Home.example", cadence="daily")
        receipts.receipt_address_set(employee=maya, email="maya@elsewhere.example", cadence="each")

    refused = client.post(old_link)

    address = ReceiptAddress.objects.get(employee=maya)
    assert (address.email, address.confirmed_at) == ("maya@elsewhere.example", None)
    assert refused.status_code == 400
    assert [message.to for message in mail.outbox] == [
        ["maya@home.example"],
        ["maya@elsewhere.example"],
    ]


def test_a_bad_or_old_confirmation_link_confirms_nothing(
    maya, client, settings, django_capture_on_commit_callbacks
):
    settings.RECEIPT_CONFIRMATION_MAX_AGE = 60
    with django_capture_on_commit_callbacks(execute=True):
        receipts.receipt_address_set(employee=maya, email="maya@home.example", cadence="each")
    link = confirmation_link(mail.outbox[0])

    tampered = client.post(link[:-3] + "xx/")
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        expired = client.post(link)

    assert tampered.status_code == expired.status_code == 400
    assert ReceiptAddress.objects.get(employee=maya).confirmed_at is None


def confirmed_address(employee, cadence="each"):
    return ReceiptAddress.objects.create(
        employee=employee, email="maya@home.example", cadence=cadence, confirmed_at=timezone.now()
    )


def test_a_receipt_is_sent_once_with_the_receipt_attached(
    maya, tsa, queued, django_capture_on_commit_callbacks
):
    confirmed_address(maya)
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    receipts.timestamp_fetch(checkpoint_id=checkpoint.pk, authority=tsa.url)
    delivery = ReceiptDelivery.objects.get()

    sent = [receipts.receipt_send(delivery_ids=[delivery.pk]) for _ in range(3)]

    assert sent == [1, 0, 0]
    assert len(mail.outbox) == 1
    ((name, content, kind),) = mail.outbox[0].attachments
    assert name.startswith("boundary-receipt-")
    assert kind == "application/octet-stream"  # so no mail system re-wraps its lines
    assert content == receipts.receipt_of(checkpoint).encode()
    assert receiptformat.read_receipt(content.decode()).timestamps  # the timestamp went with it
    assert ReceiptDelivery.objects.get().sent_at is not None


def test_a_failed_send_is_released_for_the_retry(maya, queued, django_capture_on_commit_callbacks):
    confirmed_address(maya)
    log_request(maya)
    issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    delivery = ReceiptDelivery.objects.get()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", _refuse)
        with pytest.raises(OSError, match="SMTP is down"):
            receipts.receipt_send(delivery_ids=[delivery.pk])
    retried = receipts.receipt_send(delivery_ids=[delivery.pk])

    assert retried == 1
    assert len(mail.outbox) == 1
    assert ReceiptDelivery.objects.get().attempts == 2


def _refuse(*args, **kwargs):
    raise ConnectionRefusedError("SMTP is down")


def test_a_daily_digest_sends_each_address_its_receipts_in_one_email(
    maya, second_employee, queued, django_capture_on_commit_callbacks
):
    confirmed_address(maya, cadence="daily")
    ReceiptAddress.objects.create(
        employee=second_employee,
        email="sam@home.example",
        cadence="each",
        confirmed_at=timezone.now(),
    )
    for _ in range(2):
        log_request(maya)
        issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    log_request(second_employee)
    issue_receipt(second_employee, capture=django_capture_on_commit_callbacks)

    sent = receipts.receipts_daily_digest()
    again = receipts.receipts_daily_digest()

    assert (sent, again) == (1, 0)
    assert [message.to for message in mail.outbox] == [["maya@home.example"]]
    assert len(mail.outbox[0].attachments) == 2
    assert queued["send"] == [(ReceiptDelivery.objects.get(email="sam@home.example").pk,)]


# --- Checking an export against receipts -----------------------------------------------------


def test_an_export_agrees_with_a_receipt_it_contains(maya, kept, trusted, tsa):
    for make in (make_json, make_csv, make_pdf, make_zip):
        result = check(make(maya), kept, trusted=trusted, tsa_roots=[tsa.root.read_bytes()])

        assert result.verdict == verifier.INTACT
        (told,) = result.receipts
        assert (told.verdict, told.seq) == (verifier.CONSISTENT, 2)
        assert told.reason == "event #2 is as it signed it: every entry up to it is unchanged"
        assert told.about.startswith("r0.txt (issued ")
        assert ", timestamped by Test TSA at " in told.about
        assert verifier.exit_code(result) == 0


def test_a_rewrite_and_rehash_by_the_owner_shows_against_a_receipt(
    maya, kept, trusted, monkeypatch
):
    first = TimelineEvent.objects.get(employee=maya, seq=1)
    rewrite_and_rehash(maya, 1, framing="asked", words_used="Only if you like.")
    assert timeline.verify_chain(employee=maya).events_checked == 3  # the hashes link up
    # Whoever rewrote it runs the server: its exports would leave out the checkpoints
    # that contradict them (test_an_export_whose_checkpoint_states_another_chain...).
    monkeypatch.setattr(Record, "anchors", lambda record: [])

    result = check(make_json(maya), kept, trusted=trusted)

    assert result.verdict == verifier.INTACT  # the server's key signs whatever it holds
    (told,) = result.receipts
    assert told.verdict == verifier.REWRITTEN
    assert told.reason == (
        "event #2 differs from what it signed: the record was rewritten at event #2 or before it"
    )
    assert verifier.exit_code(result) == 4
    assert TimelineEvent.objects.get(pk=first.pk).hash != first.hash


def test_a_cut_tail_shows_against_a_receipt(maya, kept, trusted):
    cut_tail(maya, keep=1)  # the export cannot carry the checkpoint of #2: it ends at #1

    result = check(make_json(maya), kept, trusted=trusted)

    (told,) = result.receipts
    assert told.verdict == verifier.REWRITTEN
    assert told.reason == (
        "the export, made after it, ends at event #1, before the #2 it signed: the record was cut"
    )


def test_an_export_made_before_a_receipt_says_so(
    maya, trusted, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    earlier_export = make_json(maya)
    log_request(maya)
    later_receipt = receipt_bytes(issue_receipt(maya, capture=django_capture_on_commit_callbacks))

    result = check(earlier_export, later_receipt, trusted=trusted)

    (told,) = result.receipts
    assert told.verdict == verifier.OLDER
    assert verifier.exit_code(result) == 0


def test_a_receipt_of_another_record_or_key_is_not_compared(
    maya, second_employee, kept, trusted, queued, django_capture_on_commit_callbacks
):
    log_request(second_employee)
    sams = receipt_bytes(issue_receipt(second_employee, capture=django_capture_on_commit_callbacks))
    note = receiptformat.read_receipt(kept.decode()).note
    private = Ed25519PrivateKey.generate()
    other_key = signing.SigningKey(private, private.public_key().public_bytes_raw())
    forged = other_key.sign_note(note, "boundary").encode()

    result = check(make_json(maya), sams, forged, b"\xff\xfe not text", trusted=trusted)

    verdicts = [(told.verdict, told.reason) for told in result.receipts]
    assert verdicts[0][0] == verifier.NOT_COMPARED
    assert verdicts[0][1].startswith("it is a receipt of another record")
    assert verdicts[1] == (
        verifier.NOT_RECEIPT,
        "it is not signed by the key that signed the export",
    )
    assert verdicts[2][0] == verifier.NOT_RECEIPT
    assert verdicts[2][1].startswith("it is not a Boundary receipt: 'utf-8' codec can't decode")
    assert verifier.exit_code(result) == 5


def test_receipts_are_not_compared_with_an_export_that_fails_its_own_check(maya, kept, trusted):
    damaged = make_json(maya).replace(b"The spring line", b"The spring LINE")

    result = check(damaged, kept, trusted=trusted)

    assert result.verdict == verifier.ALTERED
    assert [told.verdict for told in result.receipts] == [verifier.NOT_COMPARED]
    assert verifier.exit_code(result) == 1


# --- Exports carry their timestamped checkpoints --------------------------------------------


def test_an_export_carries_its_timestamped_checkpoints(maya, kept, trusted, tsa):
    pdf = make_pdf(maya)
    result = check(pdf, trusted=trusted, tsa_roots=[tsa.root.read_bytes()])

    assert result.verdict == verifier.INTACT
    (anchor,) = result.anchors
    assert (anchor.verdict, anchor.seq) == (verifier.CONSISTENT, 2)
    assert anchor.timestamps[0].startswith("timestamped by Test TSA at ")
    assert "Events up to #2 were signed at " in verifier.report(result)
    stamp = Timestamp.objects.get()
    text = " ".join(pdf_text(pdf).split())
    assert "Independent timestamps" in text
    assert (
        f"Events #1 to #2 · {stamp.checkpoint.head_hash[:16]}… · timestamped by Test TSA at "
        f"{stamp.stamped_at:%Y-%m-%d %H:%M:%S} UTC"
    ) in text


def test_an_export_whose_checkpoint_states_another_chain_is_altered(maya, kept, trusted):
    rewrite_and_rehash(maya, 2, promoted_item="Nothing at all")

    result = check(make_json(maya), trusted=trusted)

    assert result.verdict == verifier.ALTERED
    assert result.reason.startswith("its checkpoint of event #2 states another chain")
    assert result.where == "event #2"


def test_a_scoped_export_carries_only_checkpoints_at_positions_it_shows(maya, kept, trusted):
    chosen = PromotionRequest.objects.get(employee=maya, promoted_item="The autumn range")

    result = check(make_json(maya, mode="chosen", requests=[chosen.pk]), trusted=trusted)

    assert result.verdict == verifier.INTACT
    assert [anchor.seq for anchor in result.anchors] == [2]  # the end of a withheld run


# --- verify_chain against every checkpoint and export ---------------------------------------


def test_verify_chain_reports_a_rewrite_against_the_checkpoints(maya, kept):
    rewrite_and_rehash(maya, 1, promoted_item="Something else")

    report = timeline.verify_chain(employee=maya)

    assert not report.ok
    assert report.broken_seq == 2
    (line,) = report.contradicted
    assert re.fullmatch(
        r"the checkpoint issued \S+ \S+ UTC states event #2 as \w{16}…, the chain has "
        r"\w{16}…: rewritten after it",
        line,
    )


def test_verify_chain_reports_a_cut_tail_against_checkpoints_and_exports(maya, kept):
    export = export_services.export_request(
        employee=maya, requested_by=maya, format="json", scope=Scope()
    )
    export_services.export_build(export=export_services.export_claim(export_id=export.pk))
    export.refresh_from_db()
    assert export.head_seq == 3
    cut_tail(maya, keep=1)

    report = timeline.verify_chain(employee=maya)

    assert not report.ok
    assert report.broken_seq == 2
    assert len(report.contradicted) == 2
    checkpoint_line, export_line = report.contradicted
    assert checkpoint_line.startswith("the checkpoint issued ")
    assert checkpoint_line.endswith("states event #2, the chain ends at #1: cut after it")
    assert export_line.startswith(f"export {export.pk} (made ")
    assert export_line.endswith("states event #3, the chain ends at #1: cut after it")


def test_verify_chain_is_ok_when_the_chain_agrees_with_every_checkpoint(maya, kept):
    export = export_services.export_request(
        employee=maya, requested_by=maya, format="csv", scope=Scope()
    )
    export_services.export_build(export=export_services.export_claim(export_id=export.pk))

    report = timeline.verify_chain(employee=maya)

    assert (report.ok, report.contradicted, report.events_checked) == (True, (), 4)


# --- Configuration ----------------------------------------------------------------------------


def test_unreadable_tsa_roots_fail_the_system_check(settings, tmp_path, tsa):
    garbage = tmp_path / "root.pem"
    garbage.write_text("not a certificate")
    settings.RFC3161_TSA_ROOTS = [str(tsa.root), str(garbage), str(tmp_path / "missing.pem")]

    problems = check_tsa_roots()

    assert [problem.id for problem in problems] == ["requests_log.E001", "requests_log.E001"]
    assert str(garbage) in problems[0].msg
    assert "missing.pem" in problems[1].msg


def test_timestamps_without_roots_warn(settings, tsa):
    settings.RFC3161_TSA_ROOTS = []

    assert [problem.id for problem in check_tsa_roots()] == ["requests_log.W001"]
    settings.RFC3161_TSA_URLS = []
    assert check_tsa_roots() == []


# --- Receipt emails that got stuck -------------------------------------------------------------


def test_a_receipt_email_lost_or_left_claimed_is_queued_again(
    maya, settings, queued, django_capture_on_commit_callbacks
):
    settings.RECEIPT_EMAIL_DELAY, settings.REMINDER_QUEUE_TIMEOUT = 60, 600
    settings.REMINDER_CLAIM_TIMEOUT, settings.REMINDER_MAX_ATTEMPTS = 300, 6
    confirmed_address(maya)
    log_request(maya)
    issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    delivery = ReceiptDelivery.objects.get()
    requeued = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks.send_receipt, "delay", requeued.append)
        early = receipts.receipts_requeue_stuck()
        later = timezone.now() + timedelta(minutes=12)
        lost = receipts.receipts_requeue_stuck(now=later)
        ReceiptDelivery.objects.filter(pk=delivery.pk).update(claimed_at=later)
        claimed = receipts.receipts_requeue_stuck(now=later + timedelta(minutes=1))
        stale = receipts.receipts_requeue_stuck(now=later + timedelta(minutes=6))
        ReceiptDelivery.objects.filter(pk=delivery.pk).update(attempts=6)
        given_up = receipts.receipts_requeue_stuck(now=later + timedelta(minutes=7))

    assert (early, lost, claimed, stale, given_up) == (0, 1, 0, 1, 0)
    assert requeued == [delivery.pk, delivery.pk]


def test_a_fresh_claim_is_not_sent_twice(maya, queued, django_capture_on_commit_callbacks):
    confirmed_address(maya)
    log_request(maya)
    issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    delivery = ReceiptDelivery.objects.get()
    ReceiptDelivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now())

    assert receipts.receipt_send(delivery_ids=[delivery.pk]) == 0
    assert not mail.outbox


def test_several_receipts_narrow_down_where_a_rewrite_lies(
    maya, kept, trusted, monkeypatch, queued, django_capture_on_commit_callbacks
):
    first = receipt_bytes(Checkpoint.objects.get())  # signed at #2
    log_request(maya)
    second = receipt_bytes(issue_receipt(maya, capture=django_capture_on_commit_callbacks))
    rewrite_and_rehash(maya, 3, promoted_item="Nothing at all")
    monkeypatch.setattr(Record, "anchors", lambda record: [])

    result = check(make_json(maya), first, second, trusted=trusted)

    assert [told.verdict for told in result.receipts] == [verifier.CONSISTENT, verifier.REWRITTEN]
    assert result.receipts[1].reason == (
        "event #4 differs from what it signed: the record was rewritten at event #4 or before "
        "it, after event #2 (which r0.txt shows unchanged)"
    )
