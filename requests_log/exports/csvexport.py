"""record.csv: one row per event (or withheld run), for sorting in a spreadsheet.

The columns are fileformat.CSV_COLUMNS, documented in docs/exports.md. Cells that a
spreadsheet would run as a formula are prefixed with ' (fileformat.neutralise).
"""

import hashlib
import itertools
import json
from collections.abc import Iterator
from typing import Any

from . import fileformat
from .record import WITHHELD, Record, sealed_chunks, summarise

quoted = fileformat.quoted
csv_line = fileformat.csv_line


def quoted_json(cell: str) -> str:
    """quoted() of a JSON object: any but {} holds a quoted name, so it is quoted."""
    return '"' + cell.replace('"', '""') + '"' if cell != "{}" else cell


def json_text(value: dict[str, Any]) -> str:
    """A JSON object spelled as PostgreSQL spells the payloads the other rows copy."""
    return json.dumps(value, ensure_ascii=False)


def withheld_cells(first: int, last: int, run_hash: str) -> list[str]:
    count = last - first + 1
    summary = f"{count} event{'s' if count != 1 else ''} withheld (outside this export)"
    cells = ["withheld", str(first), str(last), *[""] * 9, summary, "", "", "", "", run_hash]
    cells.append(fileformat.row_checksum(cells))
    return cells


def csv_lines(record: Record, names: dict[str, Any]) -> Iterator[bytes]:
    """One line per chain row, as written (UTF-8).

    This runs once per event of a record that may hold hundreds of thousands, so it
    works on the database rows directly (Record.chain_rows), copies the payload and
    its stored field salts into the values and salts cells as the database holds them
    (re-spelling only the events a redaction touches), caches what is the same for many
    events (a request's, a kind's and an actor's cells, already quoted) and quotes only
    the cells that can need it. The cells are those of CSV_COLUMNS; the checksum is
    fileformat.row_checksum, over the line's bytes before it.
    """
    decode = json.JSONDecoder().raw_decode  # the database's own JSON: no need to re-check
    neutralise = fileformat.neutralise
    sha256 = hashlib.sha256
    local_text = record.local_text
    hides_any = record.hides_any
    requests, kinds, people = names["requests"], names["kinds"], names["people"]
    flags = names["flags"]
    # Per request, kind and actor: the two cells, quoted, with the comma between.
    request_cells: dict[int | None, str] = {None: ","}
    kind_cells: dict[str, str] = {}
    actor_cells: dict[int | None, str] = {None: ","}

    for row in record.chain_rows():
        if len(row) == 3:
            yield csv_line(withheld_cells(*row))
            continue
        seq, request_id, kind, actor_id, occurred, recorded, values_cell, salts_cell, prev, hsh = (
            row
        )
        values = decode(values_cell)[0]
        withheld_cell = "{}"
        if hides_any(values):
            values, salts, digests = record.split_fields(values, decode(salts_cell)[0])
            values_cell, salts_cell, withheld_cell = (
                json_text(values),
                json_text(salts),
                json_text(digests),
            )
        request = request_cells.get(request_id)
        if request is None:
            # Bandit B113 waived: `requests` is a dict of titles here, not the HTTP library.
            title = quoted(neutralise(requests.get(request_id, WITHHELD)))  # nosec B113
            request = request_cells[request_id] = f"{request_id},{title}"
        kind_pair = kind_cells.get(kind)
        if kind_pair is None:
            kind_pair = kind_cells[kind] = f"{quoted(kind)},{quoted(kinds.get(kind, kind))}"
        actor = actor_cells.get(actor_id)
        if actor is None:
            name = quoted(neutralise(people.get(str(actor_id), "")))
            actor = actor_cells[actor_id] = f"{actor_id},{name}"
        summary = neutralise(summarise(kind, values, flags.get(request_id), flags))
        line = (
            f"event,{seq},{seq},{occurred},{local_text(occurred)},{recorded},{request},"
            f"{kind_pair},{actor},{quoted(summary)},{quoted_json(values_cell)},"
            f"{quoted_json(salts_cell)},{quoted_json(withheld_cell)},{prev},{hsh},"
        ).encode()
        yield line + sha256(line).hexdigest().encode() + b"\r\n"


def csv_chunks(
    record: Record, sealed: list[dict[str, Any]] | None = None, digest: Any = None
) -> Iterator[bytes]:
    """record.csv in pieces (record.sealed_chunks), the manifest row last."""
    header = fileformat.CSV_BOM + csv_line(list(fileformat.CSV_COLUMNS))
    lines = itertools.chain([header], csv_lines(record, record.names()))
    return sealed_chunks(record, "csv", lines, manifest_row, sealed, digest)


def manifest_row(seal: dict[str, Any]) -> bytes:
    return fileformat.csv_manifest_row(seal)
