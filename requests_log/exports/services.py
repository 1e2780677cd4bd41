"""Making exports and recording checks of them.

An export is requested (an Export row), then built either at once (CSV and JSON are
streamed; small PDFs and ZIPs are built in the request) or by the `build_export` task
with its progress on the row. Finishing one appends an "exported" event to the
employee's timeline that names its format, scope, head and manifest hash.
"""

import hashlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from boundary.models import User

from ..models import Export, TimelineEvent, Verification
from ..timeline import timeline_append
from . import fileformat, signing, verifier
from .bundle import write_bundle
from .csvexport import csv_chunks
from .jsonexport import json_chunks
from .pdf import filename_for, pdf_bytes
from .record import Record, Scope

logger = logging.getLogger(__name__)

STREAMED_FORMATS = {Export.Format.CSV, Export.Format.JSON}
EXTENSIONS = {"pdf": "pdf", "csv": "csv", "json": "json", "zip": "zip"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "zip": "application/zip",
}


class ExportError(Exception):
    pass


@transaction.atomic
def export_request(*, employee: User, requested_by: User, format: str, scope: Scope) -> Export:
    """Record what the employee asked for; building it is a separate step."""
    return Export.objects.create(
        employee=employee,
        requested_by=requested_by,
        format=format,
        scope=scope.to_json(),
        description=scope.describe(),
    )


def export_record(export: Export) -> Record:
    return Record(employee=export.employee, scope=Scope.from_json(export.scope))


def export_runs_in_background(export: Export, record: Record) -> bool:
    """Large PDFs and ZIPs go to a worker; CSV and JSON always stream."""
    if export.format in STREAMED_FORMATS:
        return False
    return record.shown_event_count() > settings.EXPORT_DIRECT_MAX_EVENTS


def export_claim(*, export_id: int) -> Export | None:
    """Take a queued export (or one whose builder died) for building; None if another
    process has it or it is finished."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EXPORT_BUILD_TIMEOUT)
    claimed = (
        Export.objects.filter(pk=export_id)
        .filter(Q(state=Export.State.QUEUED) | Q(state=Export.State.RUNNING, started_at__lt=stale))
        .update(state=Export.State.RUNNING, started_at=now, progress=0, error="")
    )
    if claimed != 1:
        return None
    return Export.objects.select_related("employee").get(pk=export_id)


def export_progress(*, export: Export, percent: int, note: str) -> None:
    Export.objects.filter(pk=export.pk, state=Export.State.RUNNING).update(
        progress=max(0, min(100, percent)), progress_note=note[:200]
    )


@transaction.atomic
def export_finish(
    *,
    export: Export,
    record: Record,
    seal: dict[str, Any],
    size: int,
    sha256: str,
    stored: File | None = None,
    filename: str = "",
) -> Export:
    """Mark the export ready and append its "exported" event, in one transaction:
    saves the file (if kept), updates the row, then appends the event."""
    manifest = seal["manifest"]
    manifest_sha256 = fileformat.manifest_digest(manifest)
    chain_info = manifest["chain"]
    now = timezone.now()
    export = Export.objects.select_for_update().get(pk=export.pk)
    if stored is not None:
        export.file.save("export", stored, save=False)
        export.expires_at = now + timedelta(seconds=settings.EXPORT_FILE_TTL)
    export.event = timeline_append(
        employee=record.employee,
        kind=TimelineEvent.Kind.EXPORTED,
        actor=export.requested_by,
        payload={
            "export": export.pk,
            "format": export.format,
            "scope": export.description,
            "manifest_sha256": manifest_sha256,
            "head_seq": chain_info["head_seq"],
            "head_hash": chain_info["head_hash"],
            "events_shown": chain_info["shown"],
            "events_withheld": chain_info["withheld"],
            "fields_withheld": chain_info["fields_withheld"],
        },
    )
    export.state = Export.State.READY
    export.progress = 100
    export.progress_note = ""
    export.filename = filename
    export.size = size
    export.sha256 = sha256
    export.manifest_sha256 = manifest_sha256
    export.head_seq = chain_info["head_seq"]
    export.head_hash = chain_info["head_hash"]
    export.events_shown = chain_info["shown"]
    export.events_withheld = chain_info["withheld"]
    export.finished_at = now
    export.save()
    return export


def export_fail(*, export: Export, error: str) -> None:
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.FAILED, error=error[:500], finished_at=timezone.now()
    )


def export_build(*, export: Export, progress: Callable[[int, str], None] | None = None) -> Export:
    """Build a claimed export into a kept file: writes it to a temporary file, then
    export_finish stores it and appends the timeline event."""
    record = export_record(export)

    def report(percent: int, note: str) -> None:
        export_progress(export=export, percent=percent, note=note)

    report = progress or report
    sealed: list[dict[str, Any]] = []
    with tempfile.TemporaryFile() as handle:
        if export.format == Export.Format.ZIP:
            write_bundle(record, handle, sealed=sealed, progress=report)
        elif export.format == Export.Format.PDF:
            handle.write(pdf_bytes(record, sealed=sealed, progress=report))
        elif export.format == Export.Format.CSV:
            for chunk in csv_chunks(record, sealed):
                handle.write(chunk)
        else:
            for chunk in json_chunks(record, sealed):
                handle.write(chunk)
        size, sha256 = _size_and_digest(handle)
        return export_finish(
            export=export,
            record=record,
            seal=sealed[0],
            size=size,
            sha256=sha256,
            stored=File(handle),
            filename=filename_for(record, EXTENSIONS[export.format]),
        )


def export_stream(*, export: Export) -> tuple[Iterator[bytes], str]:
    """A CSV or JSON export as chunks for a streaming response, and its file name.
    When the last chunk has gone out, the export is finished (row and event)."""
    record = export_record(export)
    writer = csv_chunks if export.format == Export.Format.CSV else json_chunks

    def chunks() -> Iterator[bytes]:
        sealed: list[dict[str, Any]] = []
        digest, size = hashlib.sha256(), 0
        finished = False
        try:
            for chunk in writer(record, sealed, digest):
                size += len(chunk)
                yield chunk
            export_finish(
                export=export, record=record, seal=sealed[0], size=size, sha256=digest.hexdigest()
            )
            finished = True
        finally:
            # The download stopped part-way (the client went away): no export was made.
            if not finished:
                export_fail(export=export, error="The download stopped before it finished.")

    return chunks(), filename_for(record, EXTENSIONS[export.format])


def exports_purge_expired() -> int:
    """Delete kept files past their expiry; the rows (and the timeline) stay."""
    purged = 0
    expired = Export.objects.filter(state=Export.State.READY, expires_at__lte=timezone.now())
    for export in expired.only("pk", "file").iterator():
        claimed = Export.objects.filter(pk=export.pk, state=Export.State.READY).update(
            state=Export.State.EXPIRED
        )
        if claimed and export.file:
            export.file.delete(save=False)
            Export.objects.filter(pk=export.pk).update(file="")
            purged += 1
    return purged


def verification_run(
    *,
    export: IO[bytes],
    file_name: str,
    source: str,
    limits: fileformat.Limits,
    earlier: IO[bytes] | None = None,
    verified_by: User | None = None,
) -> verifier.Result:
    """Check an export (verifier.check, as the stand-alone script does) against the keys
    this instance trusts, then log the check (a Verification row). Never raises for a
    bad file: an unexpected error is logged and answered as "not a Boundary export"."""
    try:
        result = verifier.check(
            export, earlier=earlier, trusted=signing.trusted_fingerprints(), limits=limits
        )
    except Exception:  # a bug must not become a 500 for HR: log it, answer plainly
        logger.exception("Verification of %s failed unexpectedly", file_name)
        result = verifier.Result(verifier.NOT_EXPORT, "it could not be read as a Boundary export")
    verification_record(
        result=result,
        source=source,
        file_name=file_name,
        file_size=fileformat.file_size(export),
        file_sha256=sha256_of_file(export),
        verified_by=verified_by,
        earlier_sha256=sha256_of_file(earlier) if earlier is not None else "",
    )
    return result


def verification_record(
    *,
    result: verifier.Result,
    source: str,
    file_name: str,
    file_size: int,
    file_sha256: str,
    verified_by: User | None = None,
    earlier_sha256: str = "",
) -> Verification:
    """Log one check, linked to the export it checked when this instance made it."""
    export = None
    if result.manifest_sha256:
        export = Export.objects.filter(manifest_sha256=result.manifest_sha256).first()
    prefix = result.prefix
    return Verification.objects.create(
        source=source,
        verified_by=verified_by if verified_by and verified_by.is_authenticated else None,
        file_name=file_name[:255],
        file_size=file_size,
        file_sha256=file_sha256,
        file_kind=result.file_kind,
        verdict=result.verdict,
        reason=result.reason[:500],
        failed_at=result.where[:120],
        key_fingerprint=result.key_fingerprint,
        manifest_sha256=result.manifest_sha256,
        export=export,
        earlier_file_sha256=earlier_sha256,
        earlier_contained=None if prefix is None else prefix.contained,
        earlier_reason="" if prefix is None else prefix.reason[:500],
    )


def sha256_of_file(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _size_and_digest(handle: IO[bytes]) -> tuple[int, str]:
    size = handle.tell()
    return size, sha256_of_file(handle)
