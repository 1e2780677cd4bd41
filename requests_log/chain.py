"""The hash chain that makes an employee's timeline tamper-evident.

Each event's hash is SHA-256 over a canonical JSON document (sorted keys, compact,
UTF-8, timestamps in UTC ISO 8601) holding the event's header, the previous event's
hash and one salted digest per payload field. Keeping fields as separate digests lets
an export withhold a field (a witness's name, say) and still verify: the reader gets
the digest in place of the value. Salts are per field, derived from a per-event
secret that is never exported, so a withheld short value cannot be guessed back.

It also says what a chain means (Replay): the record an export shows, folded from its
events, which a reader's verifier folds again to check what it is shown.

This module is pure: no database access, so the stand-alone verifier can reuse it.
"""

import hashlib
import hmac
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

try:
    from requests_log import flags
except ImportError:  # stand-alone: flags.py sits beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import flags  # type: ignore[no-redef, import-not-found]

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1


# One encoder for every call: json.dumps would build a new one each time, and exports
# and verification canonicalise hundreds of thousands of values.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# What _CANONICAL.encode runs, made once: encode() builds this C encoder afresh on every
# call, which costs a fifth of the time on a small dict. Without the circular-reference
# check (markers=None): values come from JSON, which cannot hold a cycle (a cycle would
# end in RecursionError rather than ValueError).
_ENCODE = (
    c_make_encoder(None, _CANONICAL.default, encode_basestring, None, ":", ",", True, False, False)
    if c_make_encoder is not None
    else None
)


def _encode(value: Any) -> str:
    if _ENCODE is None:  # pragma: no cover - CPython always has the C encoder
        return _CANONICAL.encode(value)
    return "".join(_ENCODE(value, 0))


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
    if kind is bool:
        return b"true" if value else b"false"
    return _encode(value).encode("utf-8")


def canonical_text(value: Any) -> str:
    """canonical_bytes as text, for writers that embed it in a larger string."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return _encode(value)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def field_salt(event_salt: str, field: str) -> str:
    return hmac.digest(bytes.fromhex(event_salt), field.encode("utf-8"), "sha256").hex()


_SHA256 = hashlib.sha256
_IPAD = bytes.maketrans(bytes(range(256)), bytes(x ^ 0x36 for x in range(256)))
_OPAD = bytes.maketrans(bytes(range(256)), bytes(x ^ 0x5C for x in range(256)))


def field_salts(event_salt: str, fields) -> dict[str, str]:
    """field_salt for each of `fields`: HMAC-SHA256 (RFC 2104) spelled out, so the
    event's key is padded and absorbed once for all its fields rather than once each
    (the same bytes as hmac.digest, about twice as fast on a long export)."""
    key = bytes.fromhex(event_salt)
    if len(key) > 64:
        key = _SHA256(key).digest()
    key = key.ljust(64, b"\0")
    inner, outer = _SHA256(key.translate(_IPAD)), _SHA256(key.translate(_OPAD))
    salts = {}
    for name in fields:
        digest = inner.copy()
        digest.update(name.encode("utf-8"))
        mac = outer.copy()
        mac.update(digest.digest())
        salts[name] = mac.hexdigest()
    return salts


def field_digest(salt: str, value: Any) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + canonical_bytes(value)).hexdigest()


# Values that hold nothing: exports show them even where they withhold the field, and
# erasing one changes nothing.
EMPTY_VALUES: tuple[Any, ...] = ("", None, [], {})
# A value erased when its owner closed her account (requests_log.closing) is stored as
# {ERASED: the digest of the value it was}: the event's hash still holds, the value is gone.
ERASED = "$erased"


def erased_value(salt: str, value: Any) -> dict[str, str]:
    """What an erased field stores in place of `value`."""
    return {ERASED: field_digest(salt, value)}


def erased_digest(value: Any) -> str | None:
    """The digest an erased field keeps; None for a value that was not erased."""
    if type(value) is dict and len(value) == 1 and ERASED in value:
        return value[ERASED]
    return None


def erased_as_withheld(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as Replay folds it: each erased value reads WITHHELD."""
    if not any(erased_digest(value) is not None for value in payload.values()):
        return payload
    return {
        name: WITHHELD if erased_digest(value) is not None else value
        for name, value in payload.items()
    }


def field_digests(salts: dict[str, str], payload: dict[str, Any]) -> dict[str, str]:
    return {
        field: erased_digest(value) or field_digest(salts[field], value)
        for field, value in payload.items()
    }


def payload_digests(event_salt: str, payload: dict[str, Any]) -> dict[str, str]:
    return field_digests(field_salts(event_salt, payload), payload)


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


# --- Checking a chain, entry by entry (exports and the stand-alone verifier) ----------------

HEX64 = re.compile(r"[0-9a-f]{64}")
HEADER_KEYS = frozenset(
    event_header(
        employee_id=0,
        seq=0,
        request_id=None,
        kind="",
        actor_id=None,
        occurred_at="",
        recorded_at="",
        prev_hash="",
    )
)
# Kinds whose content a later check needs: exports vouch for earlier ones, evidence files
# must be ones the record describes.
NOTED_KINDS = frozenset({"exported", "evidence_added"})
SHA256 = hashlib.sha256
FROM_HEX = bytes.fromhex
CANONICAL = canonical_bytes
EVENT_HASH = event_hash


class Broken(Exception):
    """An entry does not hold together: `reason` in words, `where` the event it names."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where


@dataclass
class ChainSummary:
    events: int = 0
    shown: int = 0
    withheld: int = 0
    fields_withheld: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    # The hash at each sequence number asked about (an earlier export's head, receipts'),
    # where this record shows it.
    probe_hashes: dict[int, str] = field(default_factory=dict)
    exports_logged: list[dict[str, Any]] = field(default_factory=list)
    evidence_sha256: set[str] = field(default_factory=set)


class ChainWalker:
    """Feeds on entries in order; raises `Broken` at the first one that fails."""

    def __init__(
        self,
        manifest: dict[str, Any],
        probes: Iterable[int] = (),
        replay: "Replay | None" = None,
    ) -> None:
        self.replay = replay  # fed each shown event's values, if given
        try:
            self.employee_id = manifest["employee"]["id"]
            self.expected = manifest["chain"]
        except (KeyError, TypeError) as error:
            raise Broken("the manifest does not describe the chain", "seal") from error
        self.probes = frozenset(probes)
        self.summary = ChainSummary()
        self.next_seq = 1
        self.prev_hash = GENESIS_HASH

    def add(self, entry: Any) -> None:
        try:
            if "withheld" in entry:
                self._add_withheld(entry)
            else:
                self._add_event(entry)
        except Broken:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise Broken(
                f"the entry after #{self.next_seq - 1} is malformed", f"event #{self.next_seq}"
            ) from error

    def _check_seq(self, seq: Any) -> None:
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise Broken(f"the entry after #{self.next_seq - 1} has no sequence number")
        if seq > self.next_seq:
            raise Broken(
                f"event #{self.next_seq} is missing (event #{seq} comes where it should be)",
                f"event #{self.next_seq}",
            )
        if seq < self.next_seq:
            raise Broken(
                f"event #{seq} appears again or out of order after #{self.next_seq - 1}",
                f"event #{seq}",
            )

    def _add_withheld(self, entry: dict[str, Any]) -> None:
        run = entry["withheld"]
        first, last, run_hash = run["from"], run["to"], entry["hash"]
        self._check_seq(first)
        if not isinstance(last, int) or last < first or not HEX64.fullmatch(run_hash):
            raise Broken(f"the withheld run from #{first} is malformed", f"event #{first}")
        if last in self.probes:
            self.summary.probe_hashes[last] = run_hash
        self.summary.withheld += last - first + 1
        self.next_seq = last + 1
        self.prev_hash = run_hash

    def _add_event(self, entry: dict[str, Any]) -> None:
        # Runs once per event of files that hold hundreds of thousands: the field digests
        # are field_digest inlined, and messages are built only on failure.
        header, fields, event_hash = entry["event"], entry["fields"], entry["hash"]
        seq = header["seq"]
        if seq != self.next_seq:
            self._check_seq(seq)
        if header.keys() != HEADER_KEYS or header["employee"] != self.employee_id:
            raise Broken(f"event #{seq}'s header was changed", f"event #{seq}")
        if header["prev_hash"] != self.prev_hash:
            raise Broken(f"event #{seq} does not link to the event before it", f"event #{seq}")
        digests = {}
        withheld = 0
        for name, value in fields.items():
            if "digest" in value:
                digests[name] = value["digest"]
                withheld += 1
            else:
                digests[name] = SHA256(
                    FROM_HEX(value["salt"]) + CANONICAL(value["value"])
                ).hexdigest()
        if EVENT_HASH(header, digests) != event_hash:
            raise Broken(
                f"event #{seq}'s content does not match its hash: it was changed", f"event #{seq}"
            )
        summary = self.summary
        if withheld:
            summary.fields_withheld += withheld
        if self.probes:
            if seq in self.probes:
                summary.probe_hashes[seq] = event_hash
            if seq - 1 in self.probes:
                summary.probe_hashes[seq - 1] = header["prev_hash"]
        kind = header["kind"]
        if kind in NOTED_KINDS:
            self._note(kind, seq, fields)
        summary.shown += 1
        if self.replay is not None:
            self.replay.add_entry(entry)
        self.next_seq = seq + 1
        self.prev_hash = event_hash

    def _note(self, kind: str, seq: int, fields: dict[str, Any]) -> None:
        payload = {name: value["value"] for name, value in fields.items() if "value" in value}
        if kind == "exported" and "head_seq" in payload and "head_hash" in payload:
            self.summary.exports_logged.append({"seq": seq, **payload})
        if kind == "evidence_added" and isinstance(payload.get("sha256"), str):
            self.summary.evidence_sha256.add(payload["sha256"])

    def finish(self) -> ChainSummary:
        expected = self.expected
        head_seq = self.next_seq - 1
        if head_seq < expected.get("head_seq", -1):
            raise Broken(
                f"the record ends at event #{head_seq} but the manifest says "
                f"#{expected.get('head_seq')}: events are missing from the end",
                f"event #{head_seq + 1}",
            )
        if head_seq != expected.get("head_seq") or self.prev_hash != expected.get("head_hash"):
            raise Broken("the chain does not end at the signed head", f"event #{head_seq}")
        summary = self.summary
        summary.events, summary.head_seq, summary.head_hash = head_seq, head_seq, self.prev_hash
        counts = (summary.shown, summary.withheld, summary.fields_withheld)
        signed = (expected.get("shown"), expected.get("withheld"), expected.get("fields_withheld"))
        if counts != signed:
            raise Broken("the numbers of shown and withheld events differ from the manifest")
        return summary


# --- What a chain says: the record replayed from its events -----------------------------------
# Exports print this, not the tables (which anyone with the database could edit), and the
# verifier repeats it over an export's entries: see docs/exports.md, "What an export shows".

WITHHELD = "[withheld]"
REQUEST_FIELDS = (
    "number",
    "requester_name",
    "requester_title",
    "requester_user",
    "occurred_at",
    "channel",
    "setting",
    "words_used",
    "promoted_item",
    "content_format",
    "quantity",
    "deadline",
    "framing",
    "compensation_offered",
    "witnesses",
    "notes",
    "source",
    "disclosure_terms",
)
# What a request field reads when its logging event predates the field (requests logged
# before managers could file them carry no disclosure terms).
REQUEST_FIELD_DEFAULTS: dict[str, Any] = {"disclosure_terms": ""}
# Filed in Boundary: what the filing manager was shown, as the FILED event records it.
FILED_FIELDS = ("no_penalty_notice_shown",)
DECISION_FIELDS = (
    "pay",
    "disclosure_required",
    "content_approval_required",
    "ends_on",
    "accounts",
    "details",
    "details_in_reply",
    "message_to_requester",
)
DISCLOSURE_PROOF_FIELDS = ("proof", "decision", "account", "post_url", "evidence", "sha256")
STATUS_AFTER = {"accept": "accepted", "decline": "declined", "counter": "negotiating"}
ACCOUNT_KINDS = frozenset({"account_linked", "account_changed"})
# Shares with HR and stops: each names the requests it covers (payload "requests").
SHARING_KINDS = frozenset({"shared_with_hr", "sharing_withdrawn"})


def requester_key(requester_user: int | None, requester_name: object) -> str:
    """Who asked, normalised, so that "asked again" matches across requests: the user
    picked in Boundary, else the name, ignoring case and spacing."""
    if requester_user is not None:
        return f"user:{requester_user}"
    return "name:" + " ".join(str(requester_name).casefold().split())


def _listed(value: Any) -> list[Any]:
    """A list field as Replay folds it: a withheld one (erased, as its handles were) is
    an empty list."""
    return value if isinstance(value, list) else []


class Replay:
    """Folds an employee's events, in chain order, into what they say: each request's
    details (as last corrected), status, decisions, follow-ups, evidence and replies;
    each account's declared boundary and since when; and the people who acted, named
    as they were. Fields an export withholds read WITHHELD. Feed it with add()."""

    def __init__(self) -> None:
        self.requests: dict[int, dict[str, Any]] = {}
        self.accounts: dict[int, dict[str, Any]] = {}
        self.people: dict[int, str] = {}

    def add_entry(self, entry: dict[str, Any]) -> None:
        """An export's entry: its shown values, and WITHHELD for each withheld field."""
        if "event" not in entry:
            return  # a withheld run
        values = {name: item.get("value", WITHHELD) for name, item in entry["fields"].items()}
        self.add(entry["event"], values)

    def add(self, header: dict[str, Any], values: dict[str, Any]) -> None:
        """One event (its header, and its payload's values, withheld ones as WITHHELD)."""
        actor, name = header.get("actor"), values.get("actor_name")
        if actor is not None and isinstance(name, str):
            self.people[actor] = name
        kind, request_id = header["kind"], header.get("request")
        if kind in ("logged", "filed") and request_id is not None:
            self.requests[request_id] = self._logged(header, values)
            return
        if kind in ACCOUNT_KINDS or kind == "account_removed":
            self._account(kind, header, values)
            return
        if kind in SHARING_KINDS:
            self._sharing(kind, header, values)
            return
        item = self.requests.get(request_id) if request_id is not None else None
        if item is None:
            return  # an event of a request this export does not show
        when = header["occurred_at"]
        if kind == "corrected":
            self._corrected(item, values)
        elif kind == "decision":
            decision = {
                "decision": values.get("decision"),
                "kind": values.get("kind"),
                "decided_at": when,
                "revises": values.get("revises", False),
                "decline_reasons": values.get("decline_reasons")
                or ([values["decline_reason"]] if values.get("decline_reason") else []),
                **{name: values.get(name) for name in DECISION_FIELDS},
                "seen_by_requester_at": None,
                "acknowledged_at": None,
            }
            item["decisions"].append(decision)
            item["status"] = STATUS_AFTER.get(decision["kind"], item["status"])
        elif kind == "withdrawn":
            item["status"] = "withdrawn"
            item["withdrawn"] = {"at": when, "note": values.get("note")}
        elif kind == "follow_up":
            item["follow_ups"].append(
                {
                    "follow_up": values.get("follow_up"),
                    "occurred_at": when,
                    "kind": values.get("kind"),
                    "who": values.get("who"),
                    "what_was_said": values.get("what_was_said"),
                    "quoted": values.get("quoted", True),
                    "witnesses": values.get("witnesses"),
                }
            )
        elif kind == "evidence_added":
            item["evidence"].append(
                {
                    name: values.get(name)
                    for name in ("evidence", "follow_up", "name", "content_type", "size", "sha256")
                }
            )
        elif kind == "reply_sent":
            item["replies"].append(
                {
                    "decision": values.get("decision"),
                    "sent_at": when,
                    "reply": values.get("reply"),
                }
            )
        elif kind == "disclosure_proof_added":
            # Her proof that a post disclosed the connection, per accepted account.
            item["disclosure_proofs"].append(
                {
                    **{name: values.get(name) for name in DISCLOSURE_PROOF_FIELDS},
                    "recorded_at": when,
                }
            )
        elif kind == "viewed_by_hr":
            item["hr_views"].append({"by": values.get("actor_name"), "at": when})
        elif kind in ("seen_by_requester", "acknowledged"):
            # Proof the answer arrived: the requester opened it in Boundary, or confirmed
            # an acknowledgement link from the written reply. Once per answer counts.
            self._delivered(item, kind, values.get("decision"), when)

    @staticmethod
    def _delivered(item: dict[str, Any], kind: str, decision_id: Any, when: str) -> None:
        field_name = "seen_by_requester_at" if kind == "seen_by_requester" else "acknowledged_at"
        for decision in item["decisions"]:
            if decision["decision"] == decision_id and decision.get(field_name) is None:
                decision[field_name] = when
        item["deliveries"].append({"kind": kind, "decision": decision_id, "at": when})

    def _logged(self, header: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        item = {name: values.get(name, REQUEST_FIELD_DEFAULTS.get(name)) for name in REQUEST_FIELDS}
        item.update({name: values.get(name) for name in FILED_FIELDS})
        item.update(
            id=header["request"],
            employee=header["employee"],
            title=item["promoted_item"],
            requester_key=requester_key(item["requester_user"], item["requester_name"]),
            targets=_listed(values.get("targets", [])),
            status="pending",
            decisions=[],
            follow_ups=[],
            evidence=[],
            replies=[],
            deliveries=[],
            disclosure_proofs=[],
            withdrawn=None,
            shared_with_hr_at=None,
            sharing=[],
            hr_views=[],
            incomplete=False,
        )
        return item

    def _sharing(self, kind: str, header: dict[str, Any], values: dict[str, Any]) -> None:
        """A share or a stop names its requests (one, or all she logged): each is shared
        from the first share until a stop, and `sharing` keeps the dated windows."""
        requests = values.get("requests")
        if not isinstance(requests, list):
            return  # withheld: the export does not say which requests it covered
        when = header["occurred_at"]
        for request_id in requests:
            item = self.requests.get(request_id)
            if item is None:
                continue
            if kind == "shared_with_hr":
                if item["shared_with_hr_at"] is None:
                    item["shared_with_hr_at"] = when
                    item["sharing"].append({"from_seq": header["seq"], "from": when, "to": None})
            elif item["shared_with_hr_at"] is not None:
                item["shared_with_hr_at"] = None
                item["sharing"][-1].update(to=when, to_seq=header["seq"])

    def _corrected(self, item: dict[str, Any], values: dict[str, Any]) -> None:
        changes = values.get("changes")
        if not isinstance(changes, dict):
            item["incomplete"] = True  # a withheld correction: some details may predate it
            return
        for name, change in changes.items():
            if name in REQUEST_FIELDS and isinstance(change, dict):
                item[name] = change.get("new")
        item["title"] = item["promoted_item"]
        # A correction may change the name typed or the person picked (requester_user).
        item["requester_key"] = requester_key(item["requester_user"], item["requester_name"])

    def _account(self, kind: str, header: dict[str, Any], values: dict[str, Any]) -> None:
        account_id = values.get("account")
        if account_id is None:
            return
        known = self.accounts.get(account_id)
        if kind == "account_removed":
            if known is not None:
                known["removed_at"] = header["occurred_at"]
            return
        declared = {name: value for name, value in values.items() if name != "actor_name"}
        history = [*known["history"]] if known is not None else []
        history.append({"at": header["occurred_at"], "boundary": declared.get("boundary")})
        self.accounts[account_id] = {
            **declared,
            "declared_at": header["occurred_at"],
            "history": history,
            "removed_at": None,
        }

    def declarations(self) -> dict[int, list[dict[str, Any]]]:
        """Each account's dated boundary declarations, as flags.as_declared reads them."""
        return {account: item["history"] for account, item in self.accounts.items()}

    def facts(self) -> list[dict[str, Any]]:
        """Each request's facts as flags.py reads them, in the order they were asked, each
        target with the boundary in force when it was asked."""
        declarations = self.declarations()
        ordered = sorted(self.requests.values(), key=lambda item: (item["occurred_at"], item["id"]))
        return [
            {
                **item,
                "targets": flags.as_declared(item["targets"], declarations, item["occurred_at"]),
            }
            for item in ordered
        ]

    def flags(self) -> dict[int, "flags.RequestFlags"]:
        """Each request's flags, from what these events say (and only from that)."""
        facts = self.facts()
        declines = flags.Declines.from_facts(facts)
        return {item["id"]: flags.request_flags(item, declines=declines) for item in facts}

    def context(self) -> dict[str, Any]:
        """What an export shows beside its events, all of it folded from them: the people
        who acted, the accounts as declared, and each request's details, status, flags
        (flags.py, over what the export shows), decisions and evidence. record.json
        carries it; a verifier computes it again from the entries and compares."""
        facts = self.facts()
        flagged = self.flags()
        shown = {item["id"] for item in facts}
        return {
            "people": {str(actor): name for actor, name in sorted(self.people.items())},
            "accounts": {
                str(account): {
                    "platform": item.get("platform"),
                    "handle": item.get("handle"),
                    "boundary": item.get("boundary"),
                    "declared_at": item["declared_at"],
                    "removed_at": item["removed_at"],
                }
                for account, item in sorted(self.accounts.items())
            },
            "requests": [
                {
                    "id": item["id"],
                    "number": item["number"],
                    "title": item["title"],
                    "requester": item["requester_name"],
                    "requester_title": item["requester_title"],
                    "occurred_at": item["occurred_at"],
                    "status": item["status"],
                    "framing": item["framing"],
                    "targets": item["targets"],
                    "flags": flagged[item["id"]].texts(shown),
                    "decisions": [
                        {
                            "kind": decision["kind"],
                            "decided_at": decision["decided_at"],
                            "decline_reasons": decision["decline_reasons"],
                        }
                        for decision in item["decisions"]
                    ],
                    "evidence": item["evidence"],
                    "incomplete": item["incomplete"],
                }
                for item in facts
            ],
        }
