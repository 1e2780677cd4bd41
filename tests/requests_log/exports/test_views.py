import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_log.exports import exporters, fileformat, signing, verifier
from requests_log.exports import forms as export_forms
from requests_log.exports import tasks as export_tasks
from requests_log.exports.tasks import build_export
from requests_log.models import Export, TimelineEvent, Verification
from tests.factories import UserFactory, log_request

from .test_formats import make_csv, make_json, make_zip
from .test_record import export_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, maya):
    client.force_login(maya)
    return client


def export_data(**overrides):
    return {"format": "json", "mode": "all", "date_from": "", "date_to": "", **overrides}


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Making exports ------------------------------------------------------------------------


def test_export_form_preselects_the_request(signed_in, dispute):
    meeting = dispute["meeting"]

    response = signed_in.get(reverse("exports:export-create") + f"?request={meeting.pk}")

    form = response.context["form"]
    assert (form["mode"].value(), form["requests"].value()) == ("chosen", [meeting.pk])
    assert [choice.pk for choice in form.fields["requests"].queryset] == [
        dispute["other"].pk,
        meeting.pk,
    ]


def test_a_long_record_lists_the_newest_requests_and_any_older_one_ticked(
    signed_in, dispute, monkeypatch
):
    monkeypatch.setattr(export_forms, "REQUESTS_LISTED", 1)
    meeting, newest = dispute["meeting"], dispute["other"]
    page = reverse("exports:export-create")

    plain = signed_in.get(page)
    preselected = signed_in.get(page + f"?request={meeting.pk}")
    posted = signed_in.post(page, export_data(mode="chosen", requests=[meeting.pk]))

    def listed(response):
        return [value for value, _ in response.context["form"].fields["requests"].widget.choices]

    assert listed(plain) == [newest.pk]
    assert b"These are your 1 most recent requests" in plain.content
    assert listed(preselected) == [newest.pk, meeting.pk]
    boxes = preselected.context["form"]["requests"].subwidgets
    assert [(box.data["value"], box.data["selected"]) for box in boxes] == [
        (newest.pk, False),
        (meeting.pk, True),
    ]
    # An older request, not listed, is still hers to export.
    assert posted.status_code == 200
    export = Export.objects.get()
    assert export.scope["requests"] == [meeting.pk]


def test_a_short_record_lists_every_request_and_no_note(signed_in, dispute):
    response = signed_in.get(reverse("exports:export-create"))

    choices = response.context["form"].fields["requests"].widget.choices
    assert [value for value, _ in choices] == [dispute["other"].pk, dispute["meeting"].pk]
    assert b"most recent requests" not in response.content


def test_export_form_withholds_private_notes_unless_she_unticks_them(signed_in, dispute):
    response = signed_in.get(reverse("exports:export-create"))

    assert response.context["form"]["withhold"].value() == ["notes", "photo_originals"]


@pytest.mark.parametrize("format", ["json", "csv"])
def test_json_and_csv_stream_and_log_the_export(signed_in, dispute, maya, trusted, format):
    response = signed_in.post(reverse("exports:export-create"), export_data(format=format))

    data = streamed(response)
    assert response["Content-Disposition"].startswith('attachment; filename="boundary-record-')
    assert check_bytes(data, trusted).verdict == verifier.INTACT
    export = Export.objects.get(employee=maya)
    assert (export.state, export.format, export.has_file) == ("ready", format, False)
    assert export.event.kind == TimelineEvent.Kind.EXPORTED


def check_bytes(data, trusted):
    return verifier.verify_file(io.BytesIO(data), trusted=trusted)


@pytest.mark.parametrize("format", ["pdf", "zip"])
def test_small_pdf_and_zip_are_served_at_once_and_kept(signed_in, dispute, maya, trusted, format):
    response = signed_in.post(
        reverse("exports:export-create"),
        export_data(format=format, mode="chosen", requests=[dispute["meeting"].pk]),
    )

    data = b"".join(response.streaming_content)
    assert response["Content-Type"] == {"pdf": "application/pdf", "zip": "application/zip"}[format]
    result = check_bytes(data, trusted)
    assert (result.verdict, result.chain.shown, result.chain.withheld) == ("intact", 4, 1)
    export = Export.objects.get(employee=maya)
    assert export.has_file
    assert export.expires_at is not None


def test_large_pdf_goes_to_a_worker_and_shows_progress(
    signed_in, dispute, maya, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EXPORT_DIRECT_MAX_EVENTS = 2
    queued = []
    monkeypatch.setattr(export_tasks.build_export, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("exports:export-create"), export_data(format="pdf"))

    export = Export.objects.get(employee=maya)
    assert response.url == export.get_absolute_url()
    assert queued == [export.pk]
    page = signed_in.get(export.get_absolute_url())
    assert b"Waiting for a worker" in page.content
    assert b'data-status-url="/exports/' in page.content
    status = signed_in.get(reverse("exports:export-status", args=[export.pk])).json()
    assert status == {
        "state": "queued",
        "state_label": "Queued",
        "progress": 0,
        "note": "",
        "done": False,
    }

    assert build_export(export.pk) == "ready"

    export.refresh_from_db()
    assert (export.state, export.progress) == ("ready", 100)
    download = signed_in.get(reverse("exports:export-download", args=[export.pk]))
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_export_form_refuses_an_empty_choice_and_a_backwards_period(signed_in, dispute):
    response = signed_in.post(
        reverse("exports:export-create"),
        export_data(mode="chosen", date_from="2026-02-01", date_to="2026-01-01"),
    )

    errors = response.context["form"].errors
    assert errors["requests"] == ["Tick at least one request, or choose every request."]
    assert errors["date_to"] == ["The end of the period is before its start."]
    assert not Export.objects.exists()


def test_export_form_refuses_someone_elses_request(signed_in, dispute):
    stranger = log_request(UserFactory())

    response = signed_in.post(
        reverse("exports:export-create"), export_data(mode="chosen", requests=[stranger.pk])
    )

    assert "requests" in response.context["form"].errors
    assert not Export.objects.exists()


# --- Privacy -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["export-detail", "export-status", "export-download"])
@pytest.mark.parametrize(("method", "status"), [("get", 404), ("post", 405)])
def test_someone_elses_export_is_not_found(client, dispute, maya, name, method, status):
    """Not found, to anyone but its owner; a POST is refused before any lookup."""
    _, export = export_now(maya, format="pdf")
    client.force_login(UserFactory())

    response = getattr(client, method)(reverse(f"exports:{name}", args=[export.pk]))

    assert response.status_code == status


@pytest.mark.parametrize("name", ["export-list", "export-create"])
def test_export_pages_need_a_login(client, name):
    response = client.get(reverse(f"exports:{name}"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_expired_or_streamed_export_has_nothing_to_download(signed_in, dispute, maya):
    _, export = export_now(maya, format="json")
    Export.objects.filter(pk=export.pk).update(state=Export.State.EXPIRED)

    response = signed_in.get(reverse("exports:export-download", args=[export.pk]))

    assert response.status_code == 404


# --- The list ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 30])
def test_export_list_query_count_is_constant(signed_in, maya, count, django_assert_num_queries):
    Export.objects.bulk_create(
        Export(employee=maya, requested_by=maya, format="pdf", description="every request")
        for _ in range(count)
    )

    # session, user, count, page of exports (with their events), unread notifications
    with django_assert_num_queries(5):
        response = signed_in.get(reverse("exports:export-list"))

    assert len(response.context["page_obj"].object_list) == min(count, 25)


def test_export_list_shows_each_export(signed_in, dispute, maya):
    export_now(maya, format="pdf")

    response = signed_in.get(reverse("exports:export-list"))

    assert b"Every request" in response.content
    assert reverse("exports:export-download", args=[Export.objects.get().pk]).encode() in (
        response.content
    )


@pytest.mark.parametrize(
    ("state", "file", "why"),
    [
        ("ready", "", "Sent to your browser when you made it, not kept."),
        ("expired", "", "Kept for a week, then deleted."),
        ("failed", "", "It could not be built; nothing was added to your record."),
        ("running", "", "Being built: it can be downloaded when it is ready."),
        ("ready", "1/kept", ""),
    ],
)
def test_an_export_that_cannot_be_downloaded_says_why(maya, state, file, why):
    export = Export(employee=maya, requested_by=maya, format="csv", state=state, file=file)

    assert export.why_no_file[: len(why)] == why
    assert bool(export.why_no_file) == bool(why)


# --- Verify a record -----------------------------------------------------------------------


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_verify_page_is_public(client):
    response = client.get(reverse("exports:verify"))

    assert response.status_code == 200
    assert signing.signing_key().fingerprint.encode() in response.content


def test_verify_page_says_intact_and_logs_the_check(client, dispute, maya):
    data, export = export_now(maya, format="zip")

    response = client.post(reverse("exports:verify"), {"export": upload("record.zip", data)})

    result = response.context["result"]
    assert (result.verdict, result.file_kind) == ("intact", "zip")
    assert b"Intact" in response.content
    check = Verification.objects.get()
    assert (check.verdict, check.export, check.verified_by, check.source) == (
        "intact",
        export,
        None,
        "page",
    )
    assert check.file_sha256 == fileformat.sha256_hex(data)


def test_verify_page_names_the_altered_event(client, dispute, maya):
    data = make_json(maya).replace(b"Not a team player.", b"A fine team player.")

    response = client.post(reverse("exports:verify"), {"export": upload("record.json", data)})

    assert response.context["result"].where == "event #4"
    assert b'First failure: <strong class="verdict-where">event #4</strong>' in response.content
    assert b"What the file says about itself" in response.content
    assert response.context["result"].manifest["employee"]["name"] == "Maya Okafor"
    assert Verification.objects.get().verdict == "altered"


def test_verify_page_compares_an_earlier_export(client, dispute, maya):
    earlier = make_csv(maya)
    log_request(maya)
    later = make_zip(maya)

    response = client.post(
        reverse("exports:verify"),
        {"export": upload("later.zip", later), "earlier": upload("earlier.csv", earlier)},
    )

    assert response.context["result"].prefix.contained
    assert b"this export contains it unchanged" in response.content
    assert Verification.objects.get().earlier_contained is True


@pytest.mark.parametrize(
    ("data", "verdict"),
    [
        (b"", "not_export"),
        (b"\x00" * 1000, "not_export"),
        (b"PK\x03\x04garbage", "not_export"),
        (b"%PDF-1.7\n%%EOF\n", "not_export"),
        (b'{"format":"boundary-export","version":1,\n"cont', "altered"),
        (b"row_type,seq,last_seq,occurred_at_utc,occurred_at_local,x\r\n", "altered"),
    ],
)
def test_verify_page_answers_any_upload(client, data, verdict):
    response = client.post(reverse("exports:verify"), {"export": upload("upload.bin", data)})

    assert response.status_code == 200
    if data:
        assert response.context["result"].verdict == verdict
    else:
        assert response.context["form"].errors["export"] == ["The submitted file is empty."]


def test_verify_page_refuses_a_file_over_the_limit(client, settings):
    settings.EXPORT_VERIFY_MAX_BYTES = 1000

    response = client.post(reverse("exports:verify"), {"export": upload("big.zip", b"x" * 5000)})

    assert response.context["form"].errors["export"] == [
        "This file is 4.9\xa0KB; this page checks files up to 1000\xa0bytes. Use the "
        "stand-alone verifier for larger ones."
    ]
    assert not Verification.objects.exists()


def test_verify_page_stops_reading_a_huge_upload(client, settings):
    settings.EXPORT_VERIFY_MAX_BYTES = 1000

    response = client.post(
        reverse("exports:verify"), {"export": upload("huge.zip", b"x" * (300 * 1024))}
    )

    assert response.status_code == 413
    assert b"larger than this page accepts" in response.content
    assert not Verification.objects.exists()


def test_verify_page_limits_checks_per_address(client, settings):
    settings.EXPORT_VERIFY_RATE = 2
    from django.core.cache import cache

    cache.clear()
    statuses = [
        client.post(reverse("exports:verify"), {"export": upload("x.bin", b"nothing")}).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]


def test_verify_page_never_fails_on_a_bug(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(verifier, "verify_file", broken)

    response = client.post(reverse("exports:verify"), {"export": upload("x.json", b"{}")})

    assert response.status_code == 200
    assert response.context["result"].verdict == "not_export"


def test_public_key_page_and_pem(client):
    key = signing.signing_key()

    page = client.get(reverse("exports:public-key"))
    pem = client.get(reverse("exports:public-key-pem"))

    assert signing.grouped(key.fingerprint).encode() in page.content
    assert pem.content.decode() == key.public_pem
    assert fileformat.trusted_fingerprint(pem.content.decode()) == key.fingerprint


def test_request_page_links_to_export(signed_in, dispute):
    meeting = dispute["meeting"]

    response = signed_in.get(meeting.get_absolute_url())

    assert f"{reverse('exports:export-create')}?request={meeting.pk}".encode() in response.content


def test_export_detail_lists_checks_of_it(signed_in, client, dispute, maya):
    data, export = export_now(maya, format="pdf")
    client.post(reverse("exports:verify"), {"export": upload("r.pdf", data)})

    response = signed_in.get(export.get_absolute_url())

    assert [check.verdict for check in response.context["verifications"]] == ["intact"]
    assert json.dumps(export.manifest_sha256)[1:-1].encode() in response.content


def test_interrupted_download_makes_no_export(dispute, maya):
    from requests_log.exports import services
    from requests_log.exports.record import Scope

    export = services.export_claim(
        export_id=services.export_request(
            employee=maya, requested_by=maya, format="csv", scope=Scope()
        ).pk
    )
    chunks, _ = services.export_stream(export=export)
    next(chunks)

    chunks.close()  # what the server does when the client goes away

    export.refresh_from_db()
    assert (export.state, export.error) == ("failed", "The download stopped before it finished.")
    assert not TimelineEvent.objects.filter(kind="exported").exists()


def test_failed_pdf_build_says_so_and_adds_nothing(signed_in, dispute, maya, monkeypatch):

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exporters, "pdf_bytes", broken)

    response = signed_in.post(
        reverse("exports:export-create"), export_data(format="pdf"), follow=True
    )

    export = Export.objects.get(employee=maya)
    assert response.redirect_chain == [(export.get_absolute_url(), 302)]
    assert b"could not be built" in response.content
    assert (export.state, export.error) == ("failed", "OSError: disk full")
    assert not TimelineEvent.objects.filter(kind="exported").exists()


def test_verify_page_shows_an_earlier_files_own_verdict_and_why_it_was_not_compared(
    client, dispute, maya
):
    from .damage import rewritten

    earlier = rewritten(make_json(maya), b"Not a team player.", b"A great team player.")

    response = client.post(
        reverse("exports:verify"),
        {"export": upload("later.zip", make_zip(maya)), "earlier": upload("earlier.json", earlier)},
    )

    content = response.content.decode()
    assert "The earlier file, on its own" in content
    assert "<strong>Signed by an unknown key:</strong>" in content
    assert "not compared: the earlier export is signed by a key that is not trusted" in content
    assert "the record was rewritten" not in content
    check = Verification.objects.get()
    assert (check.verdict, check.earlier_contained) == ("intact", None)
    assert check.earlier_reason.startswith(
        "the earlier file on its own: Signed by an unknown key. Not compared: "
    )


def test_verify_page_says_what_intact_proves(client):
    response = client.get(reverse("exports:verify"))

    assert "What a verified record proves" in response.content.decode()
