"""The shortcuts the exports take on long records write exactly what the plain code does."""

import hmac
import json
import math
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import DateTimeField, Value

from boundary.models import User
from requests_log import chain
from requests_log.exports.csvexport import json_text, quoted, quoted_json
from requests_log.exports.record import UtcIso

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
    "pairs",
    [{}, {"who": "Tom"}, {"a b": "x", "%s": 'x"y', "\\": "\n", "é名": [1, {"k": None}]}],
)
def test_quoted_json_quotes_as_rfc_4180_does(pairs):
    for text in (json_text(pairs), json.dumps(pairs, separators=(",", ":"))):
        assert quoted_json(text) == quoted(text)


MOMENTS = [
    datetime(2026, 3, 29, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 5, 7, 10, tzinfo=UTC),
    datetime(2025, 10, 26, 2, 30, 0, 500000, tzinfo=ZoneInfo("Europe/Berlin")),
]


@pytest.mark.django_db
@pytest.mark.parametrize("moment", MOMENTS)
def test_utc_iso_in_postgresql_is_chain_utc_iso(maya, moment):
    shown = (
        User.objects.filter(pk=maya.pk)
        .annotate(text=UtcIso(Value(moment, output_field=DateTimeField())))
        .values_list("text", flat=True)
        .get()
    )
    assert shown == chain.utc_iso(moment)


@pytest.mark.parametrize("moment", MOMENTS)
def test_utc_iso_in_sqlite_is_chain_utc_iso(moment):
    # As Django's SQLite backend stores an aware datetime: naive UTC, str().
    stored = str(moment.astimezone(UTC).replace(tzinfo=None))
    database = sqlite3.connect(":memory:")
    database.execute("CREATE TABLE t (moment TEXT)")
    database.execute("INSERT INTO t VALUES (?)", (stored,))
    sql = "SELECT " + UtcIso.sqlite_template % {"expressions": "moment"} + " FROM t"
    (shown,) = database.execute(sql).fetchone()
    assert shown == chain.utc_iso(moment)


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Kathmandu", "America/St_Johns", "UTC"])
def test_local_text_is_local_time(maya, zone):
    maya.time_zone = zone
    record = record_for(maya)
    moment = datetime(2025, 1, 1, 0, 59, 30, 123456, tzinfo=UTC)
    for step in range(400):  # across both clock changes of 2025, at odd minutes
        moment += timedelta(hours=22, minutes=7 * step % 60)
        shown = record.local_text(chain.utc_iso(moment))
        assert shown == moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
