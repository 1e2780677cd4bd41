"""The bytes of a Boundary export: how each file is laid out, written and read.

Pure and stand-alone (Python 3.11+ and `cryptography`, no Django): Boundary's writers
(record.py, csvexport.py, jsonexport.py, pdf.py, bundle.py) and the verifier both import
it, so what is written and what is checked can never drift apart. Copy it with
verifier.py and chain.py to check exports anywhere (docs/exports.md).

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

import base64
import csv
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from requests_log import chain
except ImportError:  # stand-alone: chain.py sits beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chain  # type: ignore[no-redef, import-not-found]

FORMAT = "boundary-export"
# Version 2: record.json's context is folded from its entries (chain.Replay.context) and
# a verifier checks it; version 1 files (before that) are still read, their context not.
VERSION = 2
VERSIONS = (1, 2)
SIGNED_PREFIX = b"boundary-export-manifest-v1\n"

JSON_HEADS = {
    version: b'{"format":"boundary-export","version":%d,\n' % version for version in VERSIONS
}
JSON_HEAD = JSON_HEADS[VERSION]
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
# record.csv starts with a UTF-8 byte order mark, so that Excel on Windows reads it as
# UTF-8 (“quotes” and … otherwise come out garbled). Files written before it was added
# have none; both verify, since the seal covers whatever bytes are there.
CSV_BOM = "\ufeff".encode()
COLUMN = {name: index for index, name in enumerate(CSV_COLUMNS)}
SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
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

DECODE = json.JSONDecoder().decode
RAW_DECODE = json.JSONDecoder().raw_decode


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


def sha256_of(handle: IO[bytes]) -> str:
    """SHA-256 of a whole open file, read a megabyte at a time."""
    handle.seek(0)
    digest = hashlib.sha256()
    while chunk := handle.read(SCAN_CHUNK):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


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


# --- Verdicts -------------------------------------------------------------------------------


class Verdict(Exception):
    def __init__(self, verdict: str, reason: str, where: str = "") -> None:
        super().__init__(reason)
        self.verdict = verdict
        self.reason = reason
        self.where = where
        # What a validly signed seal said, when the failure came after it was opened.
        self.manifest: dict[str, Any] | None = None
        self.key_fingerprint = ""


def altered(reason: str, where: str = "") -> Verdict:
    return Verdict(ALTERED, reason, where)


def not_export(reason: str) -> Verdict:
    return Verdict(NOT_EXPORT, reason)


# --- Reading files safely --------------------------------------------------------------------


@dataclass
class Limits:
    max_bytes: int = 512 * 1024 * 1024  # the file itself
    max_unpacked: int = 2 * 1024 * 1024 * 1024  # everything in a ZIP, unpacked
    max_entries: int = 10_000  # files in a ZIP
    max_line: int = 16 * 1024 * 1024  # one JSON line, CSV row or PDF attachment header
    max_seal: int = 1024 * 1024
    jobs: int = 1  # processes that may check a long record.json (the command line uses more)


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

    def readinto(self, buffer: Any) -> int:
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


def sniff(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(JSON_HEAD[:20]):
        return "json"
    if head.removeprefix(CSV_BOM).startswith(CSV_HEADER_LINE[:48]):
        return "csv"
    return ""


# --- The body of each file ---------------------------------------------------------------------


def json_version(head: bytes) -> int | None:
    """The version a record.json's first line says, if it is one of ours."""
    return next((version for version, line in JSON_HEADS.items() if head.startswith(line)), None)


def json_entries(handle: IO[bytes]) -> Iterator[Any]:
    """The entries of a record.json that Boundary itself just wrote, in order."""
    handle.seek(0)
    for number, line in enumerate(handle):
        if line == JSON_ENTRIES_CLOSE:
            return
        if number >= 3:  # after the format, context and opening lines
            yield json_entry(line)


class EndedEarly(Exception):
    """record.json's entries stop before the line that closes them."""


def json_entry_lines(
    reader: HashingReader, limits: Limits, found: dict[str, Any]
) -> Iterator[bytes]:
    """record.json's entry lines in order, once the lines before them are checked; the
    file's version and its context (the JSON text after `"context":`) go into `found`.
    Raises EndedEarly if they stop before the closing line (the caller knows after which
    event)."""
    lines = reader.lines(limits.max_line)
    found["version"] = json_version(next(lines, b""))
    if found["version"] is None:
        raise altered("its first line was changed", "file")
    context = next(lines, b"")
    if not context.startswith(JSON_CONTEXT_PREFIX) or not context.endswith(b",\n"):
        raise altered("its context line was changed", "file")
    found["context"] = context[len(JSON_CONTEXT_PREFIX) : -2]
    if next(lines, b"") != JSON_ENTRIES_OPEN:
        raise altered("the line opening the entries was changed", "file")
    for line in lines:
        if line == JSON_ENTRIES_CLOSE:
            if next(lines, None) is not None:
                raise altered("there is text between the entries and the seal", "file")
            if reader.remaining:
                break
            return
        if not line.endswith(b"\n"):
            break
        yield line
    raise EndedEarly


def csv_rows(reader: HashingReader, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    """record.csv's rows after the header, each with its row number (the header is 1)."""
    # utf-8-sig: the byte order mark, if any, is not part of the first cell.
    text = io.TextIOWrapper(io.BufferedReader(reader), encoding="utf-8-sig", newline="")
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_line))
    rows = csv.reader(text, strict=True)
    row_number = 1
    try:
        if next(rows, None) != list(CSV_COLUMNS):
            raise altered("its header row was changed", "row 1")
        for cells in rows:
            row_number += 1
            if len(cells) != len(CSV_COLUMNS):
                where = f"row {row_number}"
                raise altered(f"row {row_number} has {len(cells)} columns, not 19", where)
            yield row_number, cells
    except (UnicodeDecodeError, csv.Error) as error:
        raise altered(f"row {row_number + 1} is damaged", f"row {row_number + 1}") from error


# --- Where each file keeps its seal ------------------------------------------------------------


def json_seal(handle: IO[bytes], size: int, limits: Limits) -> tuple[Any, int]:
    """record.json's seal (its last line) and where that line starts."""
    seal_line, body_length = last_line(handle, size, limits.max_seal)
    if not seal_line.startswith(JSON_SEAL_PREFIX) or not seal_line.endswith(b"}"):
        raise altered("the file is cut short: its seal at the end is missing", "file")
    try:
        return json.loads(seal_line[len(JSON_SEAL_PREFIX) : -1]), body_length
    except ValueError as error:
        raise altered("its seal is damaged", "seal") from error


def csv_seal(handle: IO[bytes], size: int, limits: Limits) -> tuple[Any, int]:
    """record.csv's seal (the `values` cell of its last, "manifest" row) and where the
    row starts."""
    seal_line, body_length = last_line(handle, size, limits.max_seal)
    if not seal_line.startswith(b"manifest,"):
        raise altered("the file is cut short: its manifest row at the end is missing", "file")
    try:
        cells = next(csv.reader([seal_line.decode("utf-8")]))
        return json.loads(cells[COLUMN["values"]]), body_length
    except (ValueError, IndexError, StopIteration, csv.Error) as error:
        raise altered("its manifest row is damaged", "seal") from error


def pdf_seal(handle: IO[bytes], size: int, limits: Limits) -> tuple[Any, int]:
    """record.pdf's seal (the `%BoundarySeal` line after %%EOF) and where it starts."""
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
        return json.loads(seal_line[len(PDF_SEAL_PREFIX) :]), body_length
    except ValueError as error:
        raise altered("its seal is damaged", "seal") from error


ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError)


def open_bundle(handle: IO[bytes], limits: Limits) -> tuple[zipfile.ZipFile, list[str]]:
    """The ZIP and its members' names, once it is known to hold a manifest.json."""
    try:
        bundle = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        handle.seek(0)
        start = handle.read(30 + len(ZIP_MANIFEST))
        if start[30:] == ZIP_MANIFEST.encode():
            raise altered("the ZIP is cut short or damaged", "file") from error
        raise not_export("it is not a ZIP that can be read") from error
    members = bundle.infolist()
    names = [member.filename for member in members]
    problem = None
    if len(members) > limits.max_entries:
        problem = not_export(f"it holds more than {limits.max_entries} files")
    elif ZIP_MANIFEST not in names:
        problem = not_export("it is a ZIP without a Boundary manifest")
    elif len(set(names)) != len(names):
        problem = altered("it holds two files with the same name", "file")
    if problem is not None:
        bundle.close()
        raise problem
    return bundle, names


def zip_seal(bundle: zipfile.ZipFile, limits: Limits) -> Any:
    """The seal in the ZIP's manifest.json."""
    try:
        with bundle.open(ZIP_MANIFEST) as member:
            raw = member.read(limits.max_seal + 1)
        if len(raw) > limits.max_seal:
            raise not_export("its manifest.json is far larger than any Boundary manifest")
        return json.loads(raw)
    except (*ZIP_ERRORS, ValueError) as error:
        raise altered("manifest.json is damaged", ZIP_MANIFEST) from error


def unpack_member(
    bundle: zipfile.ZipFile, name: str, target: IO[bytes] | None, budget: list[int]
) -> str:
    """SHA-256 of one member, unpacked into `target` if given, within the unpacking budget."""
    try:
        with bundle.open(name) as member:
            return copy_limited(member, target, budget)
    except ZIP_ERRORS as error:
        raise altered(f"{name} is damaged inside the ZIP", name) from error
