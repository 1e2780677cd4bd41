"""The hash chain that makes an employee's timeline tamper-evident.

Each event's hash is SHA-256 over a canonical JSON document (sorted keys, compact,
UTF-8, timestamps in UTC ISO 8601) holding the event's header, the previous event's
hash and one salted digest per payload field. Keeping fields as separate digests lets
an export withhold a field (a witness's name, say) and still verify: the reader gets
the digest in place of the value. Salts are per field, derived from a per-event
secret that is never exported, so a withheld short value cannot be guessed back.

This module is pure: no database access, so the stand-alone verifier can reuse it.
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1


# One encoder for every call: json.dumps would build a new one each time, and exports
# and verification canonicalise hundreds of thousands of values.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_bytes(value: Any) -> bytes:
    # Most field values are strings, ints or null: encode those directly (the same
    # output as the encoder's, which takes the slow path for everything but str).
    kind = type(value)
    if kind is str:
        return encode_basestring(value).encode("utf-8")
    if kind is int:
        return int.__repr__(value).encode()
    if value is None:
        return b"null"
    return _CANONICAL.encode(value).encode("utf-8")


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def field_salt(event_salt: str, field: str) -> str:
    return hmac.digest(bytes.fromhex(event_salt), field.encode("utf-8"), "sha256").hex()


def field_salts(event_salt: str, fields) -> dict[str, str]:
    """field_salt for each of `fields`, decoding the event's salt once."""
    key = bytes.fromhex(event_salt)
    return {field: hmac.digest(key, field.encode("utf-8"), "sha256").hex() for field in fields}


def field_digest(salt: str, value: Any) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + canonical_bytes(value)).hexdigest()


def payload_digests(event_salt: str, payload: dict[str, Any]) -> dict[str, str]:
    salts = field_salts(event_salt, payload)
    return {field: field_digest(salts[field], value) for field, value in payload.items()}


def event_header(
    *,
    employee_id: int,
    seq: int,
    request_id: int | None,
    kind: str,
    actor_id: int | None,
    occurred_at: str,
    recorded_at: str,
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "v": CHAIN_VERSION,
        "employee": employee_id,
        "seq": seq,
        "request": request_id,
        "kind": kind,
        "actor": actor_id,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "prev_hash": prev_hash,
    }


def event_hash(header: dict[str, Any], digests: dict[str, str]) -> str:
    return hashlib.sha256(canonical_bytes({**header, "fields": digests})).hexdigest()
