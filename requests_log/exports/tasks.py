"""Celery tasks for exports and receipts: thin wrappers around exports.services and
exports.receipts."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import receipts, services, verifyjobs

logger = logging.getLogger(__name__)


@shared_task(
    name="requests_log.build_export",
    soft_time_limit=15 * 60,
    time_limit=16 * 60,
    acks_late=True,
    reject_on_worker_lost=True,
)
def build_export(export_id: int) -> str:
    """Build one export. Safe to run twice: the claim lets only one run build it."""
    export = services.export_claim(export_id=export_id)
    if export is None:
        logger.info("Export %s is taken or finished; nothing to do.", export_id)
        return "skipped"
    try:
        services.export_build(export=export)
    except Exception as error:
        services.export_fail(export=export, error=f"{type(error).__name__}: {error}")
        raise
    return "ready"


@shared_task(
    name="requests_log.verify_upload",
    soft_time_limit=settings.EXPORT_VERIFY_JOB_SECONDS,
    time_limit=settings.EXPORT_VERIFY_JOB_SECONDS + 30,
    acks_late=True,
    reject_on_worker_lost=False,  # a check that killed its worker is not tried again
)
def verify_upload(token: str) -> str:
    """A large upload from the verify page, checked within its time budget: past the
    soft limit the check stops and the page says so; past the hard limit the worker
    process running it is killed and replaced."""
    try:
        return verifyjobs.job_run(token)
    except SoftTimeLimitExceeded:
        verifyjobs.job_fail(token, verifyjobs.TIMED_OUT)
        return "timed out"
    except Exception as error:
        verifyjobs.job_fail(token, f"{type(error).__name__}")
        raise


@shared_task(name="requests_log.purge_verification_jobs", soft_time_limit=300, time_limit=360)
def purge_verification_jobs() -> int:
    return verifyjobs.jobs_purge()


@shared_task(name="requests_log.purge_expired_exports", soft_time_limit=300, time_limit=360)
def purge_expired_exports() -> int:
    return services.exports_purge_expired()


# --- Receipts (exports.receipts) ------------------------------------------------------


@shared_task(name="requests_log.issue_receipts", soft_time_limit=50, time_limit=60)
def issue_receipts() -> int:
    """Issue the checkpoints that are due, and queue again the receipt emails that got
    stuck (runs every minute)."""
    receipts.receipts_requeue_stuck()
    return receipts.receipts_issue_due()


@shared_task(
    name="requests_log.timestamp_checkpoint",
    bind=True,
    max_retries=settings.RFC3161_MAX_ATTEMPTS - 1,
    soft_time_limit=60,
    time_limit=90,
    acks_late=True,
)
def timestamp_checkpoint(self, checkpoint_id: int, authority: str) -> str:
    try:
        stamp = receipts.timestamp_fetch(checkpoint_id=checkpoint_id, authority=authority)
    except receipts.TransientTimestampError as error:
        if self.request.retries >= self.max_retries:
            logger.error(
                "No timestamp from %s for checkpoint %s: %s", authority, checkpoint_id, error
            )
            return "failed"
        countdown = settings.REMINDER_RETRY_BACKOFF * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown) from error
    return "stamped" if stamp else "skipped"


@shared_task(
    name="requests_log.send_receipt",
    bind=True,
    max_retries=settings.REMINDER_MAX_ATTEMPTS - 1,
    soft_time_limit=30,
    time_limit=45,
    acks_late=True,
)
def send_receipt(self, delivery_id: int) -> int:
    try:
        return receipts.receipt_send(delivery_ids=[delivery_id])
    except OSError as error:
        if self.request.retries >= self.max_retries:
            logger.error("Receipt email %s not sent: %s", delivery_id, error)
            return 0
        countdown = settings.REMINDER_RETRY_BACKOFF * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="requests_log.send_receipt_digests", soft_time_limit=300, time_limit=360)
def send_receipt_digests() -> int:
    return receipts.receipts_daily_digest()
