"""Celery tasks of the project package: thin wrappers."""

from celery import shared_task

from .broker import broker_prune_consumed


@shared_task(name="boundary.prune_broker", soft_time_limit=50, time_limit=60)
def prune_broker() -> int:
    """Delete the embedded broker's consumed messages (scheduled only on that broker)."""
    return broker_prune_consumed()
