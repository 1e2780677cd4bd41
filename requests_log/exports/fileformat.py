"""The bytes of a Boundary export: how each file is laid out, written and read.

Pure and stand-alone (Python 3.11+ and `cryptography`, no Django): Boundary's writers
(record.py, csvexport.py, jsonexport.py, pdf.py, bundle.py) and the verifier both import
it, so what is written and what is checked can never drift apart. Copy it with the
verifier's other files (verifier.py lists them) to check exports anywhere
(docs/exports.md). How the PDF and the ZIP carry a record is in containerformat.py, and
the text of a receipt in receiptformat.py.

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
  uncompressed, with headers derived from the manifest (containerformat.write_zip).
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
import sys
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

SCAN_CHUNK = 1024 * 1024


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
