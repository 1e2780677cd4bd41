"""Receipts end to end with real processes: beat's sweep issues the checkpoint, a Celery
worker (a subprocess) asks a real RFC 3161 authority on loopback (tests/tsa.py) for its
timestamp and emails the receipt, through Django's SMTP backend, to the SMTP server that
is the outbox (tests/requests_log/reminder_support.py). Each test has its own
redis-server, so no other test's worker can take its tasks.

Beat sweeps every second here (REMINDER_SWEEP_SECONDS), a checkpoint falls due at most
RECEIPT_INTERVAL=2 s after the last and its email goes RECEIPT_EMAIL_DELAY=2 s after it
is issued (time for the timestamp to be in it).
"""

import email
import email.message
import email.policy
import io
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from requests_log.exports import receiptformat, receipts, signing, verifier
from requests_log.models import Checkpoint, ReceiptAddress, ReceiptDelivery, TimelineEvent
from requests_log.models import Timestamp as TimestampRow
from tests.factories import log_request
from tests.requests_log.reminder_support import (
    Celery,
    OutboxMessage,
    Process,
    SMTPOutbox,
    _SMTPSession,
    database_url_for_subprocess,
    wait_for,
)

from .test_formats import make_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOME = "maya@home.example"


# --- An outbox that keeps attachments ------------------------------------------------------


class _KeepingSession(_SMTPSession):
    """The reminders' SMTP session, also keeping each whole message it received."""

    server: "ReceiptOutbox"

    def _receive(self, recipients: list[str]) -> None:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        if line == b"":
            return  # the client went away mid-message: nothing was delivered
        parsed = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.server.lock:
            self.server.whole.append(parsed)
            self.server.messages.extend(
                OutboxMessage(to=recipient, subject=str(parsed["Subject"]), body=text)
                for recipient in recipients
            )


class ReceiptOutbox(SMTPOutbox):
    def __init__(self):
        super().__init__()
        self.RequestHandlerClass = _KeepingSession
        self.whole: list[email.message.EmailMessage] = []

    def attachments(self, number: int = 0) -> list[tuple[str, bytes]]:
        """(file name, bytes as sent) of each attachment of the `number`th message."""
        with self.lock:
            message = self.whole[number]
        return [
            (part.get_filename(), part.get_payload(decode=True))
            for part in message.iter_attachments()
        ]


@pytest.fixture
def outbox():
    server = ReceiptOutbox().start()
    yield server
    server.stop()


@pytest.fixture
def celery(processes, tmp_path, redis_server, outbox, tsa):
    # The key exists before any worker starts, so workers sign with the key this test trusts.
    signing.signing_key()
    return Celery(
        processes,
        tmp_path,
        env={
            "DJANGO_ENV": "development",
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_BROKER_URL": redis_server.url,
            "EMAIL_URL": outbox.url,
            "BOUNDARY_SIGNING_KEY": str(settings.EXPORT_SIGNING_KEY),
            "EXPORTS_ROOT": str(settings.EXPORTS_ROOT),
            # The authority runs in this test process (a thread): the worker reaches it
            # on loopback.
            "RFC3161_TSA_URLS": tsa.url,
            "RFC3161_TSA_ROOTS": str(tsa.root),
            "RECEIPT_INTERVAL": "2",
            "RECEIPT_EMAIL_DELAY": "2",
            "REMINDER_SWEEP_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        },
    )


# --- Helpers ---------------------------------------------------------------------------------


def confirmed_home_address(employee) -> ReceiptAddress:
    """Her personal address, set and confirmed the way she does it: the link in the
    confirmation email (sent from this process, to Django's test outbox)."""
    receipts.receipt_address_set(employee=employee, email=HOME, cadence="each")
    (confirmation,) = mail.outbox
    token = re.search(r"/receipts/confirm/([^/\s]+)/", confirmation.body).group(1)
    address = receipts.receipt_address_confirm(token=token)
    assert address is not None
    assert address.confirmed_at is not None
    return address


def task_results(*workers: Process, task: str) -> Counter:
    """What each run of `task` returned, from the workers' logs."""
    pattern = re.compile(rf"Task requests_log\.{task}\[[^\]]+\] succeeded in \S+: (.+)$", re.M)
    return Counter(
        result.strip("'") for worker in workers for result in pattern.findall(worker.output())
    )


def let_sweeps_run(*workers: Process, count: int = 3) -> None:
    """Wait until `count` more receipt sweeps have finished: time for a duplicate to show."""
    done = task_results(*workers, task="issue_receipts").total()
    wait_for(
        lambda: task_results(*workers, task="issue_receipts").total() >= done + count,
        timeout=20,
        what=f"{count} more receipt sweeps",
    )


def head_of(employee) -> TimelineEvent:
    return TimelineEvent.objects.filter(employee=employee).order_by("-seq").first()


def assert_one_receipt_sent_home(outbox: ReceiptOutbox, employee, tsa) -> receiptformat.Receipt:
    """One checkpoint of her head, timestamped once by the authority, and one email to
    her personal address carrying it: a receipt that checks against an export."""
    checkpoint = Checkpoint.objects.get(employee=employee)
    head = head_of(employee)
    assert (checkpoint.seq, checkpoint.head_hash, checkpoint.reason) == (
        head.seq,
        head.hash,
        Checkpoint.Reason.CHANGED,
    )
    stamp = TimestampRow.objects.get(checkpoint=checkpoint)
    assert stamp.authority == tsa.url
    assert len(tsa.requests) == 1

    assert outbox.recipients() == [HOME]
    assert outbox.messages[0].subject == "Your Boundary receipt"
    assert f"up to entry #{head.seq}, issued" in outbox.messages[0].body
    ((name, sent),) = outbox.attachments()
    assert name.startswith("boundary-receipt-")
    assert name.endswith(f"-{head.seq}.txt")
    # Attached as bytes (base64), so it arrives as it was written, line ends and all.
    text = sent.decode("utf-8")
    receipt = receiptformat.read_receipt(text)
    assert text == receipts.receipt_of(checkpoint)  # the kept receipt, byte for byte
    assert (receipt.seq, receipt.head_hash) == (head.seq, head.hash)
    assert receipt.timestamps == [bytes(stamp.response)]

    # What the receipt is for: an export checked against it, its timestamp checked offline.
    result = verifier.check(
        io.BytesIO(make_json(employee)),
        receipts=[(name, sent)],
        tsa_roots=[tsa.root.read_bytes()],
        trusted={signing.signing_key().fingerprint},
    )
    (told,) = result.receipts
    assert (result.verdict, told.verdict) == (verifier.INTACT, verifier.CONSISTENT)
    assert told.timestamps[0].startswith("timestamped by Test TSA at ")

    delivery = ReceiptDelivery.objects.get()
    assert (delivery.checkpoint_id, delivery.email) == (checkpoint.pk, HOME)
    assert delivery.sent_at is not None
    return receipt


# --- Tests -----------------------------------------------------------------------------------


def test_beat_issues_the_worker_stamps_and_sends_her_receipt_exactly_once(
    celery, outbox, tsa, maya
):
    started = time.monotonic()
    confirmed_home_address(maya)
    worker = celery.worker("worker")
    beat = celery.beat("beat")
    celery.wait_ready(worker)

    log_request(maya)  # committed: her record changed, a checkpoint is due now
    logged = time.monotonic()

    wait_for(lambda: outbox.count() >= 1, timeout=20, what="the receipt email")
    arrived = time.monotonic() - logged
    let_sweeps_run(worker)

    assert_one_receipt_sent_home(outbox, maya, tsa)
    assert outbox.count() == 1
    assert Checkpoint.objects.count() == 1
    sweeps = task_results(worker, task="issue_receipts")
    assert sweeps["1"] == 1, sweeps
    assert set(sweeps) <= {"0", "1"}, sweeps
    assert task_results(worker, task="timestamp_checkpoint") == Counter({"stamped": 1})
    assert task_results(worker, task="send_receipt") == Counter({"1": 1})
    assert ReceiptDelivery.objects.get().attempts == 1
    assert "Sending due task issue-receipts" in beat.output()
    print(f"emailed {arrived:.1f} s after the change; test {time.monotonic() - started:.1f} s")


def test_a_send_the_mail_server_refuses_once_is_retried_and_arrives_once(celery, outbox, tsa, maya):
    """The mail server answers 451 (try later) to her address the first time: smtplib's
    SMTPRecipientsRefused is an OSError, which send_receipt retries after
    REMINDER_RETRY_BACKOFF."""
    started = time.monotonic()
    confirmed_home_address(maya)
    outbox.refused.add(HOME)
    worker = celery.worker("worker", REMINDER_RETRY_BACKOFF="1")
    celery.beat("beat")
    celery.wait_ready(worker)

    log_request(maya)

    wait_for(lambda: outbox.refusals >= 1, timeout=20, what="the first send", every=0.02)
    outbox.refused.discard(HOME)
    assert outbox.count() == 0
    wait_for(lambda: outbox.count() >= 1, timeout=20, what="the retried send")
    let_sweeps_run(worker)

    assert_one_receipt_sent_home(outbox, maya, tsa)
    assert (outbox.count(), outbox.refusals) == (1, 1)
    assert ReceiptDelivery.objects.get().attempts == 2
    assert "SMTPRecipientsRefused" in worker.output()
    assert task_results(worker, task="send_receipt") == Counter({"1": 1})
    print(f"refused once: {time.monotonic() - started:.1f} s")


# --- When a send is cut short, and what the mail server received ------------------------------


def _pool_child(worker: Process) -> int:
    children = Path(f"/proc/{worker.popen.pid}/task/{worker.popen.pid}/children").read_text()
    return int(children.split()[0])


@pytest.mark.parametrize("killed", ["worker", "pool-child"])
def test_worker_killed_while_sending_then_the_receipt_still_arrives_once(
    celery, outbox, tsa, maya, killed
):
    """SIGKILL in the middle of the SMTP conversation (the outbox holds it at MAIL FROM),
    after the delivery was claimed. REMINDER_CLAIM_TIMEOUT=3: the claim is stale 3 s on,
    and beat's sweep queues the receipt again (REMINDER_QUEUE_TIMEOUT=3)."""
    started = time.monotonic()
    confirmed_home_address(maya)
    outbox.hold()
    env = {"REMINDER_CLAIM_TIMEOUT": "3", "REMINDER_QUEUE_TIMEOUT": "3"}
    if killed == "worker":
        first = celery.worker("first", **env)
    else:
        first = celery.worker("first", pool="prefork", concurrency=1, **env)
    celery.beat("beat", **env)
    celery.wait_ready(first)
    log_request(maya)

    wait_for(outbox.held.is_set, timeout=20, what="the worker to start sending")
    delivery = ReceiptDelivery.objects.get()
    assert (delivery.claimed_at is not None, delivery.sent_at, delivery.attempts) == (
        True,
        None,
        1,
    )
    if killed == "worker":
        first.kill()
    else:
        os.kill(_pool_child(first), signal.SIGKILL)
    outbox.let_go()
    assert outbox.count() == 0
    survivors = [first] if killed == "pool-child" else [celery.worker("second", **env)]
    try:
        wait_for(lambda: outbox.count() >= 1, timeout=15, what="the receipt email")
        let_sweeps_run(*survivors)
        assert_one_receipt_sent_home(outbox, maya, tsa)
        assert outbox.count() == 1
    finally:
        print(f"{killed} killed: {time.monotonic() - started:.1f} s")


def test_the_receipt_as_the_mail_server_received_it_is_read_by_the_verifier(
    outbox, tsa, maya, settings, queued
):
    """No Celery: receipt_send in this process, through Django's SMTP backend, to the
    outbox. The attachment's bytes as received, unchanged, go to the verifier; and a
    copy saved with CRLF line ends (by a Windows mail client, say) reads the same."""
    confirmed_home_address(maya)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", outbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    log_request(maya)
    checkpoint = receipts.checkpoint_issue(employee=maya, reason=Checkpoint.Reason.ASKED)
    receipts.timestamp_fetch(checkpoint_id=checkpoint.pk, authority=tsa.url)
    assert receipts.receipt_send(delivery_ids=[ReceiptDelivery.objects.get().pk]) == 1

    ((name, sent),) = outbox.attachments()
    result = verifier.check(
        io.BytesIO(make_json(maya)),
        receipts=[(name, sent)],
        tsa_roots=[tsa.root.read_bytes()],
        trusted={signing.signing_key().fingerprint},
    )
    assert result.receipts[0].verdict == verifier.CONSISTENT, result.receipts[0].reason
    saved_on_windows = sent.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert receiptformat.read_receipt(saved_on_windows.decode()).note == (
        receiptformat.read_receipt(sent.decode()).note
    )
