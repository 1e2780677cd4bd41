"""Celery tasks for HR: thin wrappers around requests_log.hr_digest."""

import logging

from celery import shared_task
from django.conf import settings

from .. import hr_digest

logger = logging.getLogger(__name__)


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
    try:
        return hr_digest.hr_digest_send(digest_id=digest_id)
    except hr_digest.TransientDigestError as error:
        if self.request.retries >= self.max_retries:
            hr_digest.hr_digest_mark_failed(digest_id=digest_id, error=str(error))
            logger.error("HR digest %s failed for good: %s", digest_id, error)
            return "failed"
        countdown = settings.REMINDER_RETRY_BACKOFF * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown) from error
