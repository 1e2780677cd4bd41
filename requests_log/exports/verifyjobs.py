"""Large checks on the verify page, off the web worker (issue 13, item 4).

An upload over EXPORT_VERIFY_INLINE_MAX_BYTES is written to the exports storage and a
VerificationJob row; the Celery task `verify_upload` checks it with a time budget
(soft_time_limit/time_limit: one check cannot hold a worker) and stores the verifier's
answer; the page polls the job's status and then shows the same result as an inline check."""

import base64
import hashlib
import hmac
import logging
import pickle  # signed below: only bytes this instance wrote are ever unpickled
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from ..models import Verification, VerificationJob, export_storage
from . import fileformat, services, verifier

logger = logging.getLogger(__name__)


def _store(upload: IO[bytes]) -> str:
    upload.seek(0)
    return export_storage().save(f"verify-jobs/{secrets.token_hex(16)}", File(upload))


def job_create(
    *,
    export: IO[bytes],
    file_name: str,
    file_size: int,
    earlier: IO[bytes] | None,
    receipts: list[tuple[str, bytes]],
    verified_by,
    enqueue: Callable[[str], object],
) -> VerificationJob:
    """Keep the uploads and queue their check (after the row commits)."""
    job = VerificationJob.objects.create(
        file_name=file_name[:255],
        file_size=file_size,
        upload=_store(export),
        earlier_upload=_store(earlier) if earlier is not None else "",
        receipts=[[name, base64.b64encode(data).decode()] for name, data in receipts],
        verified_by=verified_by,
    )
    token = job.token
    transaction.on_commit(lambda: enqueue(token))
    return job


def _discard(job: VerificationJob) -> None:
    for name in (job.upload, job.earlier_upload):
        if name:
            export_storage().delete(name)


def _strip(result: verifier.Result) -> verifier.Result:
    """The exception a bug left is logged already; it is not kept."""
    result.unexpected = None
    if result.earlier is not None:
        result.earlier.unexpected = None
    return result


TIMED_OUT = "The check took longer than this site allows for one file."


def job_run(token: str) -> str:
    """Check one job. Only a queued job is claimed, so a redelivered task checks once.
    verification_run answers any exception as "not an export", the soft time limit's
    too, so a check that used up its budget is told by the clock instead."""
    claimed = VerificationJob.objects.filter(
        token=token, state=VerificationJob.State.QUEUED
    ).update(
        state=VerificationJob.State.RUNNING,
        progress_note="Checking the seal and the chain…",
        started_at=timezone.now(),
    )
    if not claimed:
        return "skipped"
    job = VerificationJob.objects.get(token=token)
    storage = export_storage()
    started = time.monotonic()
    try:
        with storage.open(job.upload, "rb") as export:
            earlier = storage.open(job.earlier_upload, "rb") if job.earlier_upload else None
            try:
                result = services.verification_run(
                    export=export,
                    file_name=job.file_name,
                    earlier=earlier,
                    receipts=[(name, base64.b64decode(data)) for name, data in job.receipts],
                    source=Verification.Source.PAGE,
                    limits=fileformat.Limits(
                        max_bytes=settings.EXPORT_VERIFY_MAX_BYTES,
                        max_unpacked=settings.EXPORT_VERIFY_MAX_UNPACKED,
                    ),
                    verified_by=job.verified_by,
                )
            finally:
                if earlier is not None:
                    earlier.close()
        if time.monotonic() - started >= settings.EXPORT_VERIFY_JOB_SECONDS:
            job.error = TIMED_OUT
        else:
            job.result = _sealed(pickle.dumps(_strip(result)))
            job.state = VerificationJob.State.DONE
        job.progress_note = ""
    finally:
        job.finished_at = timezone.now()
        if job.state != VerificationJob.State.DONE:
            job.state = VerificationJob.State.FAILED
        job.save(update_fields=["result", "state", "error", "progress_note", "finished_at"])
        _discard(job)
    return job.state


def job_fail(token: str, error: str) -> None:
    job = VerificationJob.objects.filter(token=token).first()
    if job is None:
        return
    job.state, job.error, job.finished_at = (
        VerificationJob.State.FAILED,
        error[:500],
        timezone.now(),
    )
    job.save(update_fields=["state", "error", "finished_at"])
    _discard(job)


def job_is_lost(job: VerificationJob) -> bool:
    """Running past the hard limit: its worker process was killed (time_limit)."""
    limit = settings.EXPORT_VERIFY_JOB_SECONDS + 90
    started = job.started_at or job.created_at
    return (
        job.state == VerificationJob.State.RUNNING
        and (timezone.now() - started).total_seconds() > limit
    )


def _mac(data: bytes) -> bytes:
    key = hashlib.sha256(b"boundary.verify-job-result" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, data, hashlib.sha256).digest()


def _sealed(data: bytes) -> bytes:
    """The pickled result with an HMAC under a key derived from SECRET_KEY (which lives in
    the environment, not the database): whoever can write the database still cannot make
    the web process unpickle bytes of their choosing."""
    return _mac(data) + data


def job_result(job: VerificationJob) -> verifier.Result | None:
    if job.state != VerificationJob.State.DONE or not job.result:
        return None
    sealed = bytes(job.result)
    mac, data = sealed[:32], sealed[32:]
    if not hmac.compare_digest(mac, _mac(data)):
        logger.error("Verification job %s: its stored result fails its HMAC", job.pk)
        return None
    return pickle.loads(data)  # noqa: S301  # nosec B301 - sealed by this instance, checked above


def jobs_purge(*, older_than: int = 24 * 60 * 60) -> int:
    """Delete jobs (and any upload still kept) created more than `older_than` seconds ago:
    their page then 404s. A job whose task never ran does not keep its file for ever."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    old = list(VerificationJob.objects.filter(created_at__lt=cutoff))
    for job in old:
        _discard(job)
    VerificationJob.objects.filter(pk__in=[job.pk for job in old]).delete()
    return len(old)
