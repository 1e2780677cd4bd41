"""The shortcuts the exports take on long records write exactly what the plain code does."""

import hmac
import json
import math
import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from requests_log import chain
from requests_log.exports.csvexport import json_object, quoted, quoted_json

from .conftest import record_for

VALUES = [
    "",
    "plain",
    'quote " backslash \\ newline \n tab \t',
    "é名\u2028\x00",
    0,
    -(10**30),
    None,
    True,
    False,
    1.5,
    -0.0,
    [],
    {},
    [1, "a", None, [True, {"b": 2, "a": [False]}]],
    {"z": 1, "a": {"y": [], "b": "é"}, "": None},
    {"changes": {"notes": {"old": "", "new": "Context."}}},
]


def reference(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


@pytest.mark.parametrize("value", VALUES)
def test_canonical_bytes_and_text_are_the_encoders_output(value):
    assert chain.canonical_bytes(value) == reference(value)
    assert chain.canonical_text(value).encode() == reference(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, {"a": [-math.inf]}])
def test_canonical_bytes_still_refuses_what_json_cannot_hold(value):
    with pytest.raises(ValueError, match="Out of range float values"):
        chain.canonical_bytes(value)


@pytest.mark.parametrize("key_bytes", [0, 1, 32, 63, 64, 65, 200])
def test_field_salts_are_hmac_sha256(key_bytes):
    event_salt = secrets.token_hex(key_bytes)
    fields = ["witnesses", "words_used", "é名", "", "x" * 300]
    expected = {
        name: hmac.digest(bytes.fromhex(event_salt), name.encode(), "sha256").hex()
        for name in fields
    }
    assert chain.field_salts(event_salt, fields) == expected
    assert {name: chain.field_salt(event_salt, name) for name in fields} == expected


@pytest.mark.parametrize(
    "names",
    [(), ("who",), ("who", "what_was_said", "é名"), ("a b", "%s", 'x"y', "\\", "\n", "%%d")],
)
def test_json_object_is_compact_json(names):
    for _ in range(2):  # the second time from the kept template
        pairs = {name: secrets.token_hex(32) for name in names}
        text = json_object(pairs)
        assert text == json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
        assert quoted_json(text) == quoted(text)


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Kathmandu", "America/St_Johns", "UTC"])
def test_local_text_is_local_time(maya, zone):
    maya.time_zone = zone
    record = record_for(maya)
    moment = datetime(2025, 1, 1, 0, 59, 30, 123456, tzinfo=UTC)
    for step in range(400):  # across both clock changes of 2025, at odd minutes
        moment += timedelta(hours=22, minutes=7 * step % 60)
        shown = record.local_text(chain.utc_iso(moment))
        assert shown == moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
