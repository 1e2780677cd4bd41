"""Celery tasks for exports: thin wrappers around exports.services."""

import logging

from celery import shared_task

from . import services

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


@shared_task(name="requests_log.purge_expired_exports", soft_time_limit=300, time_limit=360)
def purge_expired_exports() -> int:
    return services.exports_purge_expired()
