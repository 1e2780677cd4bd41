"""The two exports that carry a record.json inside them: record.pdf, as an attachment, and
the ZIP bundle, as a stored file. How a bundle is written byte for byte (write_zip), and
how a verifier finds the record and the seal in each; docs/exports.md specifies both.

Pure and stand-alone like fileformat.py, whose layouts, limits and verdicts it builds on:
bundle.py writes with it and the verifier reads with it.
"""

from __future__ import annotations

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

try:
    from requests_log.exports import fileformat
except ImportError:  # stand-alone: fileformat.py sits beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fileformat  # type: ignore[no-redef, import-not-found]

Verdict, altered, not_export = fileformat.Verdict, fileformat.altered, fileformat.not_export


# --- PDF: the record attached inside, and the seal after %%EOF -------------------------------

EMBEDDED_FILE = re.compile(rb"/Type\s*/EmbeddedFile\b")


def attachment_streams(handle: IO[bytes], limit: int) -> list[int]:
    """Where the data of each Flate-compressed embedded file in a PDF starts (at most 32).

    Reads the PDF's bytes rather than its object tree: stream objects are never inside
    compressed object streams, and zlib finds the end of its own data.
    """
    handle.seek(0)
    offsets, carry, position = [], b"", 0
    while chunk := handle.read(fileformat.SCAN_CHUNK):
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
        head = zlib.decompressobj().decompress(handle.read(64 * 1024), len(fileformat.JSON_HEAD))
    except zlib.error:
        return False
    return head == fileformat.JSON_HEAD


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


def pdf_seal(handle: IO[bytes], size: int, limits: fileformat.Limits) -> fileformat.SealLine:
    """record.pdf's seal: the `%BoundarySeal` line after %%EOF."""
    found = fileformat.find_seal_line(handle, size, fileformat.PDF_SEAL_PREFIX, limits.max_seal)
    if found is None:
        streams = attachment_streams(handle, limits.max_line)
        if any(starts_like_a_record(handle, at) for at in streams):
            raise altered(
                "the PDF's seal at the end is missing: it was cut short or re-saved", "file"
            )
        raise not_export("it is a PDF, but carries no Boundary seal")
    try:
        found.seal = fileformat.loads(
            found.written.removesuffix(b"\n")[len(fileformat.PDF_SEAL_PREFIX) :]
        )
    except ValueError as error:
        raise altered("its seal is damaged", "seal") from error
    return found


# --- ZIP: every byte but the files' own is derived from the manifest ---------------------------
# A bundle is written by write_zip and nothing else: its files stored (never compressed),
# in the order zip_order gives, with no extra fields, comments or data descriptors, dated
# by the manifest's generated_at. So a verifier rebuilds every header from the signed
# manifest and the files' bytes, and compares.

ZIP_MANIFEST = "manifest.json"
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
        while chunk := handle.read(fileformat.SCAN_CHUNK):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
        entry = ZipEntry(name, size, crc, offset)
        header = zip_local_header(entry, when)
        target.write(header)
        handle.seek(0)
        while chunk := handle.read(fileformat.SCAN_CHUNK):
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


def zip_seal(handle: IO[bytes], size: int, limits: fileformat.Limits) -> fileformat.SealLine:
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
        seal = fileformat.loads(content)
    except ValueError as error:
        raise altered("manifest.json is damaged", ZIP_MANIFEST) from error
    return fileformat.SealLine(seal, content, 0)


def zip_holds(handle: IO[bytes], size: int, wanted: str, limits: fileformat.Limits) -> bool:
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
