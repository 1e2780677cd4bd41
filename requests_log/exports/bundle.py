"""The ZIP bundle: manifest.json (signed, listing every file's SHA-256) first, then a
README, record.json, record.csv, record.pdf and the evidence files of the shown requests,
written by containerformat.write_zip (stored, every header derived from the manifest)."""

import functools
import hashlib
import io
import re
import tempfile
from collections.abc import Callable, Iterable
from typing import IO, Any

from django.conf import settings

from .. import imagemeta
from ..models import Evidence
from . import containerformat, fileformat
from .csvexport import csv_chunks
from .jsonexport import json_chunks
from .pdf import pdf_bytes
from .record import PHOTO_ORIGINALS, Record
from .signing import grouped, signing_key

Progress = Callable[[int, str], None]

README = """This is a Boundary export: a record of requests to promote an employer on
personal social accounts, kept by {name}.

  record.pdf   the record to read
  record.csv   one row per timeline event, to sort in a spreadsheet
  record.json  the full structure with every event's content and hashes
  evidence/    the files attached to the requests, as stored
  stripped/    copies of the photos that carried metadata (GPS position, camera…),
               re-encoded from their pixels alone; manifest.json names the original
               each was made from by its SHA-256, which the record's events hold
  manifest.json  the SHA-256 of every file here, signed with the instance's key

Signing key fingerprint: {fingerprint}
Chain head: #{head_seq} {head_hash}

To check it, upload this ZIP at {site}/verify/ (no account needed), or run the
stand-alone verifier (verifier.py, fileformat.py, containerformat.py,
receiptformat.py, chain.py and flags.py from Boundary, with Python and the cryptography package):

  python verifier.py this-file.zip --public-key {fingerprint_raw}
"""


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return cleaned[:80] or "file"


def _spool(chunks: Iterable[bytes]) -> IO[bytes]:
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    for chunk in chunks:
        spooled.write(chunk)
    spooled.seek(0)
    return spooled


def _stripped(item: Evidence, original: IO[bytes]) -> imagemeta.Stripped | None:
    """A stripped copy of an image that carries metadata; None for any other file."""
    if not item.content_type.startswith("image/") or item.size > settings.EVIDENCE_MAX_BYTES:
        return None
    data = original.read()
    original.seek(0)
    if not imagemeta.read_metadata(data).has_metadata:
        return None
    return imagemeta.stripped_copy(data)


def _digest(handle: IO[bytes]) -> dict[str, Any]:
    digest, size = hashlib.sha256(), 0
    handle.seek(0)
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return {"sha256": digest.hexdigest(), "bytes": size}


def write_bundle(
    record: Record,
    target: IO[bytes],
    *,
    sealed: list[dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> None:
    report = progress or (lambda percent, note: None)
    key = signing_key()
    files: dict[str, IO[bytes]] = {}
    report(2, "Writing record.json")
    files["record.json"] = _spool(json_chunks(record))
    report(8, "Writing record.csv")
    files["record.csv"] = _spool(csv_chunks(record))
    files["record.pdf"] = _spool(
        [
            pdf_bytes(
                record,
                record_json=files["record.json"],
                progress=lambda p, note: report(12 + p * 70 // 100, note),
            )
        ]
    )
    files["README.txt"] = _spool(
        [
            README.format(
                name=record.employee.display_name,
                fingerprint=grouped(key.fingerprint),
                fingerprint_raw=key.fingerprint,
                head_seq=record.head_seq,
                head_hash=record.head_hash,
                site=settings.SITE_URL.rstrip("/"),
            ).encode()
        ]
    )
    report(85, "Adding the evidence files")
    hide_names = "name" in record.withhold
    stripped: dict[str, dict[str, Any]] = {}
    evidence = Evidence.objects.filter(promotion_request__in=record.requests().values("pk"))
    for item in evidence.order_by("pk").iterator():
        name = f"evidence/{item.pk}"
        if not hide_names:
            name += f"-{_safe_name(item.original_name)}"
        with item.file.open("rb") as source:
            original = _spool(iter(functools.partial(source.read, 1024 * 1024), b""))
        copy = _stripped(item, original)
        if copy is None:
            files[name] = original
            continue
        copy_name = f"stripped/{item.pk}"
        if not hide_names:
            copy_name += f"-{_safe_name(item.original_name.rsplit('.', 1)[0])}"
        files[f"{copy_name}.{copy.extension}"] = io.BytesIO(copy.data)
        keep = PHOTO_ORIGINALS not in record.withhold
        stripped[f"{copy_name}.{copy.extension}"] = {
            "original": name if keep else None,
            "original_sha256": _digest(original)["sha256"],
        }
        if keep:
            files[name] = original
        else:
            original.close()
    try:
        listing = {name: _digest(handle) for name, handle in sorted(files.items())}
        extra: dict[str, Any] = {"stripped": stripped} if stripped else {}
        manifest = record.manifest(file_kind="zip", files=listing, **extra)
        seal = key.seal(manifest)
        if sealed is not None:
            sealed.append(seal)
        report(95, "Writing the ZIP")
        files[containerformat.ZIP_MANIFEST] = io.BytesIO(fileformat.zip_manifest_bytes(seal))
        members = [(name, files[name]) for name in containerformat.zip_order(files)]
        containerformat.write_zip(target, members, manifest["generated_at"])
    finally:
        for handle in files.values():
            handle.close()
