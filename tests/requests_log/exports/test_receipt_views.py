"""The receipts page, and receipts given to the three verifiers: the verify page,
`manage.py verify_record --receipt` and the stand-alone script."""

import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from requests_log.exports import signing
from requests_log.models import Checkpoint, ReceiptAddress
from tests.factories import log_request
from tests.tamper import rewrite_and_rehash

from .conftest import issue_receipt, receipt_bytes, run_standalone
from .test_formats import make_json, make_zip
from .test_views import upload

pytestmark = pytest.mark.django_db

HOME = "maya@home.example"


@pytest.fixture
def signed_in(client, maya):
    client.force_login(maya)
    return client


# --- The receipts page ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 30])
def test_receipt_list_query_count_is_constant(signed_in, maya, count, django_assert_num_queries):
    log_request(maya)
    head = maya.timeline_events.get()
    Checkpoint.objects.bulk_create(
        Checkpoint(
            employee=maya,
            seq=1,
            head_hash=head.hash,
            issued_at=timezone.now(),
            reason=Checkpoint.Reason.ASKED,
            note="n",
            key_fingerprint="k",
        )
        for _ in range(count)
    )

    # session, user, address, count, page of checkpoints, their timestamps, notifications
    with django_assert_num_queries(7):
        response = signed_in.get(reverse("exports:receipt-list"))

    assert len(response.context["page_obj"].object_list) == min(count, 25)


def test_receipt_list_shows_the_latest_receipt_and_each_one(
    signed_in, maya, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    first = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    log_request(maya)
    latest = issue_receipt(maya, capture=django_capture_on_commit_callbacks)

    page = signed_in.get(reverse("exports:receipt-list")).content.decode()

    assert "Latest receipt" in page
    assert f"Entries #1 to #{latest.seq}" in page
    assert latest.head_hash in page
    assert page.count(reverse("exports:receipt-download", args=[first.pk])) == 1
    assert page.count(reverse("exports:receipt-download", args=[latest.pk])) == 2


def test_asking_for_a_receipt_makes_one(
    signed_in, maya, queued, django_capture_on_commit_callbacks
):
    empty = signed_in.post(reverse("exports:receipt-issue"), follow=True)
    log_request(maya)
    with django_capture_on_commit_callbacks(execute=True):
        made = signed_in.post(reverse("exports:receipt-issue"), follow=True)

    assert "Your record is empty" in empty.content.decode()
    assert "Receipt up to entry #1: download it and keep it." in made.content.decode()
    assert Checkpoint.objects.get().reason == Checkpoint.Reason.ASKED


def test_a_receipt_downloads_as_text(signed_in, maya, queued, django_capture_on_commit_callbacks):
    log_request(maya)
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)

    response = signed_in.get(reverse("exports:receipt-download", args=[checkpoint.pk]))

    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"].startswith('attachment; filename="boundary-receipt-')
    assert response.content == receipt_bytes(checkpoint)


def test_another_employees_receipt_is_not_found(
    client, maya, second_employee, queued, django_capture_on_commit_callbacks
):
    log_request(maya)
    mine = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    client.force_login(second_employee)

    theirs = client.get(reverse("exports:receipt-download", args=[mine.pk]))
    missing = client.get(reverse("exports:receipt-download", args=[mine.pk + 1000]))

    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_setting_an_address_asks_for_its_confirmation(
    signed_in, maya, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("exports:receipt-address"),
            {"email": "maya@home.example", "cadence": "daily"},
            follow=True,
        )

    assert "We sent a link to maya@home.example: open it to confirm the address." in (
        response.content.decode()
    )
    assert "Waiting for you to confirm" in response.content.decode()
    assert [message.to for message in mail.outbox] == [["maya@home.example"]]
    address = ReceiptAddress.objects.get(employee=maya)
    assert (address.cadence, address.confirmed_at) == ("daily", None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not an address", "cadence": "each"}, "email"),
        ({"email": "maya@home.example", "cadence": "hourly"}, "cadence"),
        ({"cadence": "each"}, "email"),
    ],
)
def test_a_bad_address_is_refused_and_changes_nothing(signed_in, maya, data, field):
    ReceiptAddress.objects.create(
        employee=maya, email="maya@home.example", confirmed_at=timezone.now()
    )

    response = signed_in.post(reverse("exports:receipt-address"), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    address = ReceiptAddress.objects.get(employee=maya)
    assert (address.email, address.cadence) == ("maya@home.example", "each")
    assert address.confirmed_at is not None
    assert not mail.outbox


# --- Receipts given to the verifiers ---------------------------------------------------------


def test_verify_page_checks_an_export_against_receipts(client, maya, kept, tsa):
    later = make_zip(maya)

    response = client.post(
        reverse("exports:verify"),
        {"export": upload("later.zip", later), "receipts": [upload("receipt.txt", kept)]},
    )

    (told,) = response.context["result"].receipts
    assert told.verdict == "consistent"
    page = response.content.decode()
    assert "Against your receipts" in page
    assert re.search(
        r"receipt\.txt</span>, issued \S+ \S+ UTC:\s+<strong>Consistent\.</strong>", page
    )
    assert "Timestamped by Test TSA at " in page  # checked against RFC3161_TSA_ROOTS
    assert "Independent timestamps in the export" in page


def test_verify_page_shows_a_rewrite_against_a_receipt(client, maya, kept, monkeypatch):
    rewrite_and_rehash(maya, 2, promoted_item="Nothing at all")
    monkeypatch.setattr("requests_log.exports.record.Record.anchors", lambda record: [])

    response = client.post(
        reverse("exports:verify"),
        {"export": upload("record.json", make_json(maya)), "receipts": [upload("r.txt", kept)]},
    )

    result = response.context["result"]
    assert result.verdict == "intact"
    assert result.receipts[0].verdict == "rewritten"
    assert "<strong>Rewritten or cut after it.</strong> Event #2 differs" in (
        response.content.decode()
    )


def test_verify_page_refuses_a_receipt_that_is_too_large(client, maya, kept):
    response = client.post(
        reverse("exports:verify"),
        {
            "export": upload("record.json", make_json(maya)),
            "receipts": [upload("big.txt", b"x" * (65 * 1024))],
        },
    )

    assert response.status_code == 200
    assert "result" not in response.context
    (error,) = response.context["form"].errors["receipts"]
    assert error.startswith("“big.txt” is 65.0\xa0KB: a receipt is at most 64.0\xa0KB.")


def test_verify_page_refuses_too_many_receipts(client, maya, kept):
    response = client.post(
        reverse("exports:verify"),
        {
            "export": upload("record.json", make_json(maya)),
            "receipts": [upload(f"{number}.txt", kept) for number in range(51)],
        },
    )

    assert response.context["form"].errors["receipts"] == [
        "Give at most 50 receipts at a time (you gave 51)."
    ]


def test_verify_record_command_takes_receipts(tmp_path, maya, kept, capsys):
    export = tmp_path / "record.json"
    export.write_bytes(make_json(maya))
    receipt = tmp_path / "receipt.txt"
    receipt.write_bytes(kept)
    stranger = tmp_path / "stranger.txt"
    stranger.write_text("Dear Maya,\n")

    call_command("verify_record", str(export), "--receipt", str(receipt))
    with pytest.raises(CommandError) as failure:
        call_command("verify_record", str(export), "--receipt", str(stranger))

    output = capsys.readouterr().out
    assert re.search(
        r"Receipt receipt\.txt \(issued \S+ \S+ UTC, timestamped by Test TSA at \S+ \S+ UTC\): "
        r"Consistent: event #2 is as it signed it",
        output,
    )
    assert "  timestamped by Test TSA at " in output
    assert "Receipt stranger.txt: Not a receipt of this record: it is not a Boundary " in output
    assert failure.value.returncode == 5
    assert str(failure.value) == "A receipt could not be compared with this export."


def test_verify_record_command_exits_4_for_a_rewrite_after_a_receipt(
    tmp_path, maya, kept, monkeypatch
):
    rewrite_and_rehash(maya, 1, promoted_item="Nothing at all")
    monkeypatch.setattr("requests_log.exports.record.Record.anchors", lambda record: [])
    export = tmp_path / "record.json"
    export.write_bytes(make_json(maya))
    receipt = tmp_path / "receipt.txt"
    receipt.write_bytes(kept)

    with pytest.raises(CommandError) as failure:
        call_command("verify_record", str(export), "--receipt", str(receipt))

    assert failure.value.returncode == 4
    assert str(failure.value) == (
        "A receipt shows the record was rewritten or cut after it was issued."
    )


def test_standalone_verifier_takes_receipts(standalone, tmp_path, maya, kept, tsa):
    export = tmp_path / "record.zip"
    export.write_bytes(make_zip(maya))
    receipt = tmp_path / "receipt.txt"
    receipt.write_bytes(kept)
    key = signing.signing_key().fingerprint

    completed = run_standalone(
        standalone,
        str(export),
        "--receipt",
        str(receipt),
        "--tsa-root",
        str(tsa.root),
        "--public-key",
        key,
    )

    assert completed.returncode == 0, completed.stderr
    assert re.search(
        r"Receipt receipt\.txt \(issued \S+ \S+ UTC\): Consistent: event #2 is as it signed it",
        completed.stdout,
    )
    # Only Python and cryptography beside it: timestamps need rfc3161-client too.
    assert "  its timestamps were not checked: install rfc3161-client to check them" in (
        completed.stdout
    )


def test_standalone_verifier_says_when_a_receipt_cannot_be_read(standalone, tmp_path, maya, kept):
    export = tmp_path / "record.json"
    export.write_bytes(make_json(maya))

    completed = run_standalone(standalone, str(export), "--receipt", str(tmp_path / "none.txt"))

    assert completed.returncode == 2
    assert "cannot read " in completed.stderr


def test_the_confirmation_page_names_the_address_before_confirming(
    client, maya, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.force_login(maya)
        client.post(reverse("exports:receipt-address"), {"email": HOME, "cadence": "each"})
    client.logout()
    link = re.search(r"/receipts/confirm/\S+/", mail.outbox[0].body).group(0)

    shown = client.get(link)
    bad = client.get("/receipts/confirm/not-a-token/")

    assert shown.status_code == 200
    assert f'send receipts of your record to <strong class="text-break">{HOME}</strong>' in (
        shown.content.decode()
    )
    assert ReceiptAddress.objects.get(employee=maya).confirmed_at is None
    assert bad.status_code == 400
    assert "This link does not work any more" in bad.content.decode()


def test_the_receipts_page_takes_no_post(signed_in):
    response = signed_in.post(reverse("exports:receipt-list"), {"email": HOME})

    assert response.status_code == 405
    assert not ReceiptAddress.objects.exists()


def test_the_address_form_posts_to_the_view_that_saves_it(signed_in):
    page = signed_in.get(reverse("exports:receipt-list")).content.decode()

    assert f'action="{reverse("exports:receipt-address")}"' in page
    assert "Send me a confirmation link" in page
