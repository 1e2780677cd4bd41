"""A large upload to the verify page is checked by a real Celery worker (a subprocess,
against a private redis-server and the test database) while the web process only
stores it; the page then shows the worker's answer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_log.models import Verification, VerificationJob
from tests.requests_log.reminder_support import wait_for

from .test_record import export_now
from .test_tasks_integration import celery, local_app  # noqa: F401 - fixtures

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_checks_a_large_upload_and_the_page_shows_it(
    celery,  # noqa: F811
    local_app,  # noqa: F811
    client,
    settings,
    dispute,
    maya,
):
    settings.EXPORT_VERIFY_INLINE_MAX_BYTES = 100
    celery.wait_ready(celery.worker("worker"))
    data, export = export_now(maya, format="zip")

    response = client.post(
        reverse("exports:verify"), {"export": SimpleUploadedFile("record.zip", data)}
    )

    job = VerificationJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    status_url = reverse("exports:verify-job-status", args=[job.token])
    wait_for(lambda: client.get(status_url).json()["done"], timeout=60, what="the check")
    job.refresh_from_db()
    assert job.state == "done", job.error
    answer = client.get(job.get_absolute_url())
    assert answer.context["result"].verdict == "intact"
    assert Verification.objects.get().export == export
