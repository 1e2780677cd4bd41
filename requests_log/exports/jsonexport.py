"""record.json: the full structure, one chain entry per line, sealed at the end."""

import tempfile
from collections.abc import Iterator
from typing import Any

from .. import chain
from . import fileformat
from .record import FLUSH_AT, Record, sealed_chunks


def json_chunks(
    record: Record, sealed: list[dict[str, Any]] | None = None, digest: Any = None
) -> Iterator[bytes]:
    """record.json in pieces (record.sealed_chunks). The seal comes last, when the
    entries have been read and hashed."""
    return sealed_chunks(record, "json", json_lines(record), seal_line, sealed, digest)


def json_lines(record: Record) -> Iterator[bytes]:
    """The file's lines. Its context (line 2) is folded from its own entries (chain.Replay),
    so the entries are read once, into a temporary file, before anything is sent; the
    record keeps what they say for the CSV and the PDF of the same export."""
    canonical = chain.canonical_bytes
    replay = chain.Replay()
    with tempfile.TemporaryFile() as entries:
        previous = None
        for entry in record.entries():
            replay.add_entry(entry)
            if previous is not None:
                entries.write(previous + b",\n")
            previous = canonical(entry)
        if previous is not None:
            entries.write(previous + b"\n")
        record.keep_story(replay)
        yield fileformat.JSON_HEAD
        yield fileformat.JSON_CONTEXT_PREFIX + canonical(record.context()) + b",\n"
        yield fileformat.JSON_ENTRIES_OPEN
        entries.seek(0)
        while block := entries.read(FLUSH_AT):
            yield block
        yield fileformat.JSON_ENTRIES_CLOSE


def seal_line(seal: dict[str, Any]) -> bytes:
    return fileformat.json_seal_line(seal)
