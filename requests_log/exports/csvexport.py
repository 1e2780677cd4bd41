"""record.csv: one row per event (or withheld run), for sorting in a spreadsheet.

The columns are verifier.CSV_COLUMNS, documented in docs/exports.md. Cells that a
spreadsheet would run as a formula are prefixed with ' (verifier.neutralise).
"""

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from .. import chain
from . import verifier
from .record import WITHHELD, Record, summarise
from .signing import signing_key

FLUSH_AT = 256 * 1024
EMPTY_ROW = [""] * len(verifier.CSV_COLUMNS)


NEEDS_QUOTES = re.compile(r'[",\r\n]').search


def quoted(cell: str) -> str:
    """A cell as RFC 4180 writes it (what csv.writer does, without its per-character loop)."""
    return '"' + cell.replace('"', '""') + '"' if NEEDS_QUOTES(cell) else cell


def csv_line(cells: list[str]) -> str:
    return ",".join([quoted(cell) for cell in cells]) + "\r\n"


def json_object(pairs: dict[str, str]) -> str:
    """Salts and digests: hex strings keyed by field names, which JSON writes as they are
    (any other name goes through the encoder)."""
    if not all(name.isidentifier() for name in pairs):
        return json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
    return "{" + ",".join(f'"{name}":"{value}"' for name, value in pairs.items()) + "}"


def csv_cells(record: Record, entry: dict[str, Any], names: dict[str, Any]) -> list[str]:
    """A row's cells as written, with its checksum last."""
    canonical = chain.canonical_bytes
    neutralise = verifier.neutralise
    if "withheld" in entry:
        run = entry["withheld"]
        count = run["to"] - run["from"] + 1
        summary = f"{count} event{'s' if count != 1 else ''} withheld (outside this export)"
        cells = ["withheld", str(run["from"]), str(run["to"]), *[""] * 9, summary]
        cells += ["", "", "", "", entry["hash"]]
    else:
        header, fields = entry["event"], entry["fields"]
        values, salts, withheld = {}, {}, {}
        for name, item in fields.items():
            if "salt" in item:
                values[name] = item["value"]
                salts[name] = item["salt"]
            else:
                withheld[name] = item["digest"]
        request_id, actor_id, kind = header["request"], header["actor"], header["kind"]
        occurred = header["occurred_at"]
        cells = [
            "event",
            str(header["seq"]),
            str(header["seq"]),
            occurred,
            record.local_text(occurred),
            header["recorded_at"],
            "" if request_id is None else str(request_id),
            "" if request_id is None else neutralise(names["requests"].get(request_id, WITHHELD)),
            kind,
            names["kinds"].get(kind, kind),
            "" if actor_id is None else str(actor_id),
            "" if actor_id is None else neutralise(names["people"].get(str(actor_id), "")),
            neutralise(summarise(kind, values)),
            canonical(values).decode(),
            json_object(salts),
            json_object(withheld),
            header["prev_hash"],
            entry["hash"],
        ]
    cells.append(verifier.row_checksum(cells))
    return cells


def csv_chunks(record: Record, sealed: list[dict[str, Any]] | None = None) -> Iterator[bytes]:
    """The file in pieces of about 256 KB, the manifest row last."""
    context = record.context()
    names = {
        "requests": {item["id"]: item["title"] for item in context["requests"]},
        "kinds": context["kinds"],
        "people": context["people"],
    }
    digest = hashlib.sha256()
    pending = [csv_line(list(verifier.CSV_COLUMNS))]
    size = 0
    for entry in record.entries():
        line = csv_line(csv_cells(record, entry, names))
        pending.append(line)
        size += len(line)
        if size >= FLUSH_AT:
            block = "".join(pending).encode()
            digest.update(block)
            yield block
            pending, size = [], 0
    block = "".join(pending).encode()
    digest.update(block)
    yield block
    manifest = record.manifest(file_kind="csv", body_sha256=digest.hexdigest())
    seal = signing_key().seal(manifest)
    if sealed is not None:
        sealed.append(seal)
    row = list(EMPTY_ROW)
    row[0] = "manifest"
    row[verifier.COLUMN["values"]] = json.dumps(seal, sort_keys=True, separators=(",", ":"))
    yield csv_line(row).encode()
