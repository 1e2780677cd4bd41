"""Celery tasks for HR: thin wrappers around requests_log.hr_digest and hr_counts."""

from celery import shared_task
from django.conf import settings

from .. import hr_counts, hr_digest
from ..tasks import send_retrying


@shared_task(name="requests_log.refresh_hr_counts", soft_time_limit=50, time_limit=60)
def refresh_hr_counts() -> int:
    """Recount the employees whose HR counts went stale (every minute), so that a
    dashboard load finds few left to recount."""
    return hr_counts.counted_requests_refresh()


def enqueue_digests(digest_ids) -> None:
    for digest_id in digest_ids:
        send_hr_digest.delay(digest_id)


@shared_task(name="requests_log.sweep_hr_digests", soft_time_limit=50, time_limit=60)
def sweep_hr_digests() -> int:
    """Make this week's digests once due and queue one send task each (hourly)."""
    return hr_digest.hr_digests_sweep(dispatch=enqueue_digests)


@shared_task(
    name="requests_log.send_hr_digest",
    bind=True,
    max_retries=settings.REMINDER_MAX_ATTEMPTS - 1,
    soft_time_limit=30,
    time_limit=45,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_hr_digest(self, digest_id: int) -> str:
    return send_retrying(
        self,
        send=lambda: hr_digest.hr_digest_send(digest_id=digest_id),
        mark_failed=lambda error: hr_digest.hr_digest_mark_failed(digest_id=digest_id, error=error),
        transient=hr_digest.TransientDigestError,
        what=f"HR digest {digest_id}",
    )
