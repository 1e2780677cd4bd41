"""record.json: the full structure, one chain entry per line, sealed at the end."""

from collections.abc import Iterator
from typing import Any

from .. import chain
from . import fileformat
from .record import Record, sealed_chunks


def json_chunks(
    record: Record, sealed: list[dict[str, Any]] | None = None, digest: Any = None
) -> Iterator[bytes]:
    """record.json in pieces (record.sealed_chunks). The seal comes last, when the
    entries have been read and hashed."""
    return sealed_chunks(record, "json", json_lines(record), seal_line, sealed, digest)


def json_lines(record: Record) -> Iterator[bytes]:
    canonical = chain.canonical_bytes
    yield fileformat.JSON_HEAD
    yield fileformat.JSON_CONTEXT_PREFIX + canonical(record.context()) + b",\n"
    yield fileformat.JSON_ENTRIES_OPEN
    previous = None
    for entry in record.entries():
        if previous is not None:
            yield previous + b",\n"
        previous = canonical(entry)
    if previous is not None:
        yield previous + b"\n"
    yield fileformat.JSON_ENTRIES_CLOSE


def seal_line(seal: dict[str, Any]) -> bytes:
    return fileformat.json_seal_line(seal)
