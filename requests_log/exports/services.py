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
from dataclasses import dataclass
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
from . import fileformat, signing, tasks, verifier
from .exporters import StreamedExporter, exporter_for
from .record import Record, Scope

logger = logging.getLogger(__name__)


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
    if exporter_for(export.format).streamed:
        return False
    return record.shown_event_count() > settings.EXPORT_DIRECT_MAX_EVENTS


@dataclass
class ExportStart:
    """What became of an export asked for in a request: queued for a worker, streamed
    (`chunks` to send as `filename`), built (the file is on the row) or failed."""

    export: Export
    outcome: str  # "queued", "streamed", "built" or "failed"
    chunks: Iterator[bytes] | None = None
    filename: str = ""


def export_start(*, employee: User, requested_by: User, format: str, scope: Scope) -> ExportStart:
    """Record an export and do what its format and size call for: queue a large PDF or
    ZIP for a worker (after commit), stream a CSV or JSON, or build a small PDF or ZIP
    now. A build that fails marks the export failed and adds nothing to the record."""
    export = export_request(
        employee=employee, requested_by=requested_by, format=format, scope=scope
    )
    if export_runs_in_background(export, export_record(export)):
        transaction.on_commit(lambda: tasks.build_export.delay(export.pk))
        return ExportStart(export, "queued")
    claimed = export_claim(export_id=export.pk)
    if claimed is None:  # pragma: no cover - nobody else knows its id yet
        raise RuntimeError(f"Export {export.pk} was taken before it started.")
    if exporter_for(claimed.format).streamed:
        chunks, filename = export_stream(export=claimed)
        return ExportStart(claimed, "streamed", chunks, filename)
    try:
        return ExportStart(export_build(export=claimed), "built")
    except Exception as error:
        logger.exception("Export %s failed", claimed.pk)
        export_fail(export=claimed, error=f"{type(error).__name__}: {error}")
        return ExportStart(claimed, "failed")


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

    def on_the_row(percent: int, note: str) -> None:
        export_progress(export=export, percent=percent, note=note)

    report = progress or on_the_row
    exporter = exporter_for(export.format)
    sealed: list[dict[str, Any]] = []
    with tempfile.TemporaryFile() as handle:
        exporter.write(record, handle, sealed=sealed, progress=report)
        size, sha256 = handle.tell(), fileformat.sha256_of(handle)
        return export_finish(
            export=export,
            record=record,
            seal=sealed[0],
            size=size,
            sha256=sha256,
            stored=File(handle),
            filename=exporter.filename(record),
        )


def export_stream(*, export: Export) -> tuple[Iterator[bytes], str]:
    """A CSV or JSON export as chunks for a streaming response, and its file name.
    When the last chunk has gone out, the export is finished (row and event)."""
    record = export_record(export)
    exporter = exporter_for(export.format)
    if not isinstance(exporter, StreamedExporter):
        raise ValueError(f"A {export.format} export is built, not streamed.")

    def chunks() -> Iterator[bytes]:
        sealed: list[dict[str, Any]] = []
        digest, size = hashlib.sha256(), 0
        finished = False
        try:
            for chunk in exporter.chunks(record, sealed, digest):
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

    return chunks(), exporter.filename(record)


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
    receipts: list[tuple[str, bytes]] | None = None,
    verified_by: User | None = None,
) -> verifier.Result:
    """Check an export (verifier.check, as the stand-alone script does) against the keys
    this instance trusts, and against any receipts given (their timestamps against the
    authorities' roots in RFC3161_TSA_ROOTS), then log the check (a Verification row).
    Never raises for a bad file: a bug the verifier ran into is answered, there as here,
    as "not a Boundary export", and logged with its traceback."""
    try:
        result = verifier.check(
            export,
            earlier=earlier,
            receipts=receipts or [],
            tsa_roots=tsa_roots(),
            trusted=signing.trusted_fingerprints(),
            limits=limits,
        )
    except Exception:  # a bug must not become a 500 for HR: log it, answer plainly
        logger.exception("Verification of %s failed unexpectedly", file_name)
        result = verifier.Result(verifier.NOT_EXPORT, "it could not be read as a Boundary export")
    for checked in (result, result.earlier):
        if checked is not None and checked.unexpected is not None:
            logger.error(
                "Verification of %s failed unexpectedly",
                file_name,
                exc_info=checked.unexpected,
            )
    verification_record(
        result=result,
        source=source,
        file_name=file_name,
        file_size=fileformat.file_size(export),
        file_sha256=fileformat.sha256_of(export),
        verified_by=verified_by,
        earlier_sha256=fileformat.sha256_of(earlier) if earlier is not None else "",
    )
    return result


def tsa_roots() -> list[bytes]:
    """The PEM root certificates of the timestamp authorities this instance trusts
    (RFC3161_TSA_ROOTS; `check --deploy` says if one cannot be read)."""
    roots = []
    for path in settings.RFC3161_TSA_ROOTS:
        try:
            with open(path, "rb") as handle:
                roots.append(handle.read())
        except OSError:
            logger.exception("RFC3161_TSA_ROOTS: cannot read %s", path)
    return roots


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
        # Not compared (the earlier file did not pass its own check): neither yes nor no.
        earlier_contained=None if prefix is None or not prefix.compared else prefix.contained,
        earlier_reason="" if prefix is None else _earlier_reason(result)[:500],
    )


def _earlier_reason(result: verifier.Result) -> str:
    """What the log keeps of the comparison with an earlier file: the earlier file's own
    verdict, then the comparison or why none was made."""
    prefix, earlier = result.prefix, result.earlier
    if prefix is None:  # pragma: no cover - only called with a prefix
        return ""
    own = f"the earlier file on its own: {earlier.label}. " if earlier is not None else ""
    return own + (prefix.reason if prefix.compared else f"Not compared: {prefix.reason}")
