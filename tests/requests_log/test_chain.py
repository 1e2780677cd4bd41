import hashlib
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from requests_log import chain

SALT_A = "aa" * 32
SALT_B = "bb" * 32


def make_header(**overrides):
    return chain.event_header(
        **{
            "employee_id": 7,
            "seq": 3,
            "request_id": 12,
            "kind": "logged",
            "actor_id": 7,
            "occurred_at": "2025-06-30T07:00:00.000000Z",
            "recorded_at": "2025-06-30T07:01:30.250000Z",
            "prev_hash": "ab" * 32,
            **overrides,
        }
    )


PAYLOAD = {"promoted_item": "The new line", "quantity": 3, "targets": [{"handle": "maya.makes"}]}


def test_canonical_bytes_sorts_keys_at_every_level_and_is_compact():
    value = {"b": 1, "a": {"z": [3, 1], "y": None}}

    encoded = chain.canonical_bytes(value)

    assert encoded == b'{"a":{"y":null,"z":[3,1]},"b":1}'


def test_canonical_bytes_keeps_utf8_unescaped():
    encoded = chain.canonical_bytes({"words": "Grüße, Zoë — “team player” 📣"})

    assert encoded == '{"words":"Grüße, Zoë — “team player” 📣"}'.encode()
    assert b"\\u" not in encoded


def test_canonical_bytes_refuses_nan():
    with pytest.raises(ValueError, match="not JSON compliant"):
        chain.canonical_bytes({"x": float("nan")})


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2025, 6, 30, 9, 0, 0, 5, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2025, 6, 30, 0, 0, 0, 5, tzinfo=ZoneInfo("America/Los_Angeles")),
        datetime(2025, 6, 30, 7, 0, 0, 5, tzinfo=UTC),
    ],
)
def test_utc_iso_converts_to_utc_with_z_and_microseconds(moment):
    assert chain.utc_iso(moment) == "2025-06-30T07:00:00.000005Z"


def test_utc_iso_same_instant_in_any_zone_gives_same_string():
    paris = datetime(2025, 1, 15, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
    tokyo = datetime(2025, 1, 15, 18, 30, tzinfo=ZoneInfo("Asia/Tokyo"))

    assert (chain.utc_iso(paris), chain.utc_iso(tokyo)) == (
        "2025-01-15T09:30:00.000000Z",
        "2025-01-15T09:30:00.000000Z",
    )


def test_field_digest_differs_per_event_salt():
    digest_a = chain.field_digest(chain.field_salt(SALT_A, "witnesses"), "Ana, Ben")
    digest_b = chain.field_digest(chain.field_salt(SALT_B, "witnesses"), "Ana, Ben")

    assert digest_a != digest_b


def test_field_digest_differs_per_field_under_one_event_salt():
    digests = chain.payload_digests(SALT_A, {"setting": "Ana", "witnesses": "Ana"})

    assert digests["setting"] != digests["witnesses"]


def test_field_digest_is_sha256_of_salt_and_canonical_value():
    salt = chain.field_salt(SALT_A, "quantity")

    digest = chain.field_digest(salt, {"n": 3, "a": "ü"})

    assert digest == hashlib.sha256(bytes.fromhex(salt) + '{"a":"ü","n":3}'.encode()).hexdigest()


def test_payload_digests_are_stable_for_same_salt_and_payload():
    assert chain.payload_digests(SALT_A, PAYLOAD) == chain.payload_digests(SALT_A, dict(PAYLOAD))


def test_event_hash_is_sha256_of_canonical_header_and_digests():
    header = make_header()
    digests = chain.payload_digests(SALT_A, PAYLOAD)

    expected = hashlib.sha256(
        json.dumps({**header, "fields": digests}, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()

    assert chain.event_hash(header, digests) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employee_id", 8),
        ("seq", 4),
        ("request_id", None),
        ("kind", "corrected"),
        ("actor_id", None),
        ("occurred_at", "2025-06-30T07:00:00.000001Z"),
        ("recorded_at", "2025-06-30T07:01:30.250001Z"),
        ("prev_hash", "ac" * 32),
    ],
)
def test_event_hash_changes_when_any_header_field_changes(field, value):
    digests = chain.payload_digests(SALT_A, PAYLOAD)
    original = chain.event_hash(make_header(), digests)

    changed = chain.event_hash(make_header(**{field: value}), digests)

    assert changed != original


@pytest.mark.parametrize(
    "payload",
    [
        {**PAYLOAD, "promoted_item": "The new line."},
        {**PAYLOAD, "quantity": 4},
        {**PAYLOAD, "targets": [{"handle": "maya.make"}]},
        {key: value for key, value in PAYLOAD.items() if key != "quantity"},
        {**PAYLOAD, "extra": ""},
    ],
    ids=["text", "number", "nested", "field-removed", "field-added"],
)
def test_event_hash_changes_when_any_payload_value_changes(payload):
    header = make_header()
    original = chain.event_hash(header, chain.payload_digests(SALT_A, PAYLOAD))

    changed = chain.event_hash(header, chain.payload_digests(SALT_A, payload))

    assert changed != original


def test_event_hash_changes_when_salt_changes():
    header = make_header()

    assert chain.event_hash(header, chain.payload_digests(SALT_A, PAYLOAD)) != chain.event_hash(
        header, chain.payload_digests(SALT_B, PAYLOAD)
    )
