"""Large checks on the verify page run in a Celery task (issue 13, item 4): the upload
is kept, the page polls the job's status by an unguessable token, and the answer is the
same page an inline check shows. The task itself is run here in this process; see
test_verify_jobs_integration.py for a real worker."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_log.exports import verifyjobs
from requests_log.exports import views as export_views
from requests_log.models import Verification, VerificationJob, export_storage

from .test_record import export_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    tokens: list[str] = []
    monkeypatch.setattr(export_views.verify_upload, "delay", tokens.append)
    return tokens


def post_large(client, settings, data: bytes, django_capture_on_commit_callbacks):
    settings.EXPORT_VERIFY_INLINE_MAX_BYTES = 100
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("exports:verify"), {"export": SimpleUploadedFile("record.zip", data)}
        )


def test_a_large_upload_is_checked_by_the_task_and_shows_the_same_answer(
    client, settings, dispute, maya, queued, django_capture_on_commit_callbacks
):
    data, export = export_now(maya, format="zip")

    response = post_large(client, settings, data, django_capture_on_commit_callbacks)

    job = VerificationJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert queued == [job.token]
    assert len(job.token) >= 40
    assert response["Location"].endswith(f"/{job.token}/")  # the token, not the id
    assert not Verification.objects.exists()  # nothing checked in the web process
    waiting = client.get(job.get_absolute_url())
    assert b"export-progress" in waiting.content
    assert "result" not in waiting.context
    status = client.get(reverse("exports:verify-job-status", args=[job.token])).json()
    assert (status["state"], status["done"]) == ("queued", False)

    assert verifyjobs.job_run(job.token) == "done"
    assert verifyjobs.job_run(job.token) == "skipped"  # redelivered: checked once

    answer = client.get(job.get_absolute_url())
    assert answer.context["result"].verdict == "intact"
    assert b"Intact" in answer.content
    assert b"record.zip" in answer.content
    assert client.get(reverse("exports:verify-job-status", args=[job.token])).json()["done"]
    check = Verification.objects.get()
    assert (check.verdict, check.export, check.source) == ("intact", export, "page")
    job.refresh_from_db()
    assert not export_storage().exists(job.upload)  # the upload is not kept once checked


def test_a_small_upload_is_still_checked_at_once(client, dispute, maya, queued):
    data, _ = export_now(maya, format="zip")

    response = client.post(reverse("exports:verify"), {"export": SimpleUploadedFile("r.zip", data)})

    assert response.context["result"].verdict == "intact"
    assert queued == []
    assert not VerificationJob.objects.exists()


def test_a_check_past_its_time_budget_says_so(
    client, settings, dispute, maya, queued, django_capture_on_commit_callbacks
):
    data, _ = export_now(maya, format="zip")
    post_large(client, settings, data, django_capture_on_commit_callbacks)
    settings.EXPORT_VERIFY_JOB_SECONDS = 0

    assert verifyjobs.job_run(queued[0]) == "failed"

    page = client.get(VerificationJob.objects.get().get_absolute_url())
    assert "result" not in page.context
    assert b"took longer than this site allows" in page.content


def test_a_made_up_token_is_not_found(client):
    assert client.get(reverse("exports:verify-job", args=["made-up"])).status_code == 404
    assert client.get(reverse("exports:verify-job-status", args=["made-up"])).status_code == 404


def test_old_jobs_and_their_uploads_are_purged(
    client, settings, dispute, maya, queued, django_capture_on_commit_callbacks
):
    from requests_log.exports.tasks import purge_verification_jobs

    data, _ = export_now(maya, format="zip")
    post_large(client, settings, data, django_capture_on_commit_callbacks)
    job = VerificationJob.objects.get()  # its task never ran: the upload is still kept
    assert export_storage().exists(job.upload)
    assert purge_verification_jobs() == 0  # not old yet

    VerificationJob.objects.update(created_at=job.created_at - timedelta(days=2))

    assert purge_verification_jobs() == 1
    assert not VerificationJob.objects.exists()
    assert not export_storage().exists(job.upload)
    assert client.get(job.get_absolute_url()).status_code == 404


def test_a_job_whose_worker_was_killed_says_so_but_a_late_start_is_not_lost(
    client, settings, dispute, maya, queued, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    data, _ = export_now(maya, format="zip")
    post_large(client, settings, data, django_capture_on_commit_callbacks)
    job = VerificationJob.objects.get()
    long_ago = timezone.now() - timedelta(seconds=settings.EXPORT_VERIFY_JOB_SECONDS + 600)
    status_url = reverse("exports:verify-job-status", args=[job.token])
    # Queued long ago, started just now: still being checked.
    VerificationJob.objects.update(created_at=long_ago, state="running", started_at=timezone.now())
    assert client.get(status_url).json()["state"] == "running"

    VerificationJob.objects.update(started_at=long_ago)  # past the hard limit: killed

    assert client.get(status_url).json() | {"state_label": ""} == {
        "state": "failed",
        "state_label": "",
        "progress": 100,
        "note": "",
        "done": True,
    }
    assert b"used up its time" in client.get(job.get_absolute_url()).content


def test_a_stored_result_rewritten_in_the_database_is_never_unpickled(
    client, settings, dispute, maya, queued, django_capture_on_commit_callbacks
):
    """Whoever can write the database cannot make the web process unpickle their bytes:
    the result carries an HMAC under a key from SECRET_KEY."""
    data, _ = export_now(maya, format="zip")
    post_large(client, settings, data, django_capture_on_commit_callbacks)
    job = VerificationJob.objects.get()
    verifyjobs.job_run(job.token)
    job.refresh_from_db()
    sealed = bytes(job.result)
    forged = b"\x00" * 32 + b"cos\nsystem\n(S'echo owned'\ntR."  # a pickle that runs a command

    assert verifyjobs.job_result(job).verdict == "intact"
    VerificationJob.objects.filter(pk=job.pk).update(result=forged)
    job.refresh_from_db()
    assert verifyjobs.job_result(job) is None
    VerificationJob.objects.filter(pk=job.pk).update(result=sealed[:32] + sealed[33:])
    job.refresh_from_db()
    assert verifyjobs.job_result(job) is None
