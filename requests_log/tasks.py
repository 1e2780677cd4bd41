"""Celery tasks: thin wrappers around requests_log.reminders."""

import logging

from celery import shared_task
from django.conf import settings

from . import reminders

logger = logging.getLogger(__name__)


def enqueue_sends(reminder_ids) -> None:
    for reminder_id in reminder_ids:
        send_reminder.delay(reminder_id)


@shared_task(name="requests_log.sweep_reminders", soft_time_limit=50, time_limit=60)
def sweep_reminders() -> int:
    """Claim due reminders and queue one send task each (runs every minute)."""
    return reminders.reminders_sweep(dispatch=enqueue_sends)


@shared_task(
    name="requests_log.send_reminder",
    bind=True,
    max_retries=settings.REMINDER_MAX_ATTEMPTS - 1,
    soft_time_limit=30,
    time_limit=45,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_reminder(self, reminder_id: int) -> str:
    try:
        return reminders.reminder_send(reminder_id=reminder_id)
    except reminders.TransientDeliveryError as error:
        if self.request.retries >= self.max_retries:
            reminders.reminder_mark_failed(reminder_id=reminder_id, error=str(error))
            logger.error("Reminder %s failed for good: %s", reminder_id, error)
            return "failed"
        countdown = settings.REMINDER_RETRY_BACKOFF * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown) from error
