"""Check a Boundary export: stand-alone, with nothing but Python 3.11+ and `cryptography`.

    python verifier.py EXPORT [--earlier OLDER_EXPORT] [--receipt RECEIPT ...]
                       [--tsa-root PEM ...] [--public-key KEY] [--json] [--jobs N]

EXPORT is a file Boundary wrote: record.json, record.csv, record.pdf or a .zip bundle.
Copy this file, `fileformat.py`, `containerformat.py` and `receiptformat.py` (beside it),
and `chain.py` and `flags.py` (from requests_log/) into one folder, `pip install
cryptography`, and run it there; it reads no database and imports nothing else.
KEY is the instance's public key as published on its "Public key" page: a PEM file,
the raw key in base64, or its fingerprint ("SHA256:…"). Give it more than once to
trust older keys. Without it the check still runs, but cannot say whose key signed.

The verdict is exactly one of:
  intact      every event's hash recomputes, each links to the one before it, the
              chain ends at the signed head, every file matches the signed manifest,
              and the signature is by a key you trust;
  altered     something differs from what was signed, or the file holds bytes that
              are neither signed nor derived from what is; the first event or file
              that fails is named, with why;
  unknown_key the contents match a valid signature, but by a key you did not trust;
  not_export  the file is not something Boundary wrote (or is too large to check).
With --earlier it first says each file's own verdict, then whether the later export
contains the earlier one unchanged: the two are compared only if both pass their own
checks (under the keys you trust), so a forged or damaged earlier file never makes a
genuine later one look rewritten.
With --receipt (a receipt the employee kept: a signed checkpoint of her chain, see
receiptformat.Receipt), it says of each receipt whether the export holds the entry it
signed unchanged, or the record was rewritten or cut after it was issued. A receipt's
RFC 3161 timestamps are checked against the --tsa-root certificates, if the
rfc3161-client package is installed too; they show when the receipt existed, which no
one running the server can set.
Exit status: 0 intact (and contains the earlier one, and agrees with every receipt),
1 altered, 2 unknown key, 3 not an export, 4 intact but rewritten or cut since the
earlier export or a receipt, 5 intact but an earlier file or a receipt could not be
compared (the earlier file did not pass its own check; a receipt is of another record).

How the record proves itself (see chain.py): each timeline event's hash is SHA-256 over
the canonical JSON of its header (which holds the previous event's hash) and one salted
digest per field. An export shows a field as its value and salt, so its digest can be
recomputed, or, when the employee withheld it, as the digest alone. Events outside the
export's scope are shown as withheld runs: their sequence numbers and the hash of the
run's last event, which the next shown event links to. A manifest with the chain's head,
the counts and the SHA-256 of the file's bytes is signed with the instance's Ed25519 key.

The file layouts, and everything else about the bytes, are in fileformat.py (with
containerformat.py for the PDF and the ZIP, receiptformat.py for receipts).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import itertools
import json
import os
import re
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from requests_log import chain
    from requests_log.exports import containerformat, fileformat, receiptformat
except ImportError:  # stand-alone: the files named above sit beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chain  # type: ignore[no-redef, import-not-found]
    import containerformat  # type: ignore[no-redef, import-not-found]
    import fileformat  # type: ignore[no-redef, import-not-found]
    import receiptformat  # type: ignore[no-redef, import-not-found]


# The verdicts and the exception that carries one (fileformat.py), as callers name them.
INTACT, ALTERED = fileformat.INTACT, fileformat.ALTERED
UNKNOWN_KEY, NOT_EXPORT = fileformat.UNKNOWN_KEY, fileformat.NOT_EXPORT
VERDICT_LABELS = fileformat.VERDICT_LABELS
Verdict, altered, not_export = fileformat.Verdict, fileformat.altered, fileformat.not_export
ChainSummary = chain.ChainSummary


# --- Results -------------------------------------------------------------------------------


@dataclass
class Result:
    verdict: str
    reason: str
    file_kind: str = ""
    where: str = ""  # the first event or file that fails
    manifest: dict[str, Any] | None = None
    key_fingerprint: str = ""
    manifest_sha256: str = ""
    chain: ChainSummary | None = None
    files: dict[str, Any] = field(default_factory=dict)
    prefix: Prefix | None = None  # with an earlier export: does this one contain it?
    earlier: Result | None = None  # that earlier export's own result
    inner_keys: set[str] = field(default_factory=set)  # keys of records inside a PDF or ZIP
    public_key: bytes = b""  # the raw key that signed it, which checks a receipt
    # A bug in the verifier that this file ran into (the answer is then "not_export"):
    # the page logs it; the command line never shows a traceback.
    unexpected: Exception | None = None
    receipts: list[ReceiptCheck] = field(default_factory=list)  # with receipts: each one's
    # The timestamped checkpoints the export carries: what each one's timestamps say.
    anchors: list[ReceiptCheck] = field(default_factory=list)

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        summary = self.chain
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "file_kind": self.file_kind,
            "where": self.where,
            "key_fingerprint": self.key_fingerprint,
            "manifest_sha256": self.manifest_sha256,
            "manifest": self.manifest,
            "chain": None
            if summary is None
            else {
                "events": summary.events,
                "shown": summary.shown,
                "withheld": summary.withheld,
                "fields_withheld": summary.fields_withheld,
                "head_seq": summary.head_seq,
                "head_hash": summary.head_hash,
            },
            "prefix": None if self.prefix is None else self.prefix.__dict__,
            "earlier": None if self.earlier is None else self.earlier.as_dict(),
            "receipts": [receipt.__dict__ for receipt in self.receipts],
            "checkpoints": [anchor.__dict__ for anchor in self.anchors],
        }


@dataclass
class Prefix:
    contained: bool
    reason: str
    # False when the two files were not compared, because one of them did not verify
    # (or they are signed by different keys): `reason` says why.
    compared: bool = True


@contextmanager
def claimed_by(manifest: dict[str, Any], key: bytes) -> Iterator[None]:
    """Attach the opened seal to any verdict raised inside, so the answer can say what
    the file claims to be."""
    try:
        yield
    except chain.Broken as broken:
        verdict = altered(broken.reason, broken.where)
        verdict.manifest, verdict.key_fingerprint = manifest, fileformat.fingerprint(key)
        raise verdict from broken
    except Verdict as verdict:
        if verdict.manifest is None:
            verdict.manifest, verdict.key_fingerprint = manifest, fileformat.fingerprint(key)
        raise


def intact(
    file_kind: str,
    manifest: dict[str, Any],
    key: bytes,
    summary: ChainSummary | None,
    files: dict[str, Any] | None = None,
) -> Result:
    """Every check of the file passed (whether its key is trusted is decided last)."""
    if summary is not None:
        check_anchors(manifest, key, summary)
    digest = fileformat.manifest_digest(manifest)
    result = Result(INTACT, "", file_kind, "", manifest, fileformat.fingerprint(key), digest)
    result.chain, result.files, result.public_key = summary, files or {}, key
    return result


def check_anchors(manifest: dict[str, Any], key: bytes, summary: ChainSummary) -> None:
    """The export's own timestamped checkpoints (its manifest's "checkpoints") are
    signed by its key and state its chain: Boundary carries only those whose position
    the export shows, so any other is a changed or forged file."""
    origin = receiptformat.receipt_origin_of(manifest)
    for receipt in receiptformat.anchors_of(manifest):
        where = f"event #{receipt.seq}"
        if receipt.origin != origin or not signed_by(receipt, key):
            raise altered(
                f"its checkpoint of event #{receipt.seq} is not signed by its own key", "seal"
            )
        if summary.probe_hashes.get(receipt.seq) != receipt.head_hash:
            raise altered(
                f"its checkpoint of event #{receipt.seq} states another chain: the chain "
                f"was rewritten after the checkpoint was issued ({receipt.issued_at})",
                where,
            )


# --- The seal ------------------------------------------------------------------------------


def open_seal(seal: Any, file_kind: str, limits: fileformat.Limits) -> tuple[dict[str, Any], bytes]:
    """Check the seal's signature; return its manifest and the raw public key that signed it."""
    if not isinstance(seal, dict) or not {"manifest", "signature", "public_key"} <= set(seal):
        raise altered("its seal is incomplete", "seal")
    manifest = seal["manifest"]
    try:
        public_key = base64.b64decode(seal["public_key"], validate=True)
        signature = base64.b64decode(seal["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, fileformat.signed_bytes(manifest)
        )
    except (InvalidSignature, ValueError, TypeError, binascii.Error, RecursionError) as error:
        raise altered(
            "the manifest does not match its signature: it was changed after signing", "seal"
        ) from error
    if not isinstance(manifest, dict) or manifest.get("format") != fileformat.FORMAT:
        raise not_export("its manifest is not a Boundary export manifest")
    if manifest.get("version") not in fileformat.VERSIONS:
        raise not_export(
            f"it is an export of version {fileformat.printable(manifest.get('version'))}, "
            "which this verifier does not know "
            f"(it knows {', '.join(map(str, fileformat.VERSIONS))})"
        )
    if manifest.get("file") != file_kind:
        raise altered(
            f"the seal belongs to a {fileformat.printable(manifest.get('file'))} file, not to "
            f"this {file_kind}",
            "seal",
        )
    problem = manifest_problem(manifest, file_kind, limits)
    if problem is not None:
        raise not_export(f"its signed manifest is not one Boundary writes (its {problem})")
    return manifest, public_key


def manifest_problem(
    manifest: dict[str, Any], file_kind: str, limits: fileformat.Limits
) -> str | None:
    """What of a validly signed manifest is missing or of the wrong type (None if all is
    as Boundary writes it), so that no later check can trip over its shape. Keys that
    are not read here may be added freely: the signature covers them."""

    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    employee, summary = manifest.get("employee"), manifest.get("chain")
    if not isinstance(employee, dict) or not isinstance(employee.get("name"), str):
        return "employee"
    if not whole(employee.get("id")):
        return "employee"
    if not isinstance(summary, dict) or not isinstance(summary.get("head_hash"), str):
        return "chain"
    if not all(whole(summary.get(key)) for key in ("head_seq", "shown", "withheld")):
        return "chain"
    if not whole(summary.get("fields_withheld")):
        return "chain"
    if not isinstance(manifest.get("instance"), str):
        return "instance"
    if containerformat.dos_time(manifest.get("generated_at")) is None:
        return "generated_at"
    if file_kind != "zip" and not isinstance(manifest.get("body_sha256"), str):
        return "body_sha256"
    if file_kind == "pdf" and not isinstance(manifest.get("record_sha256"), str):
        return "record_sha256"
    anchors = manifest.get("checkpoints", [])
    if not isinstance(anchors, list) or len(anchors) > receiptformat.ANCHORS_MAX:
        return "checkpoints"
    for text in anchors:
        try:
            if (
                not isinstance(text, str)
                or receiptformat.read_receipt(text).seq > summary["head_seq"]
            ):
                return "checkpoints"
        except ValueError:
            return "checkpoints"
    if file_kind == "zip":
        files = manifest.get("files")
        if not isinstance(files, dict) or not files or len(files) >= limits.max_entries:
            return "files"
        for name, item in files.items():
            if name == containerformat.ZIP_MANIFEST or not containerformat.ZIP_NAME.fullmatch(name):
                return "files"
            if not isinstance(item, dict) or not isinstance(item.get("sha256"), str):
                return "files"
            if not whole(item.get("bytes")) or item["bytes"] >= containerformat.ZIP_MAX:
                return "files"
        if _stripped_problem(manifest.get("stripped", {}), files):
            return "stripped"
    return None


def _stripped_problem(stripped: Any, files: dict[str, Any]) -> bool:
    """Whether the manifest's `stripped` (each stripped copy: the SHA-256 of the original
    it was made from, and the original's name when the ZIP holds it) is misshapen."""
    if not isinstance(stripped, dict):
        return True
    listed = {name for name in files if name.startswith("stripped/")}
    if set(stripped) != listed:
        return True
    for item in stripped.values():
        if not isinstance(item, dict) or set(item) != {"original", "original_sha256"}:
            return True
        original, digest = item["original"], item["original_sha256"]
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return True
        if original is not None and (
            not isinstance(original, str)
            or not original.startswith("evidence/")
            or files.get(original, {}).get("sha256") != digest
        ):
            return True
    return False


def check_seal_bytes(file_kind: str, found: fileformat.SealLine) -> None:
    """The seal is written byte for byte as Boundary writes it, and nothing follows it."""
    problem = fileformat.seal_spelling(file_kind, found)
    if problem is not None:
        raise altered(problem, "seal")
    if found.trailing:
        count = fileformat.plural(found.trailing, "byte")
        raise altered(f"{count} follow the seal at its end, which nothing signs", "file")


def too_deep(walker: chain.ChainWalker) -> fileformat.Verdict:
    return altered(
        f"the entry after event #{walker.next_seq - 1} is nested too deeply to be Boundary's",
        f"event #{walker.next_seq}",
    )


def check_body(manifest: dict[str, Any], reader: fileformat.HashingReader, file_kind: str) -> None:
    if reader.digest.hexdigest() != manifest.get("body_sha256"):
        raise altered(
            f"the {file_kind} file's bytes differ from what was signed, although every "
            "event's hash checks out: a label, a time shown in local time or a summary was "
            "changed, or the file was re-saved",
            "file",
        )


# --- JSON -----------------------------------------------------------------------------------


def verify_json(
    handle: IO[bytes], size: int, limits: fileformat.Limits, probe: frozenset[int]
) -> Result:
    found = fileformat.json_seal(handle, size, limits)
    manifest, key = open_seal(found.seal, "json", limits)
    with claimed_by(manifest, key):
        check_seal_bytes("json", found)
        probe |= receiptformat.anchor_seqs(manifest)
        return _verify_json_body(handle, found.start, manifest, key, limits, probe)


def _verify_json_body(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: bytes,
    limits: fileformat.Limits,
    probe: frozenset[int],
) -> Result:
    if limits.jobs > 1 and body_length >= PARALLEL_MIN_BYTES:
        result = _verify_json_in_parallel(handle, body_length, manifest, key, limits, probe)
        if result is not None:
            return result
        handle.seek(0)  # something failed: the check below names the first failure exactly
    replay = chain.Replay()
    walker = chain.ChainWalker(manifest, probe, replay)
    reader = fileformat.HashingReader(handle, body_length)
    found: dict[str, Any] = {}
    try:
        for line in fileformat.json_entry_lines(reader, limits, found):
            try:
                entry = fileformat.json_entry(line)
            except ValueError as error:
                raise altered(
                    f"the entry after event #{walker.next_seq - 1} is not valid JSON",
                    f"event #{walker.next_seq}",
                ) from error
            walker.add(entry)
    except fileformat.EndedEarly as error:
        raise altered(
            f"the entries end early, after event #{walker.next_seq - 1}",
            f"event #{walker.next_seq}",
        ) from error
    except RecursionError as error:
        raise too_deep(walker) from error
    summary = walker.finish()
    check_body(manifest, reader, "JSON")
    check_context(manifest, found, replay)
    return intact("json", manifest, key, summary)


def check_context(manifest: dict[str, Any], found: dict[str, Any], replay: chain.Replay) -> None:
    """From version 2 on, record.json's context must be exactly what its entries say
    (chain.Replay.context): nothing the reader is shown beside the events may come from
    anywhere else."""
    if found.get("version") != manifest.get("version"):
        raise altered("its first line and its seal disagree on the version", "file")
    if manifest.get("version", 1) < 2:
        return  # version 1: the context came from the server's tables, and is not checked
    if chain.canonical_bytes(replay.context()) != found.get("context"):
        raise altered(
            "its context (names, requests, statuses, flags) does not follow from its "
            "events: it was written from somewhere else, or changed",
            "context",
        )


# A long record.json can be checked by several processes, each walking a stretch of
# entries; the stretches must then join up. This only ever answers "intact": on any doubt
# the serial check runs, so the verdict and its reason are the same either way.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024


@dataclass
class Stretch:
    """What one process found in a run of consecutive entries, all of them sound."""

    first_seq: int
    first_prev: str | None  # what its first entry links to (None for a withheld run)
    last_seq: int
    last_hash: str
    summary: chain.ChainSummary


def _verify_json_in_parallel(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: bytes,
    limits: fileformat.Limits,
    probe: frozenset[int],
) -> Result | None:
    path = getattr(handle, "name", None)
    if not isinstance(path, str) or not os.path.isfile(path):
        return None  # an upload in memory, a ZIP member: checked in this process
    walker = chain.ChainWalker(manifest, probe)
    handle.seek(0)
    head = [handle.readline(limits.max_line) for _ in range(3)]
    if fileformat.json_version(head[0]) != manifest.get("version") or (
        head[2] != fileformat.JSON_ENTRIES_OPEN
    ):
        return None
    entries_end = body_length - len(fileformat.JSON_ENTRIES_CLOSE)
    bounds = [handle.tell()]
    handle.seek(entries_end)
    if handle.read(len(fileformat.JSON_ENTRIES_CLOSE)) != fileformat.JSON_ENTRIES_CLOSE:
        return None
    step = (entries_end - bounds[0]) // limits.jobs
    for number in range(1, limits.jobs):  # split at line ends
        handle.seek(bounds[0] + number * step)
        handle.readline(limits.max_line)
        bounds.append(min(handle.tell(), entries_end))
    bounds.append(entries_end)
    try:
        with ProcessPoolExecutor(max_workers=limits.jobs) as pool:
            futures = [
                pool.submit(walk_stretch, path, start, end, walker.employee_id, probe, limits)
                for start, end in itertools.pairwise(bounds)
                if end > start
            ]
            # Meanwhile, in this process: the file's digest, and what its entries say.
            folded = fold_json(handle, body_length, limits)
            stretches = [future.result() for future in futures]
    except Exception:
        # No processes to be had here, or none that can import this module: the serial
        # check answers, as it would anyway.
        return None
    sound = [stretch for stretch in stretches if stretch is not None]
    if len(sound) != len(stretches) or folded is None:
        return None
    digest, found, replay = folded
    if digest != manifest.get("body_sha256"):
        return None
    merged = walker.summary
    for stretch in sound:
        linked = stretch.first_prev is None or stretch.first_prev == walker.prev_hash
        if stretch.first_seq != walker.next_seq or not linked:
            return None
        part = stretch.summary
        merged.shown += part.shown
        merged.withheld += part.withheld
        merged.fields_withheld += part.fields_withheld
        merged.probe_hashes.update(part.probe_hashes)
        merged.exports_logged += part.exports_logged
        merged.evidence_sha256 |= part.evidence_sha256
        walker.next_seq, walker.prev_hash = stretch.last_seq + 1, stretch.last_hash
    try:
        summary = walker.finish()
        check_context(manifest, found, replay)
    except (chain.Broken, Verdict):
        return None
    return intact("json", manifest, key, summary)


def fold_json(
    handle: IO[bytes], body_length: int, limits: fileformat.Limits
) -> tuple[str, dict[str, Any], chain.Replay] | None:
    """The digest of a record.json's body, its version and context, and what its entries
    say (chain.Replay), without checking their hashes (the parallel check does that);
    None if the file cannot be read so (the one-process check then says why)."""
    handle.seek(0)
    reader = fileformat.HashingReader(handle, body_length)
    replay = chain.Replay()
    found: dict[str, Any] = {}
    try:
        for line in fileformat.json_entry_lines(reader, limits, found):
            replay.add_entry(fileformat.json_entry(line))
        while reader.read(fileformat.SCAN_CHUNK):
            pass
    except (Verdict, fileformat.EndedEarly, ValueError, KeyError, TypeError, AttributeError):
        return None
    return reader.digest.hexdigest(), found, replay


def walk_stretch(
    path: str,
    start: int,
    end: int,
    employee_id: Any,
    probe: frozenset[int],
    limits: fileformat.Limits,
) -> Stretch | None:
    """Check the entries between two byte offsets of a record.json, taking the first
    one's place in the chain as given (the caller checks that the stretches join)."""
    walker = chain.ChainWalker({"employee": {"id": employee_id}, "chain": {}}, probe)
    first: tuple[int, str | None] | None = None
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            position = start
            while position < end:
                line = handle.readline(min(limits.max_line, end - position))
                position += len(line)
                if not line.endswith(b"\n"):
                    return None
                entry = fileformat.json_entry(line)
                if first is None:
                    run = entry.get("withheld")
                    first = (
                        (run["from"], None)
                        if run
                        else (entry["event"]["seq"], entry["event"]["prev_hash"])
                    )
                    # A withheld run links to nothing that must be checked here.
                    walker.next_seq, walker.prev_hash = first[0], first[1] or ""
                walker.add(entry)
    except (chain.Broken, ValueError, KeyError, TypeError, AttributeError, OSError):
        return None
    if first is None:
        return None
    last_seq = walker.next_seq - 1
    return Stretch(first[0], first[1], last_seq, walker.prev_hash, walker.summary)


# --- CSV ------------------------------------------------------------------------------------


def verify_csv(
    handle: IO[bytes], size: int, limits: fileformat.Limits, probe: frozenset[int]
) -> Result:
    found = fileformat.csv_seal(handle, size, limits)
    manifest, key = open_seal(found.seal, "csv", limits)
    with claimed_by(manifest, key):
        check_seal_bytes("csv", found)
        probe |= receiptformat.anchor_seqs(manifest)
        return _verify_csv_body(handle, found.start, manifest, key, limits, probe)


def _verify_csv_body(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: bytes,
    limits: fileformat.Limits,
    probe: frozenset[int],
) -> Result:
    walker = chain.ChainWalker(manifest, probe)
    reader = fileformat.HashingReader(handle, body_length)
    try:
        for row_number, cells in fileformat.csv_rows(reader, limits):
            where = f"row {row_number}"
            try:
                entry = fileformat.csv_entry(cells, manifest)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise altered(f"row {row_number} cannot be read as an event", where) from error
            walker.add(entry)
            if fileformat.row_checksum(cells[:-1]) != cells[-1]:
                seq = int(cells[fileformat.COLUMN["seq"]])  # csv_entry read it as a number
                raise altered(
                    f"row {row_number} (event #{seq}) was changed in a column that is not "
                    "part of the event's hash",
                    f"event #{seq}",
                )
    except RecursionError as error:
        raise too_deep(walker) from error
    summary = walker.finish()
    check_body(manifest, reader, "CSV")
    return intact("csv", manifest, key, summary)


# --- PDF ------------------------------------------------------------------------------------


def verify_pdf(
    handle: IO[bytes],
    size: int,
    limits: fileformat.Limits,
    probe: frozenset[int],
    trusted: set[str] | None,
) -> Result:
    found = containerformat.pdf_seal(handle, size, limits)
    manifest, key = open_seal(found.seal, "pdf", limits)
    with claimed_by(manifest, key):
        check_seal_bytes("pdf", found)
        return _verify_pdf_body(handle, found.start, manifest, key, limits, probe, trusted)


def _verify_pdf_body(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: bytes,
    limits: fileformat.Limits,
    probe: frozenset[int],
    trusted: set[str] | None,
) -> Result:
    reader = fileformat.HashingReader(handle, body_length)
    while reader.read(fileformat.SCAN_CHUNK):
        pass
    body_matches = reader.digest.hexdigest() == manifest.get("body_sha256")
    record = None
    for attachment in containerformat.embedded_files(handle, limits.max_line, limits.max_unpacked):
        with attachment:
            if fileformat.json_version(attachment.read(len(fileformat.JSON_HEAD))) is None:
                continue
            record_size = fileformat.file_size(attachment)
            record_digest = hashlib.sha256()
            while chunk := attachment.read(fileformat.SCAN_CHUNK):
                record_digest.update(chunk)
            inner = verify_open(attachment, record_size, "json", limits, probe, trusted)
            record = (inner, record_digest.hexdigest())
            break
    if record is None:
        if body_matches:
            raise altered("the record attached to the PDF cannot be read", "record.json")
        raise altered("the PDF's bytes differ from what was signed", "file")
    inner, record_sha = record
    if inner.verdict not in (INTACT, UNKNOWN_KEY):
        raise Verdict(inner.verdict, f"the attached record: {inner.reason}", inner.where)
    if not body_matches:
        raise altered(
            "the PDF's bytes differ from what was signed (its pages were changed), although "
            "the record attached to it is intact",
            "file",
        )
    if record_sha != manifest.get("record_sha256") or not same_head(inner.chain, manifest):
        raise altered("the attached record is not the one the PDF was sealed with", "record")
    result = intact("pdf", manifest, key, inner.chain)
    result.inner_keys = {inner.key_fingerprint}
    return result


def same_head(summary: ChainSummary | None, manifest: dict[str, Any]) -> bool:
    """Does a PDF's or ZIP's own manifest claim the head of the record inside it?"""
    claimed = manifest["chain"]
    return summary is not None and (summary.head_seq, summary.head_hash) == (
        claimed["head_seq"],
        claimed["head_hash"],
    )


# --- ZIP ------------------------------------------------------------------------------------


def verify_zip(
    handle: IO[bytes],
    size: int,
    limits: fileformat.Limits,
    probe: frozenset[int],
    trusted: set[str] | None,
) -> Result:
    found = containerformat.zip_seal(handle, size, limits)
    manifest, key = open_seal(found.seal, "zip", limits)
    with claimed_by(manifest, key):
        check_seal_bytes("zip", found)
        return _verify_zip_members(
            handle, size, found.written, manifest, key, limits, probe, trusted
        )


def _verify_zip_members(
    handle: IO[bytes],
    size: int,
    manifest_json: bytes,
    manifest: dict[str, Any],
    key: bytes,
    limits: fileformat.Limits,
    probe: frozenset[int],
    trusted: set[str] | None,
) -> Result:
    """Walk the ZIP from its first byte to its last, comparing every header with the one
    derived from the manifest and every file with its SHA-256 there."""
    listed = manifest["files"]
    when = containerformat.dos_time(manifest["generated_at"])
    if when is None:  # pragma: no cover - open_seal checked it
        raise altered("the manifest's time cannot be read", "seal")
    sizes = {name: item["bytes"] for name, item in listed.items()}
    sizes[containerformat.ZIP_MANIFEST] = len(manifest_json)
    entries: list[containerformat.ZipEntry] = []
    record: IO[bytes] | None = None
    evidence = {}
    position = 0
    try:
        for name in containerformat.zip_order(listed):
            entry, kept = _zip_member(
                handle, size, position, name, sizes, listed, entries, when, limits
            )
            if name == "record.json":
                record = kept
            elif name.startswith("evidence/"):
                evidence[name] = listed[name]["sha256"]
            entries.append(entry)
            position = entry.offset + containerformat.ZIP_LOCAL.size + len(name) + entry.size
        _zip_directory(handle, size, position, entries, when)
        if record is None:
            raise altered("record.json is missing", "record.json")
        record_size = fileformat.file_size(record)
        inner = verify_open(record, record_size, "json", limits, probe, trusted)
    finally:
        if record is not None:
            record.close()
    if inner.verdict not in (INTACT, UNKNOWN_KEY):
        raise Verdict(inner.verdict, f"record.json: {inner.reason}", inner.where)
    if inner.chain is None:  # pragma: no cover - an intact record has a chain
        raise altered("record.json could not be checked", "record.json")
    for name, digest in evidence.items():
        if digest not in inner.chain.evidence_sha256:
            raise altered(f"{name} is not a file the record's events describe", name)
    for name, item in sorted(manifest.get("stripped", {}).items()):
        if item["original_sha256"] not in inner.chain.evidence_sha256:
            raise altered(f"{name} is a copy of a file the record's events do not describe", name)
    if not same_head(inner.chain, manifest):
        raise altered("record.json is from a different export than the manifest", "record")
    result = intact("zip", manifest, key, inner.chain, listed)
    result.inner_keys = {inner.key_fingerprint}
    return result


def _zip_member(
    handle: IO[bytes],
    size: int,
    position: int,
    name: str,
    sizes: dict[str, int],
    listed: dict[str, Any],
    entries: list[containerformat.ZipEntry],
    when: tuple[int, int],
    limits: fileformat.Limits,
) -> tuple[containerformat.ZipEntry, IO[bytes] | None]:
    """Check the file that must start at `position`; return its entry, and its bytes in
    a temporary file if it is record.json (the caller closes it)."""
    raw, fields, found = containerformat.zip_local_at(handle, position)
    if fields is None:
        if raw[:4] == containerformat.ZIP_CENTRAL_SIGNATURE.to_bytes(4, "little"):
            raise altered(f"{name}, listed in the manifest, is missing", name)
        if len(raw) < containerformat.ZIP_LOCAL.size and position + len(raw) >= size:
            raise altered(f"the ZIP is cut short: it ends before {name}", "file")
        raise altered(
            f"the ZIP holds bytes that belong to no file where {name} should start", "file"
        )
    if len(found) < fields[9]:
        raise altered(f"the ZIP is cut short: it ends inside the header of {name}", "file")
    expected = name.encode()
    if found != expected and (found.startswith(expected) or expected.startswith(found)):
        raise altered(
            f"the ZIP's header of {name} differs from the one Boundary writes (its name "
            "length), so it holds bytes nothing signs",
            name,
        )
    if found != expected:
        other = fileformat.printable(found)
        if any(entry.name == other for entry in entries):
            raise altered("it holds two files with the same name", other)
        if other not in listed:
            raise altered(f"{other} is not listed in the manifest", other)
        if not containerformat.zip_holds(handle, size, name, limits):
            raise altered(f"{name}, listed in the manifest, is missing", name)
        raise altered(
            f"the files are not in the order Boundary writes them: {other} comes where "
            f"{name} should",
            other,
        )
    if fields[3] != 0:
        raise altered(containerformat.zip_compressed(name, fields[3]), name)
    if fields[10]:
        raise altered(containerformat.zip_extra(name), name)
    start = position + len(raw) + len(found)
    length = sizes[name]
    if start + length > size:
        if fields[7] != length and start + fields[7] <= size:
            raise altered(f"{name} does not match the SHA-256 in the manifest", name)
        raise altered(f"the ZIP is cut short: it ends inside {name}", "file")
    handle.seek(start)
    kept = tempfile.TemporaryFile() if name == "record.json" else None  # noqa: SIM115
    try:
        digest, crc, left = hashlib.sha256(), 0, length
        while left:
            chunk = handle.read(min(fileformat.SCAN_CHUNK, left))
            if not chunk:  # pragma: no cover - the size was checked above
                raise altered(f"the ZIP is cut short: it ends inside {name}", "file")
            digest.update(chunk)
            crc = zlib.crc32(chunk, crc)
            left -= len(chunk)
            if kept is not None:
                kept.write(chunk)
        if name != containerformat.ZIP_MANIFEST and digest.hexdigest() != listed[name]["sha256"]:
            raise altered(f"{name} does not match the SHA-256 in the manifest", name)
        entry = containerformat.ZipEntry(name, length, crc, position)
        wanted = containerformat.zip_local_header(entry, when)
        if raw + found != wanted:
            field_name = containerformat.zip_difference(
                containerformat.ZIP_LOCAL_FIELDS, containerformat.ZIP_LOCAL, raw + found, wanted
            )
            raise altered(
                f"the ZIP's header of {name} differs from the one Boundary writes "
                f"(its {field_name}), so it holds bytes nothing signs",
                name,
            )
    except BaseException:
        if kept is not None:
            kept.close()
        raise
    if kept is not None:
        kept.seek(0)
    return entry, kept


def _zip_directory(
    handle: IO[bytes],
    size: int,
    position: int,
    entries: list[containerformat.ZipEntry],
    when: tuple[int, int],
) -> None:
    """After the last file: the central directory and its end record, exactly as they
    derive from the files, then nothing."""
    headers = [containerformat.zip_central_header(entry, when) for entry in entries]
    central = b"".join(headers)
    handle.seek(position)
    found = handle.read(len(central))
    if found != central:
        if found[:4] == containerformat.ZIP_LOCAL_SIGNATURE.to_bytes(4, "little"):
            _, fields, name = containerformat.zip_local_at(handle, position)
            if fields is not None:
                other = fileformat.printable(name)
                raise altered(f"{other} is not listed in the manifest", other)
        if central.startswith(found):
            raise altered("the ZIP is cut short: it ends inside its central directory", "file")
        at = next(i for i, (a, b) in enumerate(zip(found, central, strict=False)) if a != b)
        start = 0
        for entry, header in zip(entries, headers, strict=True):
            if at < start + len(header):
                field_name = containerformat.zip_difference(
                    containerformat.ZIP_CENTRAL_FIELDS,
                    containerformat.ZIP_CENTRAL,
                    found[start : start + len(header)],
                    header,
                )
                raise altered(
                    f"the ZIP's central directory differs from what Boundary writes at "
                    f"{entry.name} (its {field_name}), so it holds bytes nothing signs",
                    "file",
                )
            start += len(header)
    end = containerformat.zip_end(len(entries), len(central), position)
    found = handle.read(len(end))
    if found != end:
        if end.startswith(found):
            raise altered("the ZIP is cut short: it ends inside its last record", "file")
        field_name = containerformat.zip_difference(
            containerformat.ZIP_END_FIELDS, containerformat.ZIP_END, found, end
        )
        if field_name == "comment length":
            raise altered("the ZIP carries a comment, which nothing signs", "file")
        raise altered(
            f"the ZIP's last record differs from what Boundary writes (its {field_name}), "
            "so it holds bytes nothing signs",
            "file",
        )
    trailing = size - position - len(central) - len(end)
    if trailing:
        count = fileformat.plural(trailing, "byte")
        raise altered(f"{count} follow the end of the ZIP, which nothing signs", "file")


# --- Any file -------------------------------------------------------------------------------


def verify_open(
    handle: IO[bytes],
    size: int,
    file_kind: str,
    limits: fileformat.Limits,
    probe: frozenset[int],
    trusted: set[str] | None,
) -> Result:
    """Check an open file; the verdict takes the key into account last."""
    try:
        if file_kind == "zip":
            result = verify_zip(handle, size, limits, probe, trusted)
        elif file_kind == "pdf":
            result = verify_pdf(handle, size, limits, probe, trusted)
        elif file_kind == "csv":
            handle.seek(0)
            head = handle.read(len(fileformat.CSV_BOM) + len(fileformat.CSV_HEADER_LINE))
            if not head.removeprefix(fileformat.CSV_BOM).startswith(fileformat.CSV_HEADER_LINE):
                raise altered(
                    "its header row was changed (was it re-saved by a spreadsheet?)", "row 1"
                )
            result = verify_csv(handle, size, limits, probe)
        else:
            handle.seek(0)
            if fileformat.json_version(handle.read(len(fileformat.JSON_HEAD))) is None:
                raise not_export("it is not a Boundary export")
            result = verify_json(handle, size, limits, probe)
    except Verdict as verdict:
        result = Result(verdict.verdict, verdict.reason, file_kind, verdict.where)
        if verdict.verdict == ALTERED and verdict.manifest is not None:
            result.manifest, result.key_fingerprint = verdict.manifest, verdict.key_fingerprint
        return result
    if trusted is None:
        result.verdict = UNKNOWN_KEY
        result.reason = (
            f"every check passed, signed by the key {result.key_fingerprint}; no key was given "
            "to trust: compare it with the instance's published fingerprint"
        )
    elif not {result.key_fingerprint, *result.inner_keys} <= trusted:
        unknown = sorted({result.key_fingerprint, *result.inner_keys} - trusted)
        result.verdict = UNKNOWN_KEY
        result.reason = (
            f"the contents match the signature, but the signing key {', '.join(unknown)} "
            "is not this instance's key"
        )
    else:
        result.reason = covers(result)
    return result


def covers(result: Result) -> str:
    manifest, summary = result.manifest or {}, result.chain or chain.ChainSummary()
    employee = manifest.get("employee", {}).get("name", "the employee")
    withheld = ""
    counts = [
        f"{count} {noun}{'s' if count != 1 else ''}"
        for count, noun in ((summary.withheld, "event"), (summary.fields_withheld, "field"))
        if count
    ]
    if counts:
        withheld = f"; {' and '.join(counts)} withheld, each accounted for by its hash"
    events = "event #1" if summary.head_seq == 1 else f"events #1 to #{summary.head_seq}"
    return f"{employee}'s record: {events}, {summary.shown} shown{withheld}"


def verify_file(
    handle: IO[bytes],
    *,
    trusted: set[str] | None = None,
    limits: fileformat.Limits | None = None,
    probes: Iterable[int] = (),
) -> Result:
    """Check one export (an open, seekable binary file). Never raises for bad input: the
    answer for any file is one of the four verdicts, the same wherever it is checked. A
    bug that a file runs into is answered as "not an export", and kept in `unexpected`."""
    limits = limits or fileformat.Limits()
    size = fileformat.file_size(handle)
    if size > limits.max_bytes:
        return Result(
            NOT_EXPORT, f"it is larger than the {limits.max_bytes // 2**20} MB this check takes"
        )
    file_kind = fileformat.sniff(handle.read(64))
    if not file_kind:
        return Result(NOT_EXPORT, "it is not a file Boundary writes (JSON, CSV, PDF or ZIP)")
    try:
        return verify_open(handle, size, file_kind, limits, frozenset(probes), trusted)
    except Exception as error:  # a bug: the same plain answer everywhere, never a traceback
        result = Result(NOT_EXPORT, "it could not be read as a Boundary export", file_kind)
        result.unexpected = error
        return result


def not_comparable(earlier: Result, later: Result, trusted: set[str] | None) -> str | None:
    """Why two exports cannot be compared (None if they can): only two files that each
    pass their own check, under the same trusted keys, say anything about each other. A
    forged or damaged earlier file must never make a genuine later one look rewritten."""
    if earlier.verdict == NOT_EXPORT:
        return "the earlier file is not a Boundary export"
    if earlier.verdict == ALTERED:
        return "the earlier export is itself altered, so it proves nothing about this one"
    if later.verdict in (ALTERED, NOT_EXPORT):
        return "this export did not pass its own check"
    if trusted is not None:
        if earlier.verdict == UNKNOWN_KEY:
            return (
                f"the earlier export is signed by a key that is not trusted here "
                f"({earlier.key_fingerprint}), so it proves nothing about this one"
            )
        if later.verdict == UNKNOWN_KEY:
            return "this export is signed by a key that is not trusted here"
    elif {earlier.key_fingerprint, *earlier.inner_keys} != {
        later.key_fingerprint,
        *later.inner_keys,
    }:
        return (
            f"they are signed by different keys ({earlier.key_fingerprint} and "
            f"{later.key_fingerprint}), and no key was given to trust"
        )
    return None


def compare(earlier: Result, later: Result) -> Prefix:
    """Does `later` contain `earlier` unchanged? Both must have passed their checks."""
    if earlier.chain is None or later.chain is None:
        return Prefix(False, "both exports must pass their own checks first", compared=False)
    one, other = earlier.manifest or {}, later.manifest or {}
    if one["employee"]["id"] != other["employee"]["id"] or one["instance"] != other["instance"]:
        return Prefix(False, "they are records of different people or instances")
    seq, head = earlier.chain.head_seq, earlier.chain.head_hash
    if seq > later.chain.head_seq:
        return Prefix(False, f"the earlier export reaches event #{seq}, past the later one's head")
    if seq in later.chain.probe_hashes:
        if later.chain.probe_hashes[seq] == head:
            return Prefix(
                True,
                f"the later export's chain passes through the earlier head (event #{seq}), "
                "so every event up to it is unchanged",
            )
        return Prefix(False, f"event #{seq} differs: the record was rewritten after export")
    for logged in later.chain.exports_logged:
        if logged.get("head_seq") == seq:
            if logged.get("head_hash") != head:
                return Prefix(False, f"event #{seq} differs: the record was rewritten")
            same = logged.get("manifest_sha256") == earlier.manifest_sha256
            return Prefix(
                True,
                f"the later export's event #{logged['seq']} logs an export whose head is the "
                "earlier one's" + (", and it is this very export" if same else ""),
            )
    return Prefix(False, f"the later export withholds event #{seq}, so it cannot be compared")


def check(
    export: IO[bytes],
    *,
    earlier: IO[bytes] | None = None,
    receipts: Sequence[tuple[str, bytes]] = (),
    tsa_roots: Sequence[bytes] = (),
    trusted: set[str] | None = None,
    limits: fileformat.Limits | None = None,
) -> Result:
    """The one way to check an export (an open, seekable binary file), used by the verify
    page, `manage.py verify_record` and this script. With `earlier`, an earlier export of
    the same record, the result carries the earlier file's own result (`earlier`) and,
    when both pass their own checks, whether this one contains it unchanged (`prefix`;
    otherwise `prefix.compared` is False and its reason says why).. With `receipts`
    ((name, text) of each), it says of each whether the export agrees with it (`receipts`,
    see check_receipt); `tsa_roots` are the PEM root certificates of the timestamp
    authorities to trust."""
    older = None
    if earlier is not None:
        older = verify_file(earlier, trusted=trusted, limits=limits)
    read = [(name, read_receipt(data)) for name, data in receipts]
    probes = {older.chain.head_seq} if older and older.chain else set()
    probes |= {receipt.seq for _, receipt in read if isinstance(receipt, receiptformat.Receipt)}
    result = verify_file(export, trusted=trusted, limits=limits, probes=probes)
    if older is not None:
        result.earlier = older
        why_not = not_comparable(older, result, trusted)
        if why_not is None:
            result.prefix = compare(older, result)
        else:
            result.prefix = Prefix(False, why_not, compared=False)
    result.receipts = [
        check_receipt(result, name, receipt, tsa_roots, trusted) for name, receipt in read
    ]
    narrow_rewrites(result.receipts)
    if result.verdict in (INTACT, UNKNOWN_KEY):
        result.anchors = [
            check_receipt(result, f"checkpoint of #{anchor.seq}", anchor, tsa_roots, trusted)
            for anchor in receiptformat.anchors_of(result.manifest or {})
        ]
    return result


# --- Receipts ------------------------------------------------------------------------------

CONSISTENT, REWRITTEN, OLDER = "consistent", "rewritten", "older"
NOT_COMPARED, NOT_RECEIPT = "not_compared", "not_receipt"
RECEIPT_LABELS = {
    CONSISTENT: "Consistent",
    REWRITTEN: "Rewritten or cut after it",
    OLDER: "Newer than the export",
    NOT_COMPARED: "Not compared",
    NOT_RECEIPT: "Not a receipt of this record",
}


@dataclass
class ReceiptCheck:
    """What one receipt says of the export: `verdict` is CONSISTENT (the export holds the
    receipt's entry unchanged), REWRITTEN (it differs, or the record was cut after the
    receipt), OLDER (the export was made before the receipt), NOT_COMPARED (why, in
    `reason`) or NOT_RECEIPT."""

    name: str
    verdict: str
    reason: str
    seq: int | None = None
    issued_at: str = ""
    timestamps: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return RECEIPT_LABELS[self.verdict]

    @property
    def about(self) -> str:
        """The receipt, when it was issued and the first timestamp that checked out."""
        if not self.issued_at:
            return self.name
        checked = [note for note in self.timestamps if note.startswith("timestamped by ")]
        stamped = f", {checked[0]}" if checked and "(not checked" not in checked[0] else ""
        return f"{self.name} (issued {receiptformat.readable_time(self.issued_at)}{stamped})"


def read_receipt(data: bytes) -> receiptformat.Receipt | str:
    """A receipt's parts, or why it is not one."""
    try:
        return receiptformat.read_receipt(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return f"it is not a Boundary receipt: {error}"


def check_receipt(
    result: Result,
    name: str,
    receipt: receiptformat.Receipt | str,
    tsa_roots: Sequence[bytes],
    trusted: set[str] | None,
) -> ReceiptCheck:
    """What a receipt says of an export that passed its own checks (under the trusted
    keys, when some were given); the receipt must be signed by the export's key."""
    if isinstance(receipt, str):
        return ReceiptCheck(name, NOT_RECEIPT, receipt)
    told = ReceiptCheck(name, NOT_COMPARED, "", receipt.seq, receipt.issued_at)
    told.timestamps = timestamp_notes(receipt, tsa_roots)
    manifest, summary = result.manifest or {}, result.chain
    passed = INTACT if trusted is not None else UNKNOWN_KEY
    if summary is None or result.verdict != passed:
        told.reason = "the export did not pass its own checks, so it was not compared"
        return told
    if not signed_by(receipt, result.public_key):
        told.verdict = NOT_RECEIPT
        told.reason = "it is not signed by the key that signed the export"
        return told
    if receipt.origin != receiptformat.receipt_origin_of(manifest):
        told.reason = f"it is a receipt of another record ({receipt.origin})"
        return told
    if summary.head_seq >= receipt.seq:
        held = summary.probe_hashes.get(receipt.seq)
        if held is None:
            told.reason = f"the export withholds event #{receipt.seq}, which it signed"
        elif held == receipt.head_hash:
            told.verdict = CONSISTENT
            told.reason = (
                f"event #{receipt.seq} is as it signed it: every entry up to it is unchanged"
            )
        else:
            told.verdict = REWRITTEN
            told.reason = (
                f"event #{receipt.seq} differs from what it signed: the record was rewritten "
                f"at event #{receipt.seq} or before it"
            )
        return told
    if str(manifest.get("generated_at", "")) >= receipt.issued_at:
        told.verdict = REWRITTEN
        told.reason = (
            f"the export, made after it, ends at event #{summary.head_seq}, before the "
            f"#{receipt.seq} it signed: the record was cut"
        )
    else:
        told.verdict = OLDER
        told.reason = f"the export was made before it, and ends at event #{summary.head_seq}"
    return told


def narrow_rewrites(checks: list[ReceiptCheck]) -> None:
    """Where several receipts were given, say between which entries a rewrite lies: after
    the latest receipt that still agrees, at or before the first that does not."""
    agreeing = [check for check in checks if check.verdict == CONSISTENT and check.seq]
    for check in checks:
        if check.verdict != REWRITTEN or check.seq is None:
            continue
        before = [other for other in agreeing if (other.seq or 0) < check.seq]
        if before:
            latest = max(before, key=lambda other: other.seq or 0)
            check.reason += f", after event #{latest.seq} (which {latest.name} shows unchanged)"


def signed_by(receipt: receiptformat.Receipt, public_key: bytes) -> bool:
    """Whether one of the receipt's signature lines is a good signature by this key."""
    verifier_key = Ed25519PublicKey.from_public_bytes(public_key)
    for name, key_id, signature in receipt.signatures:
        if key_id != receiptformat.note_key_id(name, public_key):
            continue
        try:
            verifier_key.verify(signature, receipt.note.encode())
        except InvalidSignature:
            continue
        return True
    return False


def timestamp_notes(receipt: receiptformat.Receipt, tsa_roots: Sequence[bytes]) -> list[str]:
    """What each RFC 3161 timestamp in a receipt says, checked offline against the given
    root certificates: "timestamped by NAME at TIME UTC", or why it is refused."""
    if not receipt.timestamps:
        return []
    try:
        from cryptography import x509
        from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response
    except ImportError:
        return ["its timestamps were not checked: install rfc3161-client to check them"]
    roots = []
    for pem in tsa_roots:
        try:
            roots.append(x509.load_pem_x509_certificate(pem))
        except ValueError:
            return ["its timestamps were not checked: a root certificate given is not PEM"]
    notes = []
    for der in receipt.timestamps:
        try:
            response = decode_timestamp_response(der)
            when = response.tst_info.gen_time.strftime("%Y-%m-%d %H:%M:%S")
            who = authority_name(response)
        except (ValueError, AttributeError):
            notes.append("a timestamp in it cannot be read")
            continue
        if not roots:
            notes.append(
                f"timestamped by {who} at {when} UTC (not checked: no authority's root "
                "certificate was given)"
            )
            continue
        for number, root in enumerate(roots):
            try:
                VerifierBuilder().add_root_certificate(root).build().verify_message(
                    response, receipt.note.encode()
                )
            except (VerificationError, ValueError) as error:
                if number == len(roots) - 1:
                    notes.append(f"a timestamp by {who} is refused: {error}")
                continue
            notes.append(f"timestamped by {who} at {when} UTC")
            break
    return notes


def authority_name(response: Any) -> str:
    """The name (CN) of the timestamping certificate in an RFC 3161 response."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if names and x509.ExtendedKeyUsageOID.TIME_STAMPING in _usages(certificate):
            return str(names[0].value)
    return "an unnamed authority"


def _usages(certificate: Any) -> list[Any]:
    from cryptography import x509

    try:
        return list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return []


def check_paths(
    path: str,
    *,
    earlier: str | None = None,
    receipts: Sequence[str] = (),
    tsa_roots: Sequence[str] = (),
    trusted: set[str] | None = None,
    limits: fileformat.Limits | None = None,
) -> Result:
    """check() of files named by their paths."""
    roots = [read_small(root, receiptformat.RECEIPT_MAX_BYTES) for root in tsa_roots]
    with contextlib.ExitStack() as files:
        older = files.enter_context(open(earlier, "rb")) if earlier else None
        export = files.enter_context(open(path, "rb"))
        return check(
            export,
            earlier=older,
            receipts=read_receipt_files(receipts),
            tsa_roots=roots,
            trusted=trusted,
            limits=limits,
        )


def read_receipt_files(paths: Sequence[str]) -> list[tuple[str, bytes]]:
    """(name, bytes) of each receipt file; one far larger than any receipt is read only
    in part, and then refused as not being one."""
    return [
        (os.path.basename(path), read_small(path, receiptformat.RECEIPT_MAX_BYTES))
        for path in paths
    ]


def read_small(path: str, limit: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Boundary export.")
    parser.add_argument("export")
    parser.add_argument("--earlier", help="an earlier export of the same person's record")
    parser.add_argument(
        "--public-key",
        action="append",
        default=[],
        help="the instance's public key: PEM file, base64, or SHA256:… fingerprint",
    )
    parser.add_argument(
        "--receipt",
        action="append",
        default=[],
        help="a receipt of the same record to check the export against (once per receipt)",
    )
    parser.add_argument(
        "--tsa-root",
        action="append",
        default=[],
        help="a timestamp authority's root certificate (PEM) to check receipts' timestamps",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes that check a long JSON record (default: one per CPU)",
    )
    args = parser.parse_args(argv)
    try:
        trusted = {fileformat.trusted_fingerprint(spec) for spec in args.public_key} or None
    except (ValueError, OSError) as error:
        parser.error(f"--public-key: {error}")
    limits = fileformat.Limits(jobs=max(1, args.jobs))
    try:
        result = check_paths(
            args.export,
            earlier=args.earlier,
            receipts=args.receipt,
            tsa_roots=args.tsa_root,
            trusted=trusted,
            limits=limits,
        )
    except OSError as error:  # the file cannot be opened or read: no verdict on it
        parser.error(f"cannot read {error.filename or args.export}: {error.strerror or error}")
    print(report(result, as_json=args.json))
    return exit_code(result)


def report(result: Result, *, as_json: bool = False) -> str:
    """The result as the command line prints it (this script and `manage.py verify_record`)."""
    if as_json:
        return json.dumps(result.as_dict(), indent=2, sort_keys=True)
    lines = [f"{result.label}: {result.reason}"]
    if result.where:
        lines.append(f"First failure: {result.where}")
    if result.chain is not None and result.verdict != NOT_EXPORT:
        lines.append(f"Chain head: #{result.chain.head_seq} {result.chain.head_hash}")
    if result.earlier is not None:  # each file's own verdict first, then the comparison
        earlier = result.earlier
        lines.append(f"Earlier export, on its own: {earlier.label}: {earlier.reason}")
        if earlier.where:
            lines.append(f"Earlier export's first failure: {earlier.where}")
    prefix = result.prefix
    if prefix is not None and not prefix.compared:
        lines.append(f"Earlier export: not compared: {prefix.reason}")
    elif prefix is not None:
        answer = "contains" if prefix.contained else "does NOT contain"
        lines.append(f"Earlier export: this one {answer} it unchanged: {prefix.reason}")
    for receipt in result.receipts:
        lines.append(f"Receipt {receipt.about}: {receipt.label}: {receipt.reason}")
        lines += [f"  {note}" for note in receipt.timestamps]
    for anchor in result.anchors:
        signed_at = receiptformat.readable_time(anchor.issued_at)
        lines.append(f"Events up to #{anchor.seq} were signed at {signed_at}:")
        lines += [f"  {note}" for note in anchor.timestamps]
    return "\n".join(lines)


def exit_code(result: Result) -> int:
    """0 intact (and containing the earlier export, if one was given), 1 altered, 2 unknown
    key, 3 not an export, 4 intact but not containing the earlier export, 5 intact but
    not compared with an earlier export or a receipt given (an earlier file that did not
    pass its own check, a receipt of another record); 4 also when a receipt shows the
    record was rewritten or cut after it was issued."""
    code = {INTACT: 0, ALTERED: 1, UNKNOWN_KEY: 2, NOT_EXPORT: 3}[result.verdict]
    if code != 0:
        return code
    prefix, receipts = result.prefix, {receipt.verdict for receipt in result.receipts}
    if (prefix is not None and prefix.compared and not prefix.contained) or REWRITTEN in receipts:
        return 4
    if (prefix is not None and not prefix.compared) or receipts & {NOT_COMPARED, NOT_RECEIPT}:
        return 5
    return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
