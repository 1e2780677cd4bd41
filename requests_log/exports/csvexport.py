"""record.csv: one row per event (or withheld run), for sorting in a spreadsheet.

The columns are verifier.CSV_COLUMNS, documented in docs/exports.md. Cells that a
spreadsheet would run as a formula are prefixed with ' (verifier.neutralise).
"""

import hashlib
import json
import re
from collections.abc import Iterator
from json.encoder import encode_basestring  # type: ignore[attr-defined]
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
    """Salts and digests: hex strings keyed by field names, as json.dumps writes them
    compactly. Events of a kind share their field names, so the text around the values
    is made once per set of names and kept."""
    names = tuple(pairs)
    template = JSON_OBJECT_TEMPLATES.get(names)
    if template is None:
        keys = [encode_basestring(name).replace("%", "%%") for name in names]
        template = "{" + ",".join([f'{key}:"%s"' for key in keys]) + "}"
        if len(JSON_OBJECT_TEMPLATES) < 10_000:
            JSON_OBJECT_TEMPLATES[names] = template
    return template % tuple(pairs.values())


JSON_OBJECT_TEMPLATES: dict[tuple[str, ...], str] = {}


def quoted_json(cell: str) -> str:
    """quoted() of a JSON object: any but {} holds a quoted name, so it is quoted."""
    return '"' + cell.replace('"', '""') + '"' if cell != "{}" else cell


def withheld_cells(first: int, last: int, run_hash: str) -> list[str]:
    count = last - first + 1
    summary = f"{count} event{'s' if count != 1 else ''} withheld (outside this export)"
    cells = ["withheld", str(first), str(last), *[""] * 9, summary, "", "", "", "", run_hash]
    cells.append(verifier.row_checksum(cells))
    return cells


def csv_lines(record: Record, names: dict[str, Any]) -> Iterator[str]:
    """One line per chain row, as written.

    This runs once per event of a record that may hold hundreds of thousands, so it
    works on the database rows directly (Record.chain_rows), caches what is the same
    for many events (a request's, a kind's and an actor's cells, already quoted) and
    quotes only the cells that can need it. The cells are those of CSV_COLUMNS; the
    checksum is verifier.row_checksum over the cells unquoted.
    """
    canonical = chain.canonical_text
    neutralise = verifier.neutralise
    sha256 = hashlib.sha256
    local_text = record.local_text
    split_fields = record.split_fields
    requests, kinds, people = names["requests"], names["kinds"], names["people"]
    # Per request, kind and actor: (cells unquoted, joined by U+001F; the same quoted).
    request_cells: dict[int | None, tuple[str, str]] = {None: ("\x1f", ",")}
    kind_cells: dict[str, tuple[str, str]] = {}
    actor_cells: dict[int | None, tuple[str, str]] = {None: ("\x1f", ",")}

    def constant(*cells: str) -> tuple[str, str]:
        return "\x1f".join(cells), ",".join([quoted(cell) for cell in cells])

    for row in record.chain_rows():
        if len(row) == 3:
            yield csv_line(withheld_cells(*row))
            continue
        seq, request_id, kind, actor_id, occurred, recorded, payload, salt, prev, hsh = row
        values, salts, digests = split_fields(payload, salt)
        request = request_cells.get(request_id)
        if request is None:
            title = neutralise(requests.get(request_id, WITHHELD))
            request = request_cells[request_id] = constant(str(request_id), title)
        kind_pair = kind_cells.get(kind)
        if kind_pair is None:
            kind_pair = kind_cells[kind] = constant(kind, kinds.get(kind, kind))
        actor = actor_cells.get(actor_id)
        if actor is None:
            name = neutralise(people.get(str(actor_id), ""))
            actor = actor_cells[actor_id] = constant(str(actor_id), name)
        summary = neutralise(summarise(kind, values))
        values_cell = canonical(values)
        salts_cell = json_object(salts)
        withheld_cell = json_object(digests) if digests else "{}"
        number = str(seq)
        local = local_text(occurred)
        plain = (
            f"event\x1f{number}\x1f{number}\x1f{occurred}\x1f{local}\x1f{recorded}\x1f"
            f"{request[0]}\x1f{kind_pair[0]}\x1f{actor[0]}\x1f{summary}\x1f{values_cell}\x1f"
            f"{salts_cell}\x1f{withheld_cell}\x1f{prev}\x1f{hsh}\x1f"
        )
        yield (
            f"event,{number},{number},{occurred},{local},{recorded},{request[1]},"
            f"{kind_pair[1]},{actor[1]},{quoted(summary)},{quoted_json(values_cell)},"
            f"{quoted_json(salts_cell)},{quoted_json(withheld_cell)},{prev},{hsh},"
            f"{sha256(plain.encode()).hexdigest()}\r\n"
        )


def csv_chunks(record: Record, sealed: list[dict[str, Any]] | None = None) -> Iterator[bytes]:
    """The file in pieces of about 256 KB, the manifest row last."""
    names = record.names()
    digest = hashlib.sha256()
    pending = [csv_line(list(verifier.CSV_COLUMNS))]
    size = 0
    for line in csv_lines(record, names):
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
