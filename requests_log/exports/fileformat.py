"""The bytes of a Boundary export: how each file is laid out, written and read.

Pure and stand-alone (Python 3.11+ and `cryptography`, no Django): Boundary's writers
(record.py, csvexport.py, jsonexport.py, pdf.py, bundle.py) and the verifier both import
it, so what is written and what is checked can never drift apart. Copy it with
verifier.py and chain.py to check exports anywhere (docs/exports.md).

File layouts (all UTF-8; docs/exports.md specifies them byte for byte):
- JSON: line 1 `{"format":"boundary-export","version":1,`, line 2 `"context":{…},`,
  line 3 `"entries":[`, then one entry per line, then `],` and the last line
  `"seal":{"manifest":…,"public_key":…,"signature":…}}`. The manifest's body_sha256 is
  the SHA-256 of every byte before the last line.
- CSV: RFC 4180 with the columns in CSV_COLUMNS, one row per event or withheld run, and
  a last row whose row_type is "manifest", whose `values` cell holds the seal and whose
  other cells are empty. A cell starting with = + - @ tab or carriage return is
  prefixed with ' for spreadsheets.
- PDF: the record as record.json attached inside, and after the PDF's %%EOF one line
  `%BoundarySeal {seal}` whose manifest covers the bytes before it.
- ZIP: manifest.json (a seal whose manifest lists every other file's SHA-256 and size),
  then README.txt, record.json, record.csv, record.pdf and evidence/…, all stored
  uncompressed, with headers derived from the manifest (zip_local_header and friends).
Every seal is written exactly as the SEAL_WRITERS write it: nothing in a file is
outside what is signed or derived from it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import struct
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import urlsplit

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


def loads(data: bytes | str) -> Any:
    """json.loads that fails with ValueError alone (too deep a nesting raises
    RecursionError), so a damaged file can never escape the verdicts."""
    try:
        return json.loads(data)
    except RecursionError as error:
        raise ValueError("JSON nested too deeply") from error


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


def csv_line(cells: list[str]) -> bytes:
    """One CSV row as written: RFC 4180 quoting, CRLF, UTF-8."""
    return (",".join([quoted(cell) for cell in cells]) + "\r\n").encode()


# --- The seal, byte for byte --------------------------------------------------------------------
# Each file carries its seal as exactly the bytes these functions write: the manifest is
# what the signature covers, the signature and the key are checked against it, and
# everything else about the seal's spelling is fixed here, so no byte of it is free.

SEAL_KEYS = frozenset({"manifest", "signature", "public_key"})


def json_seal_line(seal: dict[str, Any]) -> bytes:
    """record.json's last line: `"seal":` + canonical JSON + `}` + LF."""
    return JSON_SEAL_PREFIX + chain.canonical_bytes(seal) + b"}\n"


def csv_manifest_cells(seal: dict[str, Any]) -> list[str]:
    """record.csv's manifest row: `manifest`, the seal in `values` (sorted keys, no
    spaces, non-ASCII as \\uXXXX escapes, as json.dumps writes it) and empty cells."""
    cells = [""] * len(CSV_COLUMNS)
    cells[0] = "manifest"
    cells[COLUMN["values"]] = json.dumps(seal, sort_keys=True, separators=(",", ":"))
    return cells


def csv_manifest_row(seal: dict[str, Any]) -> bytes:
    return csv_line(csv_manifest_cells(seal))


def pdf_seal_line(seal: dict[str, Any]) -> bytes:
    """record.pdf's last line, after %%EOF: `%BoundarySeal ` + canonical JSON + LF."""
    return PDF_SEAL_PREFIX + chain.canonical_bytes(seal) + b"\n"


def zip_manifest_bytes(seal: dict[str, Any]) -> bytes:
    """The whole of a ZIP's manifest.json: canonical JSON, no line end."""
    return chain.canonical_bytes(seal)


SEAL_WRITERS = {
    "json": json_seal_line,
    "csv": csv_manifest_row,
    "pdf": pdf_seal_line,
    "zip": zip_manifest_bytes,
}


@dataclass
class SealLine:
    """A seal as found in a file: parsed, and as written."""

    seal: Any
    written: bytes  # the line (or manifest.json) as written, with its line end if any
    start: int  # where it starts: the bytes before it are the file's body
    trailing: int = 0  # bytes after it, which nothing signs
    cells: list[str] | None = None  # a CSV manifest row's cells


def seal_spelling(file_kind: str, found: SealLine) -> str | None:
    """Why a seal whose signature checks out is not written byte for byte as Boundary
    writes it (None when it is): every byte of it must be signed or derived."""
    seal = found.seal
    extra = sorted(set(seal) - SEAL_KEYS)
    if extra:
        names = ", ".join(json.dumps(name) for name in extra)
        return f"its seal carries {names}, which the signature does not cover"
    for name in ("signature", "public_key"):
        if base64.b64encode(base64.b64decode(seal[name])).decode() != seal[name]:
            return f"its seal's {name} is not written in canonical base64"
    if found.cells is not None:
        if len(found.cells) != len(CSV_COLUMNS):
            return f"the manifest row has {len(found.cells)} columns, not {len(CSV_COLUMNS)}"
        filled = [
            CSV_COLUMNS[index]
            for index, cell in enumerate(found.cells)
            if cell and index not in (0, COLUMN["values"])
        ]
        if filled:
            return (
                f"the manifest row has text in its {', '.join(filled)} "
                f"cell{'s' if len(filled) > 1 else ''}, which nothing signs"
            )
    expected = SEAL_WRITERS[file_kind](seal)
    if found.written == expected:
        return None
    if file_kind != "zip" and found.written + b"\n" == expected:
        return "the file is cut short: the line end after its seal is missing"
    return (
        "its seal is not written exactly as Boundary writes it (canonical JSON, "
        "docs/exports.md): bytes that nothing signs were changed"
    )


def printable(value: Any, limit: int = 80) -> str:
    """Something read from a file, as a reason may quote it: text (bytes as UTF-8), every
    character that is not printable as "?", at most `limit` characters."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    try:
        text = value if isinstance(value, str) else json.dumps(value)[:limit]
    except (ValueError, RecursionError):
        text = "?"
    return "".join(char if char.isprintable() else "?" for char in text[:limit])


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def manifest_problem(manifest: dict[str, Any], file_kind: str, limits: Limits) -> str | None:
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
    if dos_time(manifest.get("generated_at")) is None:
        return "generated_at"
    if file_kind != "zip" and not isinstance(manifest.get("body_sha256"), str):
        return "body_sha256"
    if file_kind == "pdf" and not isinstance(manifest.get("record_sha256"), str):
        return "record_sha256"
    anchors = manifest.get("checkpoints", [])
    if not isinstance(anchors, list) or len(anchors) > ANCHORS_MAX:
        return "checkpoints"
    for text in anchors:
        try:
            if not isinstance(text, str) or read_receipt(text).seq > summary["head_seq"]:
                return "checkpoints"
        except ValueError:
            return "checkpoints"
    if file_kind == "zip":
        files = manifest.get("files")
        if not isinstance(files, dict) or not files or len(files) >= limits.max_entries:
            return "files"
        for name, item in files.items():
            if name == ZIP_MANIFEST or not ZIP_NAME.fullmatch(name):
                return "files"
            if not isinstance(item, dict) or not isinstance(item.get("sha256"), str):
                return "files"
            if not whole(item.get("bytes")) or item["bytes"] >= ZIP_MAX:
                return "files"
    return None


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
    # What a PDF's attachments may unpack to (a ZIP's files are stored, never unpacked):
    # the same as the server's EXPORT_VERIFY_MAX_UNPACKED by default, so that the page,
    # verify_record and the stand-alone script give one answer for one file.
    max_unpacked: int = 1024 * 1024 * 1024
    max_entries: int = 10_000  # files in a ZIP
    max_line: int = 16 * 1024 * 1024  # one JSON line, CSV row or PDF attachment header
    max_seal: int = 1024 * 1024
    jobs: int = 1  # processes that may check a long record.json (the command line uses more)


def file_size(handle: IO[bytes]) -> int:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


def find_seal_line(handle: IO[bytes], size: int, prefix: bytes, limit: int) -> SealLine | None:
    """The last line within the file's last `limit` bytes that starts with `prefix`, as
    written (with its line end), where it starts, and how many bytes follow it; None if
    there is none. Its `seal` is left for the caller to parse."""
    start = max(0, size - limit)
    handle.seek(start)
    tail = handle.read(size - start)
    handle.seek(0)
    at = tail.rfind(b"\n" + prefix) + 1
    if at == 0 and not (start == 0 and tail.startswith(prefix)):
        return None
    end = tail.find(b"\n", at) + 1 or len(tail)
    return SealLine(None, tail[at:end], start + at, len(tail) - end)


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
    except RecursionError as error:
        raise ValueError("JSON nested too deeply") from error
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
    values = loads(cells[column["values"]])
    salts = loads(cells[column["field_salts"]])
    withheld = loads(cells[column["withheld_fields"]])
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


def attachment_streams(handle: IO[bytes], limit: int) -> list[int]:
    """Where the data of each Flate-compressed embedded file in a PDF starts (at most 32).

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
    starts = []
    for offset in sorted(set(offsets))[:32]:
        handle.seek(offset)
        head = handle.read(min(limit, 64 * 1024))
        start = head.find(b"stream")
        if start < 0 or b"/FlateDecode" not in head[:start]:
            continue
        start += len(b"stream")
        start += 2 if head[start : start + 2] == b"\r\n" else 1
        starts.append(offset + start)
    return starts


def starts_like_a_record(handle: IO[bytes], start: int) -> bool:
    """Does the compressed stream at `start` begin with record.json's first line? Only
    that much is unpacked, so an attachment that is not a record costs nothing."""
    handle.seek(start)
    try:
        head = zlib.decompressobj().decompress(handle.read(64 * 1024), len(JSON_HEAD))
    except zlib.error:
        return False
    return head == JSON_HEAD


def embedded_files(handle: IO[bytes], limit: int, max_unpacked: int) -> Iterator[IO[bytes]]:
    """Each embedded file in a PDF that starts as a record.json does, unpacked to a
    temporary file (the consumer closes it), within `max_unpacked` bytes in all."""
    unpacked = 0  # across every attachment: a PDF of many small bombs is still one
    for start in attachment_streams(handle, limit):
        if not starts_like_a_record(handle, start):
            continue
        handle.seek(start)
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


def json_seal(handle: IO[bytes], size: int, limits: Limits) -> SealLine:
    """record.json's seal: its last line."""
    found = find_seal_line(handle, size, JSON_SEAL_PREFIX, limits.max_seal)
    line = b"" if found is None else found.written.removesuffix(b"\n")
    if found is None or not line.endswith(b"}"):
        raise altered("the file is cut short: its seal at the end is missing", "file")
    try:
        found.seal = loads(line[len(JSON_SEAL_PREFIX) : -1])
    except ValueError as error:
        raise altered("its seal is damaged", "seal") from error
    return found


def csv_seal(handle: IO[bytes], size: int, limits: Limits) -> SealLine:
    """record.csv's seal: the `values` cell of its last row, whose row_type is
    "manifest"."""
    found = find_seal_line(handle, size, b"manifest,", limits.max_seal)
    if found is None:
        raise altered("the file is cut short: its manifest row at the end is missing", "file")
    try:
        found.cells = next(csv.reader([found.written.removesuffix(b"\n").decode("utf-8")]))
        found.seal = loads(found.cells[COLUMN["values"]])
    except (ValueError, IndexError, StopIteration, csv.Error) as error:
        raise altered("its manifest row is damaged", "seal") from error
    return found


def pdf_seal(handle: IO[bytes], size: int, limits: Limits) -> SealLine:
    """record.pdf's seal: the `%BoundarySeal` line after %%EOF."""
    found = find_seal_line(handle, size, PDF_SEAL_PREFIX, limits.max_seal)
    if found is None:
        streams = attachment_streams(handle, limits.max_line)
        if any(starts_like_a_record(handle, at) for at in streams):
            raise altered(
                "the PDF's seal at the end is missing: it was cut short or re-saved", "file"
            )
        raise not_export("it is a PDF, but carries no Boundary seal")
    try:
        found.seal = loads(found.written.removesuffix(b"\n")[len(PDF_SEAL_PREFIX) :])
    except ValueError as error:
        raise altered("its seal is damaged", "seal") from error
    return found


# --- ZIP: every byte but the files' own is derived from the manifest ---------------------------
# A bundle is written by write_zip and nothing else: its files stored (never compressed),
# in the order zip_order gives, with no extra fields, comments or data descriptors, dated
# by the manifest's generated_at. So a verifier rebuilds every header from the signed
# manifest and the files' bytes, and compares.

ZIP_LOCAL = struct.Struct("<IHHHHHIIIHH")
ZIP_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
ZIP_END = struct.Struct("<IHHHHIIH")
ZIP_LOCAL_SIGNATURE = 0x04034B50
ZIP_CENTRAL_SIGNATURE = 0x02014B50
ZIP_END_SIGNATURE = 0x06054B50
ZIP_VERSION = 20  # 2.0: what "stored" needs, and what every unzip reads
ZIP_MADE_BY = 3 << 8 | ZIP_VERSION  # Unix
ZIP_ATTRIBUTES = 0o100644 << 16  # a regular file, rw-r--r--
ZIP_MAX = 0xFFFFFFFF  # sizes and offsets past this need ZIP64, which Boundary never writes
ZIP_FIRST = ("README.txt", "record.json", "record.csv", "record.pdf")
ZIP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")
ZIP_LOCAL_FIELDS = (
    "signature",
    "version",
    "flags",
    "compression method",
    "time",
    "date",
    "CRC-32",
    "compressed size",
    "size",
    "name length",
    "extra field length",
)
ZIP_CENTRAL_FIELDS = (
    "signature",
    "version made by",
    "version",
    "flags",
    "compression method",
    "time",
    "date",
    "CRC-32",
    "compressed size",
    "size",
    "name length",
    "extra field length",
    "comment length",
    "disk number",
    "internal attributes",
    "external attributes",
    "offset",
)
ZIP_END_FIELDS = (
    "signature",
    "disk number",
    "disk of the central directory",
    "entries on this disk",
    "entries",
    "central directory size",
    "central directory offset",
    "comment length",
)


def zip_order(names: Iterable[str]) -> list[str]:
    """The order of a bundle's files: manifest.json, README.txt, record.json, record.csv,
    record.pdf (those present), then the others (evidence/…) sorted by name."""
    rest = set(names) - {ZIP_MANIFEST}
    first = [name for name in ZIP_FIRST if name in rest]
    return [ZIP_MANIFEST, *first, *sorted(rest - set(first))]


def dos_time(generated_at: Any) -> tuple[int, int] | None:
    """The ZIP time and date of every file in a bundle: the manifest's generated_at (UTC,
    to the even second below); None if it is not a time with a zone."""
    try:
        moment = datetime.fromisoformat(generated_at)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None or not 1980 <= moment.astimezone(UTC).year <= 2107:
        return None
    moment = moment.astimezone(UTC)
    return (
        moment.hour << 11 | moment.minute << 5 | moment.second // 2,
        (moment.year - 1980) << 9 | moment.month << 5 | moment.day,
    )


@dataclass(frozen=True)
class ZipEntry:
    name: str  # printable ASCII (ZIP_NAME), so no flag is needed for its encoding
    size: int
    crc: int
    offset: int  # where its local header starts


def zip_local_header(entry: ZipEntry, when: tuple[int, int]) -> bytes:
    size, crc, name = entry.size, entry.crc, entry.name.encode()
    return (
        ZIP_LOCAL.pack(ZIP_LOCAL_SIGNATURE, ZIP_VERSION, 0, 0, *when, crc, size, size, len(name), 0)
        + name
    )


def zip_central_header(entry: ZipEntry, when: tuple[int, int]) -> bytes:
    size, crc, name = entry.size, entry.crc, entry.name.encode()
    return (
        ZIP_CENTRAL.pack(
            ZIP_CENTRAL_SIGNATURE,
            ZIP_MADE_BY,
            ZIP_VERSION,
            0,
            0,
            *when,
            crc,
            size,
            size,
            len(name),
            0,
            0,
            0,
            0,
            ZIP_ATTRIBUTES,
            entry.offset,
        )
        + name
    )


def zip_end(count: int, central_size: int, central_offset: int) -> bytes:
    return ZIP_END.pack(ZIP_END_SIGNATURE, 0, 0, count, count, central_size, central_offset, 0)


def zip_difference(
    fields: tuple[str, ...], layout: struct.Struct, found: bytes, wanted: bytes
) -> str:
    """The first field in which a ZIP record differs from what is derived."""
    position = next(
        (i for i, (a, b) in enumerate(zip(found, wanted, strict=False)) if a != b),
        min(len(found), len(wanted)),
    )
    if position >= layout.size:
        return "name"
    start = 0
    for name, code in zip(fields, layout.format.lstrip("<"), strict=True):
        start += struct.calcsize(code)
        if position < start:
            return name
    return "name"  # pragma: no cover - the loop covers every byte of the layout


def write_zip(
    target: IO[bytes], members: Iterable[tuple[str, IO[bytes]]], generated_at: str
) -> None:
    """A bundle of `members` ((name, open file) in zip_order), as the format fixes it.
    Each file is read twice: once for its CRC-32 and size, once to copy it."""
    when = dos_time(generated_at)
    if when is None:
        raise ValueError(f"{generated_at!r} is not a time a ZIP can hold")
    entries, offset = [], 0
    for name, handle in members:
        if not (ZIP_NAME.fullmatch(name) or name == ZIP_MANIFEST):
            raise ValueError(f"{name!r} is not a name a bundle may hold")
        handle.seek(0)
        crc = size = 0
        while chunk := handle.read(SCAN_CHUNK):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
        entry = ZipEntry(name, size, crc, offset)
        header = zip_local_header(entry, when)
        target.write(header)
        handle.seek(0)
        while chunk := handle.read(SCAN_CHUNK):
            target.write(chunk)
        entries.append(entry)
        offset += len(header) + size
        if offset >= ZIP_MAX or len(entries) >= 0xFFFF:
            raise ValueError("a bundle this large would need ZIP64, which Boundary never writes")
    central = b"".join(zip_central_header(entry, when) for entry in entries)
    target.write(central)
    target.write(zip_end(len(entries), len(central), offset))


def zip_local_at(handle: IO[bytes], position: int) -> tuple[bytes, tuple[int, ...] | None, bytes]:
    """What starts at `position`: its first bytes (up to a local header's length), the
    local header's fields if one starts there, and the name after it (as much as the
    file holds)."""
    handle.seek(position)
    raw = handle.read(ZIP_LOCAL.size)
    if len(raw) < ZIP_LOCAL.size or raw[:4] != ZIP_LOCAL_SIGNATURE.to_bytes(4, "little"):
        return raw, None, b""
    fields = ZIP_LOCAL.unpack(raw)
    return raw, fields, handle.read(fields[9])


def zip_seal(handle: IO[bytes], size: int, limits: Limits) -> SealLine:
    """The seal in the ZIP's first file, manifest.json (`written` is its content)."""
    raw, fields, name = zip_local_at(handle, 0)
    if fields is None:
        raise not_export("it is not a ZIP that can be read")
    if name != ZIP_MANIFEST.encode():
        if len(name) < fields[9] and ZIP_MANIFEST.encode().startswith(name):
            raise altered("the ZIP is cut short: it ends inside manifest.json", "file")
        if zip_holds(handle, size, ZIP_MANIFEST, limits):
            raise altered("manifest.json is not the first file in the ZIP", ZIP_MANIFEST)
        raise not_export("it is a ZIP without a Boundary manifest")
    if fields[3] != 0:
        raise altered(zip_compressed(ZIP_MANIFEST, fields[3]), ZIP_MANIFEST)
    if fields[10]:
        raise altered(zip_extra(ZIP_MANIFEST), ZIP_MANIFEST)
    length, start = fields[7], len(raw) + len(name)
    if length > limits.max_seal:
        raise not_export("its manifest.json is far larger than any Boundary manifest")
    if start + length > size:
        raise altered("the ZIP is cut short: it ends inside manifest.json", "file")
    content = handle.read(length)
    try:
        seal = loads(content)
    except ValueError as error:
        raise altered("manifest.json is damaged", ZIP_MANIFEST) from error
    return SealLine(seal, content, 0)


def zip_holds(handle: IO[bytes], size: int, wanted: str, limits: Limits) -> bool:
    """Does a local header in the ZIP, walked from the start, name `wanted`?"""
    position = 0
    for _ in range(limits.max_entries):
        _, fields, name = zip_local_at(handle, position)
        if fields is None:
            return False
        if name == wanted.encode():
            return True
        position += ZIP_LOCAL.size + fields[9] + fields[10] + fields[7]
        if position >= size:
            return False
    return False


def zip_compressed(name: str, method: int) -> str:
    return (
        f"{name} is stored compressed (method {method}), but a Boundary bundle stores "
        "every file as it is, so that each of its bytes is signed or derived from what is "
        "(bundles made before this rule were compressed: the record.pdf, record.csv and "
        "record.json inside one each verify on their own)"
    )


def zip_extra(name: str) -> str:
    return f"the ZIP's header of {name} carries an extra field, which nothing signs"


# --- Receipts: signed checkpoints of a chain (docs/receipts.md) -------------------------------
# A receipt is a C2SP signed note (https://c2sp.org/signed-note) whose text is a checkpoint
# in the manner of https://c2sp.org/tlog-checkpoint: an origin line, the chain's length
# (its head's sequence number), its head hash in base64, and one extension line with the
# time it was issued. RFC 3161 timestamps of the note's text follow the note, PEM-armoured.

NOTE_DASH = "\u2014 "  # "— ", which starts a signature line
TIMESTAMP_BEGIN = "-----BEGIN RFC3161 TIMESTAMP RESPONSE-----"
TIMESTAMP_END = "-----END RFC3161 TIMESTAMP RESPONSE-----"
ED25519_ALGORITHM = b"\x01"
RECEIPT_MAX_BYTES = 64 * 1024  # a signed note and a few timestamps take about 10 kB
ANCHORS_MAX = 20  # the timestamped checkpoints an export carries, at most


@dataclass
class Receipt:
    """A receipt as read from its text; nothing in it is checked yet."""

    note: str  # the signed text, ending with a newline
    origin: str
    seq: int
    head_hash: str  # hex
    issued_at: str  # a chain timestamp
    signatures: list[tuple[str, bytes, bytes]]  # (key name, key id, signature)
    timestamps: list[bytes]  # RFC 3161 TimeStampResp, DER


def readable_time(text: str) -> str:
    """A chain time ("2026-12-02T09:41:07.512034Z") as a person reads it
    ("2026-12-02 09:41:07 UTC"); anything else as it is."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return str(text)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def receipt_origin(host: str, employee_id: int) -> str:
    return f"{host}/boundary/employee/{employee_id}"


def instance_host(instance: str) -> str:
    """The host a receipt's origin names, from the instance's address (SITE_URL)."""
    return urlsplit(instance).netloc or "boundary"


def receipt_origin_of(manifest: dict[str, Any]) -> str:
    """The origin of the receipts of the record an export holds."""
    return receipt_origin(instance_host(str(manifest["instance"])), manifest["employee"]["id"])


def anchors_of(manifest: dict[str, Any]) -> list[Receipt]:
    """The timestamped checkpoints an export carries (its manifest's "checkpoints",
    receipt texts, from version 2 on; their layout is checked by manifest_problem)."""
    return [read_receipt(text) for text in manifest.get("checkpoints", [])]


def anchor_seqs(manifest: dict[str, Any]) -> frozenset[int]:
    return frozenset(anchor.seq for anchor in anchors_of(manifest))


def checkpoint_note(*, origin: str, seq: int, head_hash: str, issued_at: str) -> str:
    head = base64.b64encode(bytes.fromhex(head_hash)).decode()
    return f"{origin}\n{seq}\n{head}\nissued {issued_at}\n"


def note_key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID a signed note names its Ed25519 key by."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALGORITHM + public_key).digest()[:4]


def signed_note(note: str, name: str, public_key: bytes, signature: bytes) -> str:
    encoded = base64.b64encode(note_key_id(name, public_key) + signature).decode()
    return f"{note}\n{NOTE_DASH}{name} {encoded}\n"


def armoured_timestamp(response: bytes) -> str:
    encoded = base64.b64encode(response).decode()
    lines = [encoded[start : start + 64] for start in range(0, len(encoded), 64)]
    return "\n".join([TIMESTAMP_BEGIN, *lines, TIMESTAMP_END]) + "\n"


def receipt_text(signed: str, timestamps: list[bytes]) -> str:
    return signed + "".join("\n" + armoured_timestamp(response) for response in timestamps)


def read_receipt(text: str) -> Receipt:
    """A receipt's parts; ValueError, saying what, if it is not laid out as one."""
    if len(text) > RECEIPT_MAX_BYTES:
        raise ValueError("it is far larger than any receipt")
    # Saved from an email or on Windows, its lines may end in CRLF: the note is signed
    # with LF, which is all a receipt's text holds.
    text = text.replace("\r\n", "\n")
    signed, _, rest = text.partition("\n" + TIMESTAMP_BEGIN)
    note, separator, signature_lines = signed.partition("\n\n")
    if not separator or not note:
        raise ValueError("it has no signature after its text")
    note += "\n"
    lines = note.splitlines()
    if len(lines) != 4 or not lines[3].startswith("issued "):
        raise ValueError("its text is not a Boundary checkpoint")
    try:
        seq = int(lines[1])
        head = base64.b64decode(lines[2], validate=True)
    except ValueError as error:
        raise ValueError("its length or head hash cannot be read") from error
    if len(head) != 32 or seq < 0 or str(seq) != lines[1]:
        raise ValueError("its length or head hash cannot be read")
    signatures = []
    for line in signature_lines.splitlines():
        if not line.startswith(NOTE_DASH) or line.count(" ") != 2:
            raise ValueError("a signature line is malformed")
        name, encoded = line[len(NOTE_DASH) :].split(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as error:  # binascii.Error is one
            raise ValueError("a signature is not base64") from error
        if len(raw) != 4 + 64:
            raise ValueError("a signature is not an Ed25519 signature")
        signatures.append((name, raw[:4], raw[4:]))
    if not signatures:
        raise ValueError("it has no signature")
    timestamps = []
    for block in (TIMESTAMP_BEGIN + rest).split(TIMESTAMP_BEGIN)[1:] if rest else []:
        body, end, _ = block.partition(TIMESTAMP_END)
        if not end:
            raise ValueError("a timestamp is cut short")
        try:
            timestamps.append(base64.b64decode("".join(body.split()), validate=True))
        except ValueError as error:  # binascii.Error is one
            raise ValueError("a timestamp is not base64") from error
    return Receipt(
        note, lines[0], seq, head.hex(), lines[3][len("issued ") :], signatures, timestamps
    )
