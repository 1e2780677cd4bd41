"""Celery tasks: thin wrappers around requests_log.reminders."""

import logging
from collections.abc import Callable
from typing import Any

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
    return send_retrying(
        self,
        send=lambda: reminders.reminder_send(reminder_id=reminder_id),
        mark_failed=lambda error: reminders.reminder_mark_failed(
            reminder_id=reminder_id, error=error
        ),
        transient=reminders.TransientDeliveryError,
        what=f"Reminder {reminder_id}",
    )


def send_retrying(
    task: Any,
    *,
    send: Callable[[], str],
    mark_failed: Callable[[str], None],
    transient: type[Exception],
    what: str,
) -> str:
    """One attempt at sending a claimed row (a reminder, an HR digest): a transient error
    is retried with doubling backoff, and after the last try the row is marked failed."""
    try:
        return send()
    except transient as error:
        if task.request.retries >= task.max_retries:
            mark_failed(str(error))
            logger.error("%s failed for good: %s", what, error)
            return "failed"
        countdown = settings.REMINDER_RETRY_BACKOFF * 2**task.request.retries
        raise task.retry(exc=error, countdown=countdown) from error
