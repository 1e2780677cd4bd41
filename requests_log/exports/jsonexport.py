"""record.json: the full structure, one chain entry per line, sealed at the end."""

import hashlib
from collections.abc import Iterator
from typing import Any

from .. import chain
from . import verifier
from .record import Record
from .signing import signing_key

FLUSH_AT = 256 * 1024


def json_chunks(
    record: Record, sealed: list[dict[str, Any]] | None = None, digest: Any = None
) -> Iterator[bytes]:
    """The file in pieces of about 256 KB. The seal comes last, when the entries have
    been read and hashed; it is also appended to `sealed` for the caller. `digest` (a
    hashlib SHA-256), if given, ends up covering the whole file."""
    canonical = chain.canonical_bytes
    digest = hashlib.sha256() if digest is None else digest
    pending = [
        verifier.JSON_HEAD,
        verifier.JSON_CONTEXT_PREFIX + canonical(record.context()) + b",\n",
        verifier.JSON_ENTRIES_OPEN,
    ]
    size = sum(map(len, pending))
    previous = None
    for entry in record.entries():
        if previous is not None:
            pending.append(previous + b",\n")
            size += len(previous) + 2
        previous = canonical(entry)
        if size >= FLUSH_AT:
            block = b"".join(pending)
            digest.update(block)
            yield block
            pending, size = [], 0
    if previous is not None:
        pending.append(previous + b"\n")
    pending.append(verifier.JSON_ENTRIES_CLOSE)
    block = b"".join(pending)
    digest.update(block)
    yield block
    manifest = record.manifest(file_kind="json", body_sha256=digest.hexdigest())
    seal = signing_key().seal(manifest)
    if sealed is not None:
        sealed.append(seal)
    block = verifier.JSON_SEAL_PREFIX + canonical(seal) + b"}\n"
    digest.update(block)
    yield block
