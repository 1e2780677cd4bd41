"""Check a Boundary export: stand-alone, with nothing but Python 3.11+ and `cryptography`.

    python verifier.py EXPORT [--earlier OLDER_EXPORT] [--public-key KEY] [--json] [--jobs N]

EXPORT is a file Boundary wrote: record.json, record.csv, record.pdf or a .zip bundle.
Copy this file and `chain.py` (from requests_log/) into one folder, `pip install
cryptography`, and run it there; it reads no database and imports nothing else.
KEY is the instance's public key as published on its "Public key" page: a PEM file,
the raw key in base64, or its fingerprint ("SHA256:…"). Give it more than once to
trust older keys. Without it the check still runs, but cannot say whose key signed.

The verdict is exactly one of:
  intact      every event's hash recomputes, each links to the one before it, the
              chain ends at the signed head, every file matches the signed manifest,
              and the signature is by a key you trust;
  altered     something differs from what was signed; the first event or file that
              fails is named, with why;
  unknown_key the contents match a valid signature, but by a key you did not trust;
  not_export  the file is not something Boundary wrote (or is too large to check).
With --earlier it also says whether the later export contains the earlier one
unchanged: the earlier chain must be a prefix of the later one.
Exit status: 0 intact (and contains the earlier one), 1 altered, 2 unknown key,
3 not an export, 4 intact but the earlier export is not contained in it.

How the record proves itself (see chain.py): each timeline event's hash is SHA-256 over
the canonical JSON of its header (which holds the previous event's hash) and one salted
digest per field. An export shows a field as its value and salt, so its digest can be
recomputed, or, when the employee withheld it, as the digest alone. Events outside the
export's scope are shown as withheld runs: their sequence numbers and the hash of the
run's last event, which the next shown event links to. A manifest with the chain's head,
the counts and the SHA-256 of the file's bytes is signed with the instance's Ed25519 key.

File layouts (all UTF-8):
- JSON: line 1 `{"format":"boundary-export","version":1,`, line 2 `"context":{…},`,
  line 3 `"entries":[`, then one entry per line, then `],` and the last line
  `"seal":{"manifest":…,"signature":…,"public_key":…}}`. The manifest's body_sha256 is
  the SHA-256 of every byte before the last line.
- CSV: RFC 4180 with the columns in CSV_COLUMNS, one row per event or withheld run, and
  a last row whose row_type is "manifest" and whose `values` cell holds the seal. A cell
  starting with = + - @ tab or carriage return is prefixed with ' for spreadsheets.
- PDF: the record as record.json attached inside, and after the PDF's %%EOF one line
  `%BoundarySeal {seal}` whose manifest covers the bytes before it.
- ZIP: manifest.json (a seal whose manifest lists every other file's SHA-256), then
  record.json, record.csv, record.pdf and evidence/….
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import io
import itertools
import json
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from requests_log import chain
except ImportError:  # stand-alone: chain.py sits beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chain  # type: ignore[no-redef]

FORMAT = "boundary-export"
VERSION = 1
SIGNED_PREFIX = b"boundary-export-manifest-v1\n"

INTACT = "intact"
ALTERED = "altered"
UNKNOWN_KEY = "unknown_key"
NOT_EXPORT = "not_export"
VERDICT_LABELS = {
    INTACT: "Intact",
    ALTERED: "Altered",
    UNKNOWN_KEY: "Signed by an unknown key",
    NOT_EXPORT: "Not a Boundary export",
}

JSON_HEAD = b'{"format":"boundary-export","version":1,\n'
JSON_CONTEXT_PREFIX = b'"context":'
JSON_ENTRIES_OPEN = b'"entries":[\n'
JSON_ENTRIES_CLOSE = b"],\n"
JSON_SEAL_PREFIX = b'"seal":'
PDF_SEAL_PREFIX = b"%BoundarySeal "
ZIP_MANIFEST = "manifest.json"

CSV_COLUMNS = (
    "row_type",
    "seq",
    "last_seq",
    "occurred_at_utc",
    "occurred_at_local",
    "recorded_at_utc",
    "request_id",
    "request",
    "kind",
    "kind_label",
    "actor_id",
    "actor",
    "summary",
    "values",
    "field_salts",
    "withheld_fields",
    "prev_hash",
    "event_hash",
    "row_sha256",
)
CSV_HEADER_LINE = (",".join(CSV_COLUMNS) + "\r\n").encode()
COLUMN = {name: index for index, name in enumerate(CSV_COLUMNS)}
SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADER_KEYS = frozenset(
    chain.event_header(
        employee_id=0,
        seq=0,
        request_id=None,
        kind="",
        actor_id=None,
        occurred_at="",
        recorded_at="",
        prev_hash="",
    )
)
HEX64 = re.compile(r"[0-9a-f]{64}")
NOTED_KINDS = frozenset({"exported", "evidence_added"})
DECODE = json.JSONDecoder().decode
RAW_DECODE = json.JSONDecoder().raw_decode
SHA256 = hashlib.sha256
FROM_HEX = bytes.fromhex
CANONICAL = chain.canonical_bytes
EVENT_HASH = chain.event_hash


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula (OWASP's rule)."""
    return "'" + cell if cell.startswith(SPREADSHEET_TRIGGERS) else cell


NEEDS_QUOTES = re.compile(r'[",\r\n]').search


def quoted(cell: str) -> str:
    """A cell as RFC 4180 writes it (what csv.writer does, without its per-character loop)."""
    return '"' + cell.replace('"', '""') + '"' if NEEDS_QUOTES(cell) else cell


def row_checksum(cells: list[str]) -> str:
    """The last CSV column: SHA-256 of the row as written before it (its other cells,
    quoted where RFC 4180 needs it, each followed by a comma), in UTF-8."""
    return hashlib.sha256((",".join([quoted(cell) for cell in cells]) + ",").encode()).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """What the timeline's "exported" event records as the export's manifest hash."""
    return sha256_hex(chain.canonical_bytes(manifest))


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    return SIGNED_PREFIX + chain.canonical_bytes(manifest)


def fingerprint(public_key: bytes) -> str:
    return "SHA256:" + sha256_hex(public_key)


def public_key_from_text(text: str) -> bytes:
    """Raw 32-byte Ed25519 key from PEM or base64; ValueError if it is neither."""
    text = text.strip()
    if "BEGIN PUBLIC KEY" in text:
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def trusted_fingerprint(spec: str) -> str:
    """A --public-key argument (file, base64 key or fingerprint) as a fingerprint."""
    if spec.startswith("SHA256:"):
        return spec.strip().lower().replace("sha256:", "SHA256:")
    if os.path.exists(spec):
        with open(spec, encoding="utf-8") as handle:
            spec = handle.read()
    return fingerprint(public_key_from_text(spec))


# --- Results -------------------------------------------------------------------------------


@dataclass
class Limits:
    max_bytes: int = 512 * 1024 * 1024  # the file itself
    max_unpacked: int = 2 * 1024 * 1024 * 1024  # everything in a ZIP, unpacked
    max_entries: int = 10_000  # files in a ZIP
    max_line: int = 16 * 1024 * 1024  # one JSON line, CSV row or PDF attachment header
    max_seal: int = 1024 * 1024
    jobs: int = 1  # processes that may check a long record.json (the command line uses more)


@dataclass
class ChainSummary:
    events: int = 0
    shown: int = 0
    withheld: int = 0
    fields_withheld: int = 0
    head_seq: int = 0
    head_hash: str = chain.GENESIS_HASH
    probe_hash: str | None = None  # the hash at the sequence number asked about
    exports_logged: list[dict[str, Any]] = field(default_factory=list)
    evidence_sha256: set[str] = field(default_factory=set)


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
    prefix: Prefix | None = None
    inner_keys: set[str] = field(default_factory=set)  # keys of records inside a PDF or ZIP

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
        }


@dataclass
class Prefix:
    contained: bool
    reason: str


class Verdict(Exception):
    def __init__(self, verdict: str, reason: str, where: str = "") -> None:
        super().__init__(reason)
        self.verdict = verdict
        self.reason = reason
        self.where = where
        # What a validly signed seal said, when the failure came after it was opened.
        self.manifest: dict[str, Any] | None = None
        self.key_fingerprint = ""


@contextmanager
def claimed_by(manifest: dict[str, Any], key: str) -> Iterator[None]:
    """Attach the opened seal to any verdict raised inside, so the answer can say what
    the file claims to be."""
    try:
        yield
    except Verdict as verdict:
        if verdict.manifest is None:
            verdict.manifest, verdict.key_fingerprint = manifest, key
        raise


def altered(reason: str, where: str = "") -> Verdict:
    return Verdict(ALTERED, reason, where)


def not_export(reason: str) -> Verdict:
    return Verdict(NOT_EXPORT, reason)


# --- The seal ------------------------------------------------------------------------------


def open_seal(seal: Any, file_kind: str) -> tuple[dict[str, Any], str]:
    """Check the seal's signature; return its manifest and the signing key's fingerprint."""
    if not isinstance(seal, dict) or not {"manifest", "signature", "public_key"} <= set(seal):
        raise altered("its seal is incomplete", "seal")
    manifest = seal["manifest"]
    try:
        public_key = base64.b64decode(seal["public_key"], validate=True)
        signature = base64.b64decode(seal["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, signed_bytes(manifest))
    except (InvalidSignature, ValueError, TypeError, binascii.Error) as error:
        raise altered(
            "the manifest does not match its signature: it was changed after signing", "seal"
        ) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise not_export("its manifest is not a Boundary export manifest")
    if manifest.get("version") != VERSION:
        raise not_export(f"it is an export of version {manifest.get('version')}, not {VERSION}")
    if manifest.get("file") != file_kind:
        raise altered(
            f"the seal belongs to a {manifest.get('file')} file, not to this {file_kind}", "seal"
        )
    return manifest, fingerprint(public_key)


# --- The chain -----------------------------------------------------------------------------


class ChainWalker:
    """Feeds on entries in order; raises `altered` at the first one that fails."""

    def __init__(self, manifest: dict[str, Any], probe_seq: int | None = None) -> None:
        try:
            self.employee_id = manifest["employee"]["id"]
            self.expected = manifest["chain"]
        except (KeyError, TypeError) as error:
            raise altered("the manifest does not describe the chain", "seal") from error
        self.probe_seq = probe_seq
        self.summary = ChainSummary()
        self.next_seq = 1
        self.prev_hash = chain.GENESIS_HASH

    def add(self, entry: Any) -> None:
        try:
            if "withheld" in entry:
                self._add_withheld(entry)
            else:
                self._add_event(entry)
        except Verdict:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise altered(
                f"the entry after #{self.next_seq - 1} is malformed", f"event #{self.next_seq}"
            ) from error

    def _check_seq(self, seq: Any) -> None:
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise altered(f"the entry after #{self.next_seq - 1} has no sequence number")
        if seq > self.next_seq:
            raise altered(
                f"event #{self.next_seq} is missing (event #{seq} comes where it should be)",
                f"event #{self.next_seq}",
            )
        if seq < self.next_seq:
            raise altered(
                f"event #{seq} appears again or out of order after #{self.next_seq - 1}",
                f"event #{seq}",
            )

    def _add_withheld(self, entry: dict[str, Any]) -> None:
        run = entry["withheld"]
        first, last, run_hash = run["from"], run["to"], entry["hash"]
        self._check_seq(first)
        if not isinstance(last, int) or last < first or not HEX64.fullmatch(run_hash):
            raise altered(f"the withheld run from #{first} is malformed", f"event #{first}")
        if self.probe_seq is not None and last == self.probe_seq:
            self.summary.probe_hash = run_hash
        self.summary.withheld += last - first + 1
        self.next_seq = last + 1
        self.prev_hash = run_hash

    def _add_event(self, entry: dict[str, Any]) -> None:
        # Runs once per event of files that hold hundreds of thousands: the field digests
        # are chain.field_digest inlined, and messages are built only on failure.
        header, fields, event_hash = entry["event"], entry["fields"], entry["hash"]
        seq = header["seq"]
        if seq != self.next_seq:
            self._check_seq(seq)
        if header.keys() != HEADER_KEYS or header["employee"] != self.employee_id:
            raise altered(f"event #{seq}'s header was changed", f"event #{seq}")
        if header["prev_hash"] != self.prev_hash:
            raise altered(f"event #{seq} does not link to the event before it", f"event #{seq}")
        digests = {}
        withheld = 0
        for name, value in fields.items():
            if "digest" in value:
                digests[name] = value["digest"]
                withheld += 1
            else:
                digests[name] = SHA256(
                    FROM_HEX(value["salt"]) + CANONICAL(value["value"])
                ).hexdigest()
        if EVENT_HASH(header, digests) != event_hash:
            raise altered(
                f"event #{seq}'s content does not match its hash: it was changed", f"event #{seq}"
            )
        summary = self.summary
        if withheld:
            summary.fields_withheld += withheld
        if self.probe_seq is not None:
            if seq == self.probe_seq:
                summary.probe_hash = event_hash
            elif seq == self.probe_seq + 1:
                summary.probe_hash = header["prev_hash"]
        kind = header["kind"]
        if kind in NOTED_KINDS:
            self._note(kind, seq, fields)
        summary.shown += 1
        self.next_seq = seq + 1
        self.prev_hash = event_hash

    def _note(self, kind: str, seq: int, fields: dict[str, Any]) -> None:
        payload = {name: value["value"] for name, value in fields.items() if "value" in value}
        if kind == "exported" and "head_seq" in payload and "head_hash" in payload:
            self.summary.exports_logged.append({"seq": seq, **payload})
        if kind == "evidence_added" and isinstance(payload.get("sha256"), str):
            self.summary.evidence_sha256.add(payload["sha256"])

    def finish(self) -> ChainSummary:
        expected = self.expected
        head_seq = self.next_seq - 1
        if head_seq < expected.get("head_seq", -1):
            raise altered(
                f"the record ends at event #{head_seq} but the manifest says "
                f"#{expected.get('head_seq')}: events are missing from the end",
                f"event #{head_seq + 1}",
            )
        if head_seq != expected.get("head_seq") or self.prev_hash != expected.get("head_hash"):
            raise altered("the chain does not end at the signed head", f"event #{head_seq}")
        summary = self.summary
        summary.events, summary.head_seq, summary.head_hash = head_seq, head_seq, self.prev_hash
        counts = (summary.shown, summary.withheld, summary.fields_withheld)
        signed = (expected.get("shown"), expected.get("withheld"), expected.get("fields_withheld"))
        if counts != signed:
            raise altered("the numbers of shown and withheld events differ from the manifest")
        return summary


# --- Reading files safely ------------------------------------------------------------------


def file_size(handle: IO[bytes]) -> int:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


def last_line(handle: IO[bytes], size: int, limit: int) -> tuple[bytes, int]:
    """The file's last line (without its newline) and where it starts."""
    start = max(0, size - limit)
    handle.seek(start)
    tail = handle.read(size - start)
    body = tail[:-1] if tail.endswith(b"\n") else tail
    cut = body.rfind(b"\n")
    if cut < 0 and start > 0:
        return b"", size  # longer than any seal: not ours
    handle.seek(0)
    return body[cut + 1 :], start + cut + 1


class HashingReader(io.RawIOBase):
    """Reads the first `length` bytes of a file and hashes them on the way."""

    def __init__(self, handle: IO[bytes], length: int) -> None:
        self.handle = handle
        self.remaining = length
        self.digest = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        wanted = min(len(buffer), self.remaining)
        data = self.handle.read(wanted) if wanted else b""
        buffer[: len(data)] = data
        self.remaining -= len(data)
        self.count += len(data)
        self.digest.update(data)
        return len(data)

    def lines(self, limit: int) -> Iterator[bytes]:
        """The body's lines, read and hashed a megabyte at a time; a line longer than
        `limit` ends the file early (the caller then reports it as damaged)."""
        pending = b""
        while self.remaining:
            block = self.handle.read(min(SCAN_CHUNK, self.remaining))
            if not block:
                break
            self.remaining -= len(block)
            self.count += len(block)
            self.digest.update(block)
            parts = (pending + block).split(b"\n")
            pending = parts.pop()
            for part in parts:
                yield part + b"\n"
            if len(pending) > limit:
                return
        if pending:
            yield pending


def check_body(manifest: dict[str, Any], reader: HashingReader, file_kind: str) -> None:
    if reader.digest.hexdigest() != manifest.get("body_sha256"):
        raise altered(
            f"the {file_kind} file's bytes differ from what was signed, although every "
            "event's hash checks out: a label, a time shown in local time or a summary was "
            "changed, or the file was re-saved",
            "file",
        )


# --- JSON -----------------------------------------------------------------------------------


def verify_json(handle: IO[bytes], size: int, limits: Limits, probe: int | None) -> Result:
    seal_line, body_length = last_line(handle, size, limits.max_seal)
    if not seal_line.startswith(JSON_SEAL_PREFIX) or not seal_line.endswith(b"}"):
        raise altered("the file is cut short: its seal at the end is missing", "file")
    try:
        seal = json.loads(seal_line[len(JSON_SEAL_PREFIX) : -1])
    except ValueError as error:
        raise altered("its seal is damaged", "seal") from error
    manifest, key = open_seal(seal, "json")
    with claimed_by(manifest, key):
        return _verify_json_body(handle, body_length, manifest, key, limits, probe)


def json_entry(line: bytes) -> Any:
    """One entry line of record.json as JSON; ValueError if it is not one JSON value."""
    text = line.rstrip(b",\n").decode("utf-8")
    try:
        entry, end = RAW_DECODE(text)
    except ValueError:
        end = -1
    if end != len(text):  # not one bare JSON value: the full check, and its error
        entry = DECODE(text)
    return entry


def _verify_json_body(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: str,
    limits: Limits,
    probe: int | None,
) -> Result:
    if limits.jobs > 1 and body_length >= PARALLEL_MIN_BYTES:
        result = _verify_json_in_parallel(handle, body_length, manifest, key, limits, probe)
        if result is not None:
            return result
        handle.seek(0)  # something failed: the check below names the first failure exactly
    walker = ChainWalker(manifest, probe)
    reader = HashingReader(handle, body_length)
    lines = reader.lines(limits.max_line)
    if next(lines, b"") != JSON_HEAD:
        raise altered("its first line was changed", "file")
    if not next(lines, b"").startswith(JSON_CONTEXT_PREFIX):
        raise altered("its context line was changed", "file")
    if next(lines, b"") != JSON_ENTRIES_OPEN:
        raise altered("the line opening the entries was changed", "file")
    closed = False
    for line in lines:
        if closed:
            raise altered("there is text between the entries and the seal", "file")
        if line == JSON_ENTRIES_CLOSE:
            closed = True
            continue
        if not line.endswith(b"\n"):
            break
        try:
            entry = json_entry(line)
        except ValueError as error:
            raise altered(
                f"the entry after event #{walker.next_seq - 1} is not valid JSON",
                f"event #{walker.next_seq}",
            ) from error
        walker.add(entry)
    if not closed or reader.remaining:
        raise altered(
            f"the entries end early, after event #{walker.next_seq - 1}",
            f"event #{walker.next_seq}",
        )
    summary = walker.finish()
    check_body(manifest, reader, "JSON")
    return Result(INTACT, "", "json", "", manifest, key, manifest_digest(manifest), summary)


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
    summary: ChainSummary


def _verify_json_in_parallel(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: str,
    limits: Limits,
    probe: int | None,
) -> Result | None:
    path = getattr(handle, "name", None)
    if not isinstance(path, str) or not os.path.isfile(path):
        return None  # an upload in memory, a ZIP member: checked in this process
    walker = ChainWalker(manifest, probe)
    handle.seek(0)
    head = [handle.readline(limits.max_line) for _ in range(3)]
    if head[0] != JSON_HEAD or head[2] != JSON_ENTRIES_OPEN:
        return None
    entries_end = body_length - len(JSON_ENTRIES_CLOSE)
    bounds = [handle.tell()]
    handle.seek(entries_end)
    if handle.read(len(JSON_ENTRIES_CLOSE)) != JSON_ENTRIES_CLOSE:
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
            digest = body_digest(handle, body_length)  # meanwhile, in this process
            stretches = [future.result() for future in futures]
    except Exception:
        # No processes to be had here, or none that can import this module: the serial
        # check answers, as it would anyway.
        return None
    if None in stretches or digest != manifest.get("body_sha256"):
        return None
    merged = walker.summary
    for stretch in stretches:
        linked = stretch.first_prev is None or stretch.first_prev == walker.prev_hash
        if stretch.first_seq != walker.next_seq or not linked:
            return None
        part = stretch.summary
        merged.shown += part.shown
        merged.withheld += part.withheld
        merged.fields_withheld += part.fields_withheld
        merged.probe_hash = part.probe_hash or merged.probe_hash
        merged.exports_logged += part.exports_logged
        merged.evidence_sha256 |= part.evidence_sha256
        walker.next_seq, walker.prev_hash = stretch.last_seq + 1, stretch.last_hash
    try:
        summary = walker.finish()
    except Verdict:
        return None
    return Result(INTACT, "", "json", "", manifest, key, manifest_digest(manifest), summary)


def body_digest(handle: IO[bytes], length: int) -> str | None:
    """SHA-256 of the file's first `length` bytes (None if it is shorter)."""
    handle.seek(0)
    digest = hashlib.sha256()
    while length:
        block = handle.read(min(SCAN_CHUNK, length))
        if not block:
            return None
        digest.update(block)
        length -= len(block)
    return digest.hexdigest()


def walk_stretch(
    path: str, start: int, end: int, employee_id: Any, probe: int | None, limits: Limits
) -> Stretch | None:
    """Check the entries between two byte offsets of a record.json, taking the first
    one's place in the chain as given (the caller checks that the stretches join)."""
    walker = ChainWalker({"employee": {"id": employee_id}, "chain": {}}, probe)
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
                entry = json_entry(line)
                if first is None:
                    run = entry.get("withheld")
                    first = (
                        (run["from"], None)
                        if run
                        else (entry["event"]["seq"], entry["event"]["prev_hash"])
                    )
                    walker.next_seq, walker.prev_hash = first
                walker.add(entry)
    except (Verdict, ValueError, KeyError, TypeError, AttributeError, OSError):
        return None
    if first is None:
        return None
    last_seq = walker.next_seq - 1
    return Stretch(first[0], first[1], last_seq, walker.prev_hash, walker.summary)


# --- CSV ------------------------------------------------------------------------------------


def csv_entry(cells: list[str], manifest: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as the entry the chain walker checks (undoing nothing but parsing)."""
    column = COLUMN
    if cells[column["row_type"]] == "withheld":
        return {
            "withheld": {"from": int(cells[column["seq"]]), "to": int(cells[column["last_seq"]])},
            "hash": cells[column["event_hash"]],
        }
    if cells[column["row_type"]] != "event":
        raise ValueError("unknown row type")
    values = json.loads(cells[column["values"]])
    salts = json.loads(cells[column["field_salts"]])
    withheld = json.loads(cells[column["withheld_fields"]])
    if set(values) != set(salts) or set(values) & set(withheld):
        raise ValueError("fields do not match their salts")
    fields = {name: {"value": values[name], "salt": salts[name]} for name in values}
    fields.update({name: {"digest": digest} for name, digest in withheld.items()})

    def optional_int(text: str) -> int | None:
        return int(text) if text else None

    header = chain.event_header(
        employee_id=manifest["employee"]["id"],
        seq=int(cells[column["seq"]]),
        request_id=optional_int(cells[column["request_id"]]),
        kind=cells[column["kind"]],
        actor_id=optional_int(cells[column["actor_id"]]),
        occurred_at=cells[column["occurred_at_utc"]],
        recorded_at=cells[column["recorded_at_utc"]],
        prev_hash=cells[column["prev_hash"]],
    )
    header["v"] = manifest["chain"].get("version", chain.CHAIN_VERSION)
    return {"event": header, "fields": fields, "hash": cells[column["event_hash"]]}


def verify_csv(handle: IO[bytes], size: int, limits: Limits, probe: int | None) -> Result:
    seal_line, body_length = last_line(handle, size, limits.max_seal)
    if not seal_line.startswith(b"manifest,"):
        raise altered("the file is cut short: its manifest row at the end is missing", "file")
    try:
        cells = next(csv.reader([seal_line.decode("utf-8")]))
        seal = json.loads(cells[COLUMN["values"]])
    except (ValueError, IndexError, StopIteration, csv.Error) as error:
        raise altered("its manifest row is damaged", "seal") from error
    manifest, key = open_seal(seal, "csv")
    with claimed_by(manifest, key):
        return _verify_csv_body(handle, body_length, manifest, key, limits, probe)


def _verify_csv_body(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: str,
    limits: Limits,
    probe: int | None,
) -> Result:
    walker = ChainWalker(manifest, probe)
    reader = HashingReader(handle, body_length)
    text = io.TextIOWrapper(io.BufferedReader(reader), encoding="utf-8", newline="")
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_line))
    rows = csv.reader(text, strict=True)
    row_number = 1
    try:
        if next(rows, None) != list(CSV_COLUMNS):
            raise altered("its header row was changed", "row 1")
        for cells in rows:
            row_number += 1
            where = f"row {row_number}"
            if len(cells) != len(CSV_COLUMNS):
                raise altered(f"row {row_number} has {len(cells)} columns, not 19", where)
            try:
                entry = csv_entry(cells, manifest)
            except (ValueError, KeyError, TypeError) as error:
                raise altered(f"row {row_number} cannot be read as an event", where) from error
            walker.add(entry)
            if row_checksum(cells[:-1]) != cells[-1]:
                raise altered(
                    f"row {row_number} (event #{cells[COLUMN['seq']]}) was changed in a "
                    "column that is not part of the event's hash",
                    f"event #{cells[COLUMN['seq']]}",
                )
    except (UnicodeDecodeError, csv.Error) as error:
        raise altered(f"row {row_number + 1} is damaged", f"row {row_number + 1}") from error
    summary = walker.finish()
    check_body(manifest, reader, "CSV")
    return Result(INTACT, "", "csv", "", manifest, key, manifest_digest(manifest), summary)


# --- PDF ------------------------------------------------------------------------------------

EMBEDDED_FILE = re.compile(rb"/Type\s*/EmbeddedFile\b")
SCAN_CHUNK = 1024 * 1024


def embedded_files(handle: IO[bytes], limit: int, max_unpacked: int) -> Iterator[IO[bytes]]:
    """Each Flate-compressed embedded file in a PDF, unpacked to a temporary file.

    Reads the PDF's bytes rather than its object tree: stream objects are never inside
    compressed object streams, and zlib finds the end of its own data.
    """
    handle.seek(0)
    offsets, carry, position = [], b"", 0
    while chunk := handle.read(SCAN_CHUNK):
        window = carry + chunk
        offsets += [position - len(carry) + m.start() for m in EMBEDDED_FILE.finditer(window)]
        carry = window[-64:]
        position += len(chunk)
    unpacked = 0  # across every attachment: a PDF of many small bombs is still one
    for offset in sorted(set(offsets))[:32]:
        handle.seek(offset)
        head = handle.read(min(limit, 64 * 1024))
        start = head.find(b"stream")
        if start < 0 or b"/FlateDecode" not in head[:start]:
            continue
        start += len(b"stream")
        start += 2 if head[start : start + 2] == b"\r\n" else 1
        handle.seek(offset + start)
        unpacker = zlib.decompressobj()
        out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the consumer
        try:
            while not unpacker.eof and (data := handle.read(64 * 1024)):
                while data:
                    piece = unpacker.decompress(data, 1024 * 1024)
                    unpacked += len(piece)
                    if unpacked > max_unpacked:
                        raise not_export("its attachment unpacks to more than this check allows")
                    out.write(piece)
                    data = unpacker.unconsumed_tail
        except zlib.error:
            out.close()
            continue
        except Verdict:
            out.close()
            raise
        out.seek(0)
        yield out


def verify_pdf(
    handle: IO[bytes], size: int, limits: Limits, probe: int | None, trusted: set[str] | None
) -> Result:
    seal_line, body_length = last_line(handle, size, limits.max_seal)
    if not seal_line.startswith(PDF_SEAL_PREFIX):
        for attachment in embedded_files(handle, limits.max_line, limits.max_unpacked):
            with attachment:
                if attachment.read(len(JSON_HEAD)) == JSON_HEAD:
                    raise altered(
                        "the PDF's seal at the end is missing: it was cut short or re-saved",
                        "file",
                    )
        raise not_export("it is a PDF, but carries no Boundary seal")
    try:
        seal = json.loads(seal_line[len(PDF_SEAL_PREFIX) :])
    except ValueError as error:
        raise altered("its seal is damaged", "seal") from error
    manifest, key = open_seal(seal, "pdf")
    with claimed_by(manifest, key):
        return _verify_pdf_body(handle, body_length, manifest, key, limits, probe, trusted)


def _verify_pdf_body(
    handle: IO[bytes],
    body_length: int,
    manifest: dict[str, Any],
    key: str,
    limits: Limits,
    probe: int | None,
    trusted: set[str] | None,
) -> Result:
    reader = HashingReader(handle, body_length)
    while reader.read(SCAN_CHUNK):
        pass
    body_matches = reader.digest.hexdigest() == manifest.get("body_sha256")
    record = None
    for attachment in embedded_files(handle, limits.max_line, limits.max_unpacked):
        with attachment:
            if attachment.read(len(JSON_HEAD)) != JSON_HEAD:
                continue
            record_size = file_size(attachment)
            record_sha = hashlib.sha256()
            while chunk := attachment.read(SCAN_CHUNK):
                record_sha.update(chunk)
            inner = verify_open(attachment, record_size, "json", limits, probe, trusted)
            record = (inner, record_sha.hexdigest())
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
    if record_sha != manifest.get("record_sha256"):
        raise altered("the attached record is not the one the PDF was sealed with", "record")
    result = Result(INTACT, "", "pdf", "", manifest, key, manifest_digest(manifest), inner.chain)
    result.inner_keys = {inner.key_fingerprint}
    return result


# --- ZIP ------------------------------------------------------------------------------------


def copy_limited(source: IO[bytes], target: IO[bytes] | None, budget: list[int]) -> str:
    digest = hashlib.sha256()
    while chunk := source.read(SCAN_CHUNK):
        budget[0] -= len(chunk)
        if budget[0] < 0:
            raise not_export("it unpacks to more than this check allows (a ZIP bomb?)")
        digest.update(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest()


def verify_zip(
    handle: IO[bytes], limits: Limits, probe: int | None, trusted: set[str] | None
) -> Result:
    try:
        bundle = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        handle.seek(0)
        start = handle.read(30 + len(ZIP_MANIFEST))
        if start[30:] == ZIP_MANIFEST.encode():
            raise altered("the ZIP is cut short or damaged", "file") from error
        raise not_export("it is not a ZIP that can be read") from error
    with bundle:
        members = bundle.infolist()
        if len(members) > limits.max_entries:
            raise not_export(f"it holds more than {limits.max_entries} files")
        names = [member.filename for member in members]
        if ZIP_MANIFEST not in names:
            raise not_export("it is a ZIP without a Boundary manifest")
        if len(set(names)) != len(names):
            raise altered("it holds two files with the same name", "file")
        try:
            with bundle.open(ZIP_MANIFEST) as member:
                raw = member.read(limits.max_seal + 1)
            if len(raw) > limits.max_seal:
                raise not_export("its manifest.json is far larger than any Boundary manifest")
            seal = json.loads(raw)
        except (
            zipfile.BadZipFile,
            zlib.error,
            ValueError,
            EOFError,
            RuntimeError,
            NotImplementedError,
        ) as error:
            raise altered("manifest.json is damaged", ZIP_MANIFEST) from error
        manifest, key = open_seal(seal, "zip")
        with claimed_by(manifest, key):
            return _verify_zip_members(bundle, names, manifest, key, limits, probe, trusted)


def _verify_zip_members(
    bundle: zipfile.ZipFile,
    names: list[str],
    manifest: dict[str, Any],
    key: str,
    limits: Limits,
    probe: int | None,
    trusted: set[str] | None,
) -> Result:
    budget = [limits.max_unpacked]
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise altered("the manifest lists no files", ZIP_MANIFEST)
    for name in names:
        if name != ZIP_MANIFEST and name not in listed:
            raise altered(f"{name} is not listed in the manifest", name)
    inner = None
    evidence = {}
    for name in sorted(listed):
        if name not in names:
            raise altered(f"{name}, listed in the manifest, is missing", name)
        keep = name == "record.json"
        target = tempfile.TemporaryFile() if keep else None  # noqa: SIM115
        try:
            with bundle.open(name) as member:
                digest = copy_limited(member, target, budget)
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            RuntimeError,
            NotImplementedError,
        ) as error:
            raise altered(f"{name} is damaged inside the ZIP", name) from error
        if digest != listed[name].get("sha256"):
            raise altered(f"{name} does not match the SHA-256 in the manifest", name)
        if name.startswith("evidence/"):
            evidence[name] = digest
        if target is not None:
            with target:
                record_size = target.tell()
                inner = verify_open(target, record_size, "json", limits, probe, trusted)
    if inner is None:
        raise altered("record.json is missing", "record.json")
    if inner.verdict not in (INTACT, UNKNOWN_KEY):
        raise Verdict(inner.verdict, f"record.json: {inner.reason}", inner.where)
    if inner.chain is None:  # pragma: no cover - an intact record has a chain
        raise altered("record.json could not be checked", "record.json")
    for name, digest in evidence.items():
        if digest not in inner.chain.evidence_sha256:
            raise altered(f"{name} is not a file the record's events describe", name)
    if inner.chain.head_hash != manifest.get("chain", {}).get("head_hash"):
        raise altered("record.json is from a different export than the manifest", "record")
    result = Result(
        INTACT, "", "zip", "", manifest, key, manifest_digest(manifest), inner.chain, listed
    )
    result.inner_keys = {inner.key_fingerprint}
    return result


# --- Any file -------------------------------------------------------------------------------


def sniff(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(JSON_HEAD[:20]):
        return "json"
    if head.startswith(CSV_HEADER_LINE[:48]):
        return "csv"
    return ""


def verify_open(
    handle: IO[bytes],
    size: int,
    file_kind: str,
    limits: Limits,
    probe: int | None,
    trusted: set[str] | None,
) -> Result:
    """Check an open file; the verdict takes the key into account last."""
    try:
        if file_kind == "zip":
            result = verify_zip(handle, limits, probe, trusted)
        elif file_kind == "pdf":
            result = verify_pdf(handle, size, limits, probe, trusted)
        elif file_kind == "csv":
            handle.seek(0)
            if handle.read(len(CSV_HEADER_LINE)) != CSV_HEADER_LINE:
                raise altered(
                    "its header row was changed (was it re-saved by a spreadsheet?)", "row 1"
                )
            result = verify_csv(handle, size, limits, probe)
        else:
            handle.seek(0)
            if handle.read(len(JSON_HEAD)) != JSON_HEAD:
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
    manifest, summary = result.manifest or {}, result.chain or ChainSummary()
    employee = manifest.get("employee", {}).get("name", "the employee")
    withheld = ""
    if summary.withheld or summary.fields_withheld:
        withheld = (
            f"; {summary.withheld} event(s) and {summary.fields_withheld} field(s) withheld, "
            "each accounted for by its hash"
        )
    return f"{employee}'s record: events #1 to #{summary.head_seq}, {summary.shown} shown{withheld}"


def verify_file(
    handle: IO[bytes],
    *,
    trusted: set[str] | None = None,
    limits: Limits | None = None,
    probe_seq: int | None = None,
) -> Result:
    """Check one export (an open, seekable binary file). Never raises for bad input."""
    limits = limits or Limits()
    size = file_size(handle)
    if size > limits.max_bytes:
        return Result(
            NOT_EXPORT, f"it is larger than the {limits.max_bytes // 2**20} MB this check takes"
        )
    file_kind = sniff(handle.read(64))
    if not file_kind:
        return Result(NOT_EXPORT, "it is not a file Boundary writes (JSON, CSV, PDF or ZIP)")
    return verify_open(handle, size, file_kind, limits, probe_seq, trusted)


def compare(earlier: Result, later: Result) -> Prefix:
    """Does `later` contain `earlier` unchanged? Both must have passed their checks."""
    if earlier.chain is None or later.chain is None:
        return Prefix(False, "both exports must pass their own checks first")
    one, other = earlier.manifest or {}, later.manifest or {}
    if one.get("employee", {}).get("id") != other.get("employee", {}).get("id") or one.get(
        "instance"
    ) != other.get("instance"):
        return Prefix(False, "they are records of different people or instances")
    seq, head = earlier.chain.head_seq, earlier.chain.head_hash
    if seq > later.chain.head_seq:
        return Prefix(False, f"the earlier export reaches event #{seq}, past the later one's head")
    if later.chain.probe_hash is not None:
        if later.chain.probe_hash == head:
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


def verify_paths(
    path: str,
    *,
    earlier: str | None = None,
    trusted: set[str] | None = None,
    limits: Limits | None = None,
) -> Result:
    older = None
    if earlier:
        with open(earlier, "rb") as handle:
            older = verify_file(handle, trusted=trusted, limits=limits)
    with open(path, "rb") as handle:
        probe = older.chain.head_seq if older and older.chain else None
        result = verify_file(handle, trusted=trusted, limits=limits, probe_seq=probe)
    if older is not None:
        result.prefix = compare(older, result)
    return result


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
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes that check a long JSON record (default: one per CPU)",
    )
    args = parser.parse_args(argv)
    try:
        trusted = {trusted_fingerprint(spec) for spec in args.public_key} or None
    except (ValueError, OSError) as error:
        parser.error(f"--public-key: {error}")
    limits = Limits(jobs=max(1, args.jobs))
    result = verify_paths(args.export, earlier=args.earlier, trusted=trusted, limits=limits)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        print(f"{result.label}: {result.reason}")
        if result.where:
            print(f"First failure: {result.where}")
        if result.chain is not None and result.verdict != NOT_EXPORT:
            print(f"Chain head: #{result.chain.head_seq} {result.chain.head_hash}")
        if result.prefix is not None:
            answer = "contains" if result.prefix.contained else "does NOT contain"
            print(f"Earlier export: this one {answer} it unchanged: {result.prefix.reason}")
    codes = {INTACT: 0, ALTERED: 1, UNKNOWN_KEY: 2, NOT_EXPORT: 3}
    code = codes[result.verdict]
    if code == 0 and result.prefix is not None and not result.prefix.contained:
        code = 4
    return code


if __name__ == "__main__":
    sys.exit(main())
