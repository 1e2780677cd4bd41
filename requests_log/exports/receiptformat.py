"""A receipt's text: a signed checkpoint of an employee's chain (docs/receipts.md).

A receipt is a C2SP signed note (https://c2sp.org/signed-note) whose text is a checkpoint
in the manner of https://c2sp.org/tlog-checkpoint: an origin line, the chain's length
(its head's sequence number), its head hash in base64, and one extension line with the
time it was issued. RFC 3161 timestamps of the note's text follow the note, PEM-armoured.
An export's manifest carries such receipts as its timestamped checkpoints.

Pure and stand-alone (Python 3.11+ alone): Boundary writes receipts with it (receipts.py,
signing.py, record.py) and the verifier reads them with it (verifier.py), so what is
issued and what is checked can never drift apart.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

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
