"""Damaged exports: every way a file can be cut, flipped, padded or forged, for checking
that the page, `verify_record` and the stand-alone script answer each the same way."""

import base64
import csv
import io
import json
import struct
import zipfile
import zlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from requests_log import chain
from requests_log.exports import containerformat, fileformat, signing

ZL, ZC, ZE = containerformat.ZIP_LOCAL, containerformat.ZIP_CENTRAL, containerformat.ZIP_END


def deflate_bomb(megabytes: int) -> bytes:
    """A raw deflate stream of `megabytes` MB of zeros, about a thousandth of the size:
    one flushed block repeated (each one stands alone), then an empty final block."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(b"\0" * (1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + b"\x03\x00"


def flate_bomb(megabytes: int, head: bytes = b"") -> bytes:
    """A zlib stream (what a PDF's FlateDecode holds) of `head` and then `megabytes` MB
    of zeros (its checksum is never reached: a verifier stops long before)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    return b"\x78\xda" + start + deflate_bomb(megabytes)


def raw_zip(members: list[dict], *, when=None, comment: bytes = b"", end=None) -> bytes:
    """A ZIP written field by field. Each member: name, data, and optionally method,
    flags, extra, size (declared unpacked size), csize (declared stored size), crc,
    central_extra, attributes. `when` defaults to the manifest's time."""
    if when is None:
        try:
            seal = json.loads(members[0]["data"])
            when = containerformat.dos_time(seal["manifest"]["generated_at"])
        except (ValueError, KeyError, TypeError, IndexError):
            when = None
        when = when or (0, 0x21)
    out, central = io.BytesIO(), []
    for member in members:
        name = member["name"].encode()
        data = member["data"]
        method = member.get("method", 0)
        crc = member.get("crc", zlib.crc32(data))
        csize = member.get("csize", len(data))
        size = member.get("size", len(data))
        flags, extra = member.get("flags", 0), member.get("extra", b"")
        offset = out.tell()
        out.write(
            ZL.pack(0x04034B50, 20, flags, method, *when, crc, csize, size, len(name), len(extra))
        )
        out.write(name + extra + data)
        central_extra = member.get("central_extra", b"")
        central.append(
            ZC.pack(
                0x02014B50,
                containerformat.ZIP_MADE_BY,
                20,
                flags,
                method,
                *when,
                crc,
                csize,
                size,
                len(name),
                len(central_extra),
                0,
                0,
                0,
                member.get("attributes", containerformat.ZIP_ATTRIBUTES),
                offset,
            )
            + name
            + central_extra
        )
    directory = b"".join(central)
    start = out.tell()
    out.write(directory)
    fields = [0x06054B50, 0, 0, len(members), len(members), len(directory), start, len(comment)]
    for index, value in (end or {}).items():
        fields[index] = value
    out.write(ZE.pack(*fields) + comment)
    return out.getvalue()


def zip_members(data: bytes) -> list[dict]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return [{"name": name, "data": bundle.read(name)} for name in bundle.namelist()]


def other_key_seal(manifest) -> dict:
    key = Ed25519PrivateKey.generate()
    return {
        "manifest": manifest,
        "signature": base64.b64encode(key.sign(fileformat.signed_bytes(manifest))).decode(),
        "public_key": base64.b64encode(key.public_key().public_bytes_raw()).decode(),
    }


def our_seal(manifest) -> dict:
    """Signed by the instance's own key (as a bug in the server would)."""
    return signing.signing_key().seal(manifest)


def seal_of(kind: str, data: bytes) -> dict:
    if kind == "zip":
        return json.loads(zip_members(data)[0]["data"])
    line = data.rstrip(b"\n").rpartition(b"\n")[2]
    if kind == "json":
        return json.loads(line[len(fileformat.JSON_SEAL_PREFIX) : -1])
    if kind == "pdf":
        return json.loads(line[len(fileformat.PDF_SEAL_PREFIX) :])
    cells = next(csv.reader([line.decode()]))
    return json.loads(cells[fileformat.COLUMN["values"]])


def with_seal(kind: str, data: bytes, seal_bytes: bytes) -> bytes:
    """The file with its seal line (or manifest.json) replaced by `seal_bytes`."""
    if kind == "zip":
        members = zip_members(data)
        members[0]["data"] = seal_bytes
        return raw_zip(members)
    body = data.rstrip(b"\n").rpartition(b"\n")[0] + b"\n"
    return body + seal_bytes


def sealed(kind: str, seal: dict) -> bytes:
    return fileformat.SEAL_WRITERS[kind](seal)


def forged_manifests(kind: str, data: bytes) -> dict[str, bytes]:
    """Validly signed manifests of the wrong shape: by another key, and by ours."""
    manifest = seal_of(kind, data)["manifest"]
    wrong = {
        "chain-is-a-list": {**manifest, "chain": []},
        "employee-is-text": {**manifest, "employee": "Maya"},
        "head-seq-is-text": {**manifest, "chain": {**manifest["chain"], "head_seq": "5"}},
        "huge-head-seq": {**manifest, "chain": {**manifest["chain"], "head_seq": 10**30}},
        "no-time": {**manifest, "generated_at": 5},
        "body-digest-is-a-number": {**manifest, "body_sha256": 5},
        "files-is-a-list": {**manifest, "files": []},
        "file-entry-is-a-number": {**manifest, "files": {"record.json": 5}},
        "file-name-climbs": {**manifest, "files": {"../x": {"sha256": "0", "bytes": 1}}},
        "manifest-is-a-list": [1, 2],
        "deep-manifest": {**manifest, "extra": json.loads("[" * 500 + "]" * 500)},
    }
    forged = {}
    for name, value in wrong.items():
        forged[f"forged-{name}-other-key"] = with_seal(
            kind, data, sealed(kind, other_key_seal(value))
        )
        forged[f"forged-{name}-our-key"] = with_seal(kind, data, sealed(kind, our_seal(value)))
    return forged


def cut_points(length: int) -> list[int]:
    points = {1, 2, 3, 4, 5, 10, 20, 29, 30, 31, 40, 41, 42, 43, 50, 64, 100, 200}
    points |= {length * k // 25 for k in range(1, 25)}
    points |= {length - k for k in (1, 2, 3, 4, 10, 22, 23, 50, 100, 200, 300, 500)}
    return sorted(point for point in points if 0 < point < length)


def flip(data: bytes, position: int, mask: int = 0xFF) -> bytes:
    changed = bytearray(data)
    changed[position] ^= mask
    return bytes(changed)


def zip_structure_positions(data: bytes) -> list[int]:
    """Every byte of a ZIP that is not a file's content: local headers, the central
    directory and its end record."""
    positions = []
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        for info in bundle.infolist():
            start = info.header_offset
            positions += range(start, start + ZL.size + len(info.filename.encode()))
        end = data.rindex(b"PK\x05\x06")
        start = struct.unpack("<I", data[end + 16 : end + 20])[0]
    positions += range(start, len(data))
    return positions


def battery(kind: str, data: bytes) -> dict[str, bytes]:
    """Damaged copies of one genuine export `data` (of file kind `kind`), by name."""
    files: dict[str, bytes] = {"empty": b""}
    files |= {f"cut-at-{point}": data[:point] for point in cut_points(len(data))}
    seal_start = 0 if kind == "zip" else data.rstrip(b"\n").rindex(b"\n") + 1
    positions = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 16, 20, 30, 40, 41, 42, 50, 64}
    positions |= {len(data) * k // 20 for k in range(1, 20)}
    positions |= {len(data) - k for k in (1, 2, 3, 5, 10, 40, 100)}
    positions |= {seal_start + k for k in (0, 1, 5, 8, 9, 12, 15, 20, 60, 200)}
    if kind == "zip":
        positions |= set(zip_structure_positions(data))
    files |= {f"flip-{at}": flip(data, at) for at in sorted(positions) if at < len(data)}
    files |= {
        "append-newline": data + b"\n",
        "append-crlf": data + b"\r\n",
        "append-space": data + b" ",
        "append-nul": data + b"\0",
        "append-text": data + b'=HYPERLINK("https://example.com","Click")\n' * 20,
        "append-seal-again": data + data[seal_start:] if kind != "zip" else data + data[:200],
        "prepend-space": b" " + data,
        "prepend-bom": fileformat.CSV_BOM + data,
        "twice": data + data,
        "png": b"\x89PNG\r\n\x1a\n" + data[:100],
        "gzip": b"\x1f\x8b\x08\x00" + data[:100],
        "nul-bytes": b"\0" * 1000,
        "text": b"hello\n",
    }
    files |= forged_manifests(kind, data)
    files |= globals()[f"{kind}_battery"](data)
    return files


def _seal_variants(kind: str, data: bytes) -> dict[str, bytes]:
    seal = seal_of(kind, data)
    canonical = chain.canonical_bytes
    variants = {
        "seal-extra-key": {**seal, "note": '=HYPERLINK("https://example.com","Click")'},
        "seal-extra-null": {**seal, "comment": None},
    }
    files = {name: with_seal(kind, data, sealed(kind, value)) for name, value in variants.items()}
    spaced = json.dumps(seal, indent=1).encode()
    prefix = {"json": fileformat.JSON_SEAL_PREFIX, "pdf": fileformat.PDF_SEAL_PREFIX}.get(kind)
    if prefix is not None:
        closing = b"}\n" if kind == "json" else b"\n"
        files["seal-with-spaces"] = with_seal(
            kind, data, prefix + json.dumps(seal, separators=(", ", ": ")).encode() + closing
        )
        files["seal-keys-reordered"] = with_seal(
            kind,
            data,
            prefix
            + json.dumps(dict(reversed(seal.items())), separators=(",", ":")).encode()
            + closing,
        )
        files["seal-escaped"] = with_seal(
            kind,
            data,
            prefix + canonical(seal).replace(b'"manifest"', b'"\\u006danifest"') + closing,
        )
        files["seal-duplicate-key"] = with_seal(
            kind, data, prefix + b'{"manifest":1,' + canonical(seal)[1:] + closing
        )
        files["seal-is-a-list"] = with_seal(kind, data, prefix + b"[]" + closing)
        files["seal-wrong-types"] = with_seal(
            kind, data, prefix + b'{"manifest":{},"signature":1,"public_key":null}' + closing
        )
        files["seal-deep"] = with_seal(kind, data, prefix + b"[" * 100000 + b"]" * 100000 + closing)
        files["seal-huge-number"] = with_seal(kind, data, prefix + b"1" * 5000 + closing)
        files["seal-nan"] = with_seal(
            kind, data, prefix + canonical(seal)[:-1] + b',"x":NaN}' + closing
        )
        files["seal-no-line-end"] = data[:-1]
    signature = base64.b64decode(seal["signature"])
    loose = base64.b64encode(signature).decode()[:-3] + "B=="  # same bytes, other spelling
    if base64.b64decode(loose) == signature:
        files["seal-signature-loose-base64"] = with_seal(
            kind, data, sealed(kind, {**seal, "signature": loose})
        )
    files["seal-spaced-json"] = with_seal(kind, data, spaced + b"\n")
    return files


def json_battery(data: bytes) -> dict[str, bytes]:
    lines = data.split(b"\n")
    files = _seal_variants("json", data)

    def entry(index: int, replacement: bytes) -> bytes:
        changed = list(lines)
        changed[index] = replacement + (b"," if changed[index].endswith(b",") else b"")
        return b"\n".join(changed)

    files |= {
        "entry-is-a-list": entry(4, b"[1,2]"),
        "entry-is-text": entry(4, b'"event"'),
        "entry-is-null": entry(4, b"null"),
        "entry-event-is-text": entry(4, b'{"event":"x","fields":{},"hash":"0"}'),
        "entry-fields-is-a-list": entry(4, lines[4].replace(b'"fields":{', b'"fields":[{', 1)),
        "entry-seq-is-text": entry(4, lines[4].replace(b'"seq":2', b'"seq":"2"', 1)),
        "entry-seq-is-float": entry(4, lines[4].replace(b'"seq":2', b'"seq":2.0', 1)),
        "entry-seq-is-huge": entry(4, lines[4].replace(b'"seq":2', b'"seq":' + b"9" * 30, 1)),
        "entry-number-too-long": entry(4, lines[4].replace(b'"seq":2', b'"seq":' + b"9" * 5000, 1)),
        "entry-nan": entry(4, lines[4].replace(b'"seq":2', b'"seq":NaN', 1)),
        "entry-deep": entry(4, b"[" * 100000 + b"]" * 100000),
        "entry-deep-value": entry(
            4, b'{"event":{},"fields":{"a":{"value":' + b"[" * 900 + b"]" * 900 + b"}}}"
        ),
        "entry-invalid-utf8": entry(4, lines[4].replace(b"a", b"\xff", 1)),
        "entry-salt-not-hex": entry(4, lines[4].replace(b'"salt":"', b'"salt":"zz', 1)),
        "context-removed": b"\n".join(lines[:1] + lines[2:]),
        "entries-not-closed": b"\n".join(line for line in lines if line != b"],"),
        "text-between-entries-and-seal": b"\n".join([*lines[:-2], b"{}", *lines[-2:]]),
        "crlf-line-ends": data.replace(b"\n", b"\r\n"),
    }
    return files


def csv_battery(data: bytes) -> dict[str, bytes]:
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = fileformat.COLUMN

    def written(changed) -> bytes:
        return fileformat.CSV_BOM + b"".join(fileformat.csv_line(row) for row in changed)

    def with_cell(row: int, name: str, value: str) -> bytes:
        changed = [list(cells) for cells in rows]
        changed[row][column[name]] = value
        return written(changed)

    hyperlink = '=HYPERLINK("https://example.com/?"&A1,"Verified: click for details")'
    files = _seal_variants("csv", data)
    files |= {
        "manifest-row-hyperlink-in-summary": with_cell(-1, "summary", hyperlink),
        "manifest-row-text-in-request": with_cell(-1, "request", "Accepted"),
        "manifest-row-text-in-row-sha256": with_cell(-1, "row_sha256", "0" * 64),
        "manifest-row-extra-column": written([*rows[:-1], rows[-1] + ["extra"]]),
        "manifest-row-short": written([*rows[:-1], rows[-1][:14]]),
        "manifest-row-very-short": written([*rows[:-1], rows[-1][:3]]),
        "manifest-row-quoted-type": data.replace(b"\r\nmanifest,", b'\r\n"manifest",'),
        "manifest-values-is-a-list": with_cell(-1, "values", "[]"),
        "manifest-values-deep": with_cell(-1, "values", "[" * 100000 + "]" * 100000),
        "values-is-a-list": with_cell(2, "values", "[]"),
        "values-is-a-number": with_cell(2, "values", "5"),
        "values-deep": with_cell(2, "values", "[" * 100000 + "]" * 100000),
        "values-deep-within-limits": with_cell(2, "values", '{"a":' + "[" * 900 + "]" * 900 + "}"),
        "withheld-is-a-list": with_cell(2, "withheld_fields", '["a"]'),
        "seq-is-text": with_cell(2, "seq", "two"),
        "seq-is-huge": with_cell(2, "seq", "9" * 5000),
        "row-type-unknown": with_cell(2, "row_type", "other"),
        "nul-in-a-row": data.replace(b"Daniel", b"Dan\0iel", 1),
        "invalid-utf8": data.replace(b"Daniel", b"Dan\xffiel", 1),
        "unclosed-quote": data.replace(b'"', b"", 1),
        "lf-line-ends": data.replace(b"\r\n", b"\n"),
        "no-header": b"".join(data.split(b"\r\n", 1)[1:]),
    }
    return files


def pdf_battery(data: bytes) -> dict[str, bytes]:
    seal_line = data.rstrip(b"\n").rpartition(b"\n")[2] + b"\n"
    body = data[: -len(seal_line)]
    bomb = flate_bomb(1100, fileformat.JSON_HEAD)
    attachment = (
        b"%PDF-1.7\n1 0 obj\n<< /Type /EmbeddedFile /Filter /FlateDecode /Length 99999999999 >>"
        b"\nstream\n" + bomb + b"\nendstream\nendobj\n%%EOF\n"
    )
    files = _seal_variants("pdf", data)
    files |= {
        "incremental-update-after-seal": data + b"1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n",
        "incremental-update-before-seal": body + b"1 0 obj\n<< >>\nendobj\n%%EOF\n" + seal_line,
        "attachment-bomb-without-seal": attachment,
        "attachment-bomb-with-a-copied-seal": attachment + seal_line,
        "attachment-not-flate": body.replace(b"/FlateDecode", b"/ASCIIHexDecode", 1) + seal_line,
        "seal-line-twice": data + seal_line,
        "only-the-seal": seal_line,
        "pdf-head-only": b"%PDF-1.7\n%%EOF\n",
    }
    return files


def zip_battery(data: bytes) -> dict[str, bytes]:
    members = zip_members(data)

    def changed(index: int, **fields) -> bytes:
        copy = [dict(member) for member in members]
        copy[index].update(fields)
        return raw_zip(copy)

    deflated = [
        {
            **member,
            "data": zlib.compress(member["data"])[2:-4],
            "method": 8,
            "size": len(member["data"]),
            "crc": zlib.crc32(member["data"]),
        }
        for member in members
    ]
    names = [member["name"] for member in members]
    record = names.index("record.json")
    files = _seal_variants("zip", data)
    files |= {
        "comment": raw_zip(members, comment=b"Verified by HR: all in order"),
        "comment-length-only": raw_zip(members, end={7: 5}),
        "extra-field-in-manifest": changed(0, extra=b"\x55\x54\x05\x00\x01\x00\x00\x00\x00"),
        "extra-field-in-record": changed(record, extra=b"\x55\x54\x05\x00\x01\x00\x00\x00\x00"),
        "extra-field-in-central-directory": changed(record, central_extra=b"\x0a\x00\x00\x00"),
        "executable-record": changed(record, attributes=0o100755 << 16),
        "data-descriptor-flag": changed(record, flags=0x08),
        "utf8-flag": changed(record, flags=0x800),
        "all-deflated": raw_zip(deflated),
        "record-deflated": raw_zip([*members[:record], deflated[record], *members[record + 1 :]]),
        "manifest-empty": changed(0, data=b""),
        "record-empty": changed(record, data=b""),
        "readme-empty": changed(names.index("README.txt"), data=b""),
        "manifest-declares-4-gb": changed(0, csize=0xFFFFFFFF, size=0xFFFFFFFF),
        "record-declares-4-gb": changed(record, csize=0xFFFFFFFF, size=0xFFFFFFFF),
        "directory-declares-65535-entries": raw_zip(members, end={3: 0xFFFF, 4: 0xFFFF}),
        "directory-offset-past-the-end": raw_zip(members, end={6: 0xFFFFFFF0}),
        "directory-size-huge": raw_zip(members, end={5: 0xFFFFFFF0}),
        "zip64-end-appended": data + b"PK\x06\x06" + b"\0" * 52 + b"PK\x06\x07" + b"\0" * 16,
        "bomb-member": raw_zip(
            [
                *members,
                {
                    "name": "evidence/bomb",
                    "data": deflate_bomb(1100),
                    "method": 8,
                    "size": 1100 << 20,
                },
            ]
        ),
        "bomb-instead-of-record": changed(
            record, data=deflate_bomb(1100), method=8, size=1100 << 20
        ),
        "directory-entry": raw_zip([*members, {"name": "evidence/", "data": b""}]),
        "duplicate-record": raw_zip(
            [*members[: record + 1], members[record], *members[record + 1 :]]
        ),
        "extra-file": raw_zip([*members, {"name": "note.txt", "data": b"=HYPERLINK()"}]),
        "files-reversed": raw_zip([members[0], *reversed(members[1:])]),
        "manifest-last": raw_zip([*members[1:], members[0]]),
        "no-manifest": raw_zip(members[1:]),
        "name-with-nul": changed(record, name="record.json\0"),
        "manifest-json-extra-key": with_seal(
            "zip", data, sealed("zip", {**seal_of("zip", data), "note": "=HYPERLINK()"})
        ),
        "manifest-json-with-newline": with_seal("zip", data, members[0]["data"] + b"\n"),
        "other-zip": raw_zip([{"name": "photo.jpg", "data": b"not really"}]),
        "wrong-crc-everywhere": raw_zip([{**member, "crc": 0} for member in members]),
    }
    return files


def rewritten(data: bytes, old: bytes, new: bytes) -> bytes:
    """A record.json in which `old` became `new` in one event, every hash from there on
    recomputed and the whole sealed again by another key: a rewrite by someone who holds
    the salts but not the instance's key."""
    lines = data.split(b"\n")
    entries = [json.loads(line.rstrip(b",")) for line in lines[3:-3]]
    prev = chain.GENESIS_HASH
    for entry in entries:
        if "withheld" in entry:
            prev = entry["hash"]
            continue
        for item in entry["fields"].values():
            if isinstance(item.get("value"), str):
                item["value"] = item["value"].replace(old.decode(), new.decode())
        entry["event"]["prev_hash"] = prev
        digests = {
            name: item["digest"]
            if "digest" in item
            else chain.field_digest(item["salt"], item["value"])
            for name, item in entry["fields"].items()
        }
        entry["hash"] = prev = chain.event_hash(entry["event"], digests)
    body = (
        b"\n".join(
            lines[:3]
            + [
                chain.canonical_bytes(entry) + (b"," if i < len(entries) - 1 else b"")
                for i, entry in enumerate(entries)
            ]
            + [lines[-3]]
        )
        + b"\n"
    )
    manifest = seal_of("json", data)["manifest"]
    manifest = {
        **manifest,
        "chain": {**manifest["chain"], "head_hash": prev},
        "body_sha256": fileformat.sha256_hex(body),
    }
    return body + fileformat.json_seal_line(other_key_seal(manifest))
