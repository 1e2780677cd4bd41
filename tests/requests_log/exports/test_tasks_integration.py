"""build_export in a real Celery worker (a subprocess) against a private redis-server and
the test database: progress shows on the row, a redelivered task builds once, and a
build whose worker was killed is taken over."""

import io

import pytest
from django.conf import settings

from requests_log.exports import services, verifier
from requests_log.exports.record import Scope
from requests_log.exports.tasks import build_export
from requests_log.models import Export, TimelineEvent
from tests.requests_log.reminder_support import (
    Celery,
    database_url_for_subprocess,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery(processes, tmp_path, redis_server):
    return Celery(
        processes,
        tmp_path,
        env={
            "DJANGO_ENV": "development",
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_BROKER_URL": redis_server.url,
            "BOUNDARY_SIGNING_KEY": str(settings.EXPORT_SIGNING_KEY),
            "EXPORTS_ROOT": str(settings.EXPORTS_ROOT),
            "LOG_LEVEL": "WARNING",
        },
    )


@pytest.fixture
def local_app(redis_server, monkeypatch):
    """This process's Celery app, queueing to the test's redis-server."""
    from boundary.celery import app

    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)
    monkeypatch.setattr(app.conf, "broker_url", redis_server.url)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    yield app
    if app._pool is not None:
        app._pool.force_close_all()


def queued_pdf(employee) -> Export:
    return services.export_request(
        employee=employee, requested_by=employee, format="pdf", scope=Scope()
    )


def ready(export: Export) -> bool:
    export.refresh_from_db()
    return export.is_done


def test_worker_builds_the_pdf_and_it_verifies(celery, local_app, dispute, maya, trusted):
    celery.wait_ready(celery.worker("worker"))
    export = queued_pdf(maya)

    build_export.delay(export.pk)

    wait_for(lambda: ready(export), timeout=60, what="the export to be built")
    assert (export.state, export.progress) == ("ready", 100)
    with export.file.open("rb") as handle:
        result = verifier.verify_file(io.BytesIO(handle.read()), trusted=trusted)
    assert result.verdict == verifier.INTACT


def test_task_delivered_twice_builds_once(celery, local_app, dispute, maya):
    worker = celery.worker("worker", pool="prefork", concurrency=2)
    celery.wait_ready(worker)
    export = queued_pdf(maya)

    build_export.delay(export.pk)
    build_export.delay(export.pk)

    wait_for(lambda: ready(export), timeout=60, what="the export to be built")
    wait_for(lambda: "skipped" in worker.output(), timeout=30, what="the second delivery")
    assert TimelineEvent.objects.filter(employee=maya, kind="exported").count() == 1


def test_build_of_a_killed_worker_is_taken_over(celery, local_app, dispute, maya):
    first = celery.worker("first")
    celery.wait_ready(first)
    export = queued_pdf(maya)
    # A claim that a dead worker left behind, older than EXPORT_BUILD_TIMEOUT.
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.RUNNING, started_at="2000-01-01T00:00:00Z"
    )
    first.kill()
    second = celery.worker("second")
    celery.wait_ready(second)

    build_export.delay(export.pk)

    wait_for(lambda: ready(export), timeout=60, what="the export to be built")
    assert export.state == "ready"
