"""One exporter per format: what it is called, how its file is named and served, and
whether it is streamed as it is written (CSV, JSON) or built into a file first (PDF, ZIP).
Services and views ask `exporter_for(format)`, never the format itself."""

from collections.abc import Callable, Iterator
from typing import IO, Any, ClassVar

from django.utils import timezone

from .bundle import write_bundle
from .csvexport import csv_chunks
from .jsonexport import json_chunks
from .pdf import pdf_bytes
from .record import Record

Progress = Callable[[int, str], None]
Sealed = list[dict[str, Any]]


class Exporter:
    identifier: ClassVar[str]  # Export.Format's value
    extension: ClassVar[str]
    content_type: ClassVar[str]
    streamed: ClassVar[bool] = False

    def write(
        self, record: Record, target: IO[bytes], *, sealed: Sealed, progress: Progress
    ) -> None:
        """Write the whole file into `target`; its seal is appended to `sealed`."""
        raise NotImplementedError

    def filename(self, record: Record) -> str:
        stamp = timezone.localtime(record.generated_at, record.zone).strftime("%Y-%m-%d")
        return f"boundary-record-{stamp}-{record.head_seq}.{self.extension}"


class StreamedExporter(Exporter):
    """A file written line by line, so a response can send it as it is written."""

    streamed = True
    # The writer: (record, sealed, digest) -> the file in pieces.
    writer: ClassVar[Callable[[Record, Sealed | None, Any], Iterator[bytes]]]

    def chunks(
        self, record: Record, sealed: Sealed | None = None, digest: Any = None
    ) -> Iterator[bytes]:
        """The file in pieces; `digest` (a hashlib SHA-256), if given, covers it all."""
        return type(self).writer(record, sealed, digest)

    def write(
        self, record: Record, target: IO[bytes], *, sealed: Sealed, progress: Progress
    ) -> None:
        for chunk in self.chunks(record, sealed):
            target.write(chunk)


class CsvExporter(StreamedExporter):
    identifier = "csv"
    extension = "csv"
    content_type = "text/csv; charset=utf-8"
    writer = csv_chunks


class JsonExporter(StreamedExporter):
    identifier = "json"
    extension = "json"
    content_type = "application/json"
    writer = json_chunks


class PdfExporter(Exporter):
    identifier = "pdf"
    extension = "pdf"
    content_type = "application/pdf"

    def write(
        self, record: Record, target: IO[bytes], *, sealed: Sealed, progress: Progress
    ) -> None:
        target.write(pdf_bytes(record, sealed=sealed, progress=progress))


class ZipExporter(Exporter):
    identifier = "zip"
    extension = "zip"
    content_type = "application/zip"

    def write(
        self, record: Record, target: IO[bytes], *, sealed: Sealed, progress: Progress
    ) -> None:
        write_bundle(record, target, sealed=sealed, progress=progress)


EXPORTERS: dict[str, Exporter] = {
    exporter.identifier: exporter
    for exporter in (PdfExporter(), CsvExporter(), JsonExporter(), ZipExporter())
}


def exporter_for(file_format: str) -> Exporter:
    return EXPORTERS[file_format]
