"""Build the benchmark's data set once, as a PostgreSQL template database.

    .venv/bin/python scripts/bench/dataset.py [--force]      (or: make bench-data)

Builds BENCH_TEMPLATE_DATABASE (default boundary_bench_template): 20,000 people in 40
departments (two managers each, five HR people), 60,000 social accounts with dated
boundary declarations, 400,000 promotion requests (logged by employees, filed by their
managers, shared with HR), decisions, follow-ups, HR reads, 1,000,000 reminders, about
4,000,000 timeline events in valid hash chains with the checkpoints the app signs, and
three heavy employees with 2,000 requests each (285 pending) and one request with a
200-event timeline. Everyone's password is PASSWORD.

How: `migrate` a scratch database (BENCH_SCRATCH_DATABASE, default boundary_bench_gen),
then WORKERS processes each take groups of employees, lay out each one's history in
Python (the rows and the events, with the app's own chain functions: every table row is
what the events say, so verify_chain finds no drift) and stream the rows with COPY. Ids
are computed, not drawn, so the workers never coordinate. Then the indexes are rebuilt,
a sample of chains is verified with verify_chain, the database is analysed and renamed
to the template name: an interrupted run never leaves a half template. A rerun does
nothing if the template's bench_meta row has GENERATOR_VERSION (bump it when this file
changes what it builds); --force rebuilds.

Writes the cast (who to sign in as) to var/bench/cast.json and to the template's
bench_cast table (one jsonb row), so a clone made with `CREATE DATABASE x TEMPLATE
<template>` carries it: "password"; "users": "typical_employee", "heavy_employees" (a
list), "long_timeline_owner", "manager" (with "reports"), "hr" (with "totp_key_hex" and
"otp_device_persistent_id"), "hr_people", each {"email", "id", ...}; "requests":
"long_timeline" and "filed_by_manager", each {"id", "employee_id", ...}; "search_word";
"load_test": {"employees": [200 emails], "managers": [emails]}.
"""

# Generated data in a throw-away database: SQL is built from model metadata and the
# constants below, never from input; the password is a published benchmark login.
# ruff: noqa: S608, S105, S311

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import django
import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
TEMPLATE_DATABASE = os.environ.get("BENCH_TEMPLATE_DATABASE", "boundary_bench_template")
SCRATCH_DATABASE = os.environ.get("BENCH_SCRATCH_DATABASE", "boundary_bench_gen")
# Django runs against the scratch database: migrate, the models' metadata, verify_chain.
os.environ["DATABASE_URL"] = f"{SERVER_URL}/{SCRATCH_DATABASE}"
os.environ["DATABASE_CONN_MAX_AGE"] = "0"
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boundary.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Checkpoints are signed with the key `make bench` serves with (scripts/bench/config.py).
os.environ.setdefault(
    "BOUNDARY_SIGNING_KEY", str(ROOT / "var" / "bench" / "keys" / "export-signing-key.pem")
)
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from boundary.models import SocialAccount, User  # noqa: E402
from requests_log import chain  # noqa: E402
from requests_log.exports import receiptformat  # noqa: E402
from requests_log.exports.receipts import instance_host  # noqa: E402
from requests_log.exports.signing import signing_key  # noqa: E402
from requests_log.models import (  # noqa: E402
    Checkpoint,
    Decision,
    FollowUp,
    HrView,
    Notification,
    PromotionRequest,
    Reminder,
    RequestTarget,
    TimelineEvent,
)
from requests_log.models.receipts import ReceiptSchedule  # noqa: E402
from requests_log.timeline import verify_chain  # noqa: E402

CAST_FILE = ROOT / "var" / "bench" / "cast.json"
GENERATOR_VERSION = 2

PASSWORD = "bench-password"
SEED = 14
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
EMPLOYEES_PER_BATCH = 150

PEOPLE = 20_000  # everyone, managers and HR included
DEPARTMENTS = 40
MANAGERS_PER_DEPARTMENT = 2
HR_PEOPLE = 5
ACCOUNTS_PER_PERSON = 3
REQUESTS = 400_000
HEAVY_EMPLOYEES = 3
HEAVY_REQUESTS = 2_000
HEAVY_PENDING = 285
LONG_TIMELINE_EVENTS = 200
LOAD_TEST_EMPLOYEES = 200

# What happens to requests (probabilities), tuned so the chains hold about 4,000,000 events.
PENDING_SHARE = HEAVY_PENDING / HEAVY_REQUESTS
FILED_SHARE = 0.12
DEADLINE_SHARE = 0.25
SHARED_SHARE = 0.35  # of those she logged herself
SHARE_STOPPED_SHARE = 0.08
REVISED_SHARE = 0.15
REPLY_SENT_SHARE = 0.5
SEEN_BY_REQUESTER_SHARE = 0.7
FOLLOW_UP_SHARE = 0.6
CORRECTED_SHARE = 0.1
HR_READS_MEAN = 7  # per request HR may see
ACCOUNT_CHANGES_MAX = 4
CHECKPOINT_EVERY = 20  # events; each employee also has a checkpoint of her head
REMINDER_CANCELLED_SHARE = 0.03

HISTORY_DAYS = 730
PENDING_DAYS = 60
# Reminders about a pending decision: the app's no-decision repeats, roughly.
REMINDER_GAP = timedelta(days=2)

FIRST_MANAGER = HR_PEOPLE + 1
FIRST_EMPLOYEE = FIRST_MANAGER + DEPARTMENTS * MANAGERS_PER_DEPARTMENT
HEAVY_IDS = tuple(range(FIRST_EMPLOYEE, FIRST_EMPLOYEE + HEAVY_EMPLOYEES))
LONG_TIMELINE_OWNER = FIRST_EMPLOYEE + 64
# Sparse ids, computed from the request's id, so workers need no shared counter.
DECISIONS_PER_REQUEST = 4
FOLLOW_UPS_PER_REQUEST = 8
REMINDERS_PER_REQUEST = 4
HR_READS_PER_REQUEST = 128
EVENTS_PER_EMPLOYEE = 1_000_000

REQUESTER_NAMES = ("Chris Doyle", "Sam Lee", "Ana Ruiz", "Priya Shah", "Tom Becker", "Lena Vogt")
SEARCH_WORD = "launch"  # in about a fifth of the requests' promoted items
ITEMS = ("The spring launch", "Our new app", "The summer sale", "A trade fair", "The podcast")
PLATFORMS = ("instagram", "tiktok", "linkedin", "youtube", "x", "facebook")
BOUNDARIES = ("open", "ask_first", "closed")
DECLINE_REASONS = ("personal_separate", "content_fit", "audience_trust", "no_time", "not_paid")
FOLLOW_UP_KINDS = ("asked_again", "pressure", "consequence", "retaliation", "other")
CHANNELS = ("meeting", "email", "chat", "call", "in_person")
FRAMINGS = ("asked", "expected", "required", "consequences")
FORMATS = ("posts", "videos", "stories", "reviews")
REPLY_TEXT = "Thank you for asking. I have decided, and my answer is on the record."
TOTP_KEY = hashlib.sha1(b"boundary-bench-hr").hexdigest()  # noqa: S324 - a fixed test key


def database_url(name: str) -> str:
    return f"{SERVER_URL}/{name}"


def connect(name: str) -> Any:
    return psycopg2.connect(database_url(name))


def server_connection() -> Any:
    connection = connect("postgres")
    connection.autocommit = True
    return connection


def drop_database(cursor, name: str) -> None:
    cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def template_version() -> int | None:
    """The generator version the template was built by; None if there is no template."""
    with closing(server_connection()) as server, server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DATABASE])
        exists = cursor.fetchone() is not None
    if not exists:
        return None
    connection = connect(TEMPLATE_DATABASE)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute("SELECT version FROM bench_meta")
            row = cursor.fetchone()
            return row[0] if row else 0
    finally:
        connection.close()


# --- Rows as COPY text ----------------------------------------------------------------------


def copy_escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def cell(value: Any) -> str:
    """One value in COPY's text format."""
    kind = type(value)
    if kind is str:
        return copy_escape(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is dict or kind is list:
        return copy_escape(json.dumps(value, ensure_ascii=False))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return copy_escape(str(value))


REQUIRED = object()


class Table:
    """Rows of one model's table, every column filled: given values, else the field's
    default (as Django would fill it), so generated rows have the app's shape."""

    def __init__(self, model, now: datetime, columns: list[str] | None = None) -> None:
        fields = [f for f in model._meta.concrete_fields if columns is None or f.column in columns]
        self.name = model._meta.db_table
        self.columns = [f.column for f in fields]
        self.index = {column: position for position, column in enumerate(self.columns)}
        self.template = [self._default(f, now) for f in fields]
        self.buffer = io.StringIO()
        self.rows = 0

    @staticmethod
    def _default(model_field, now: datetime) -> Any:
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            return now
        # Django's own default: the field's, else "" for text, else None (NULL).
        default = model_field.get_default()
        return REQUIRED if default is None and not model_field.null else default

    def add(self, values: dict[str, Any]) -> None:
        row = self.template.copy()
        index = self.index
        for column, value in values.items():
            row[index[column]] = value
        if self.rows == 0 and any(value is REQUIRED for value in row):
            missing = [c for c, v in zip(self.columns, row, strict=True) if v is REQUIRED]
            raise ValueError(f"{self.name}: no value for {missing}")
        self.buffer.write("\t".join(map(cell, row)))
        self.buffer.write("\n")
        self.rows += 1

    def copy_to(self, cursor) -> int:
        """COPY the rows gathered so far and start afresh; returns how many went."""
        written = self.rows
        if written:
            self.buffer.seek(0)
            cursor.copy_expert(
                f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN", self.buffer
            )
        self.buffer = io.StringIO()
        self.rows = 0
        return written


# --- The people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    role: str
    department: str
    manager_id: int | None
    requests: int
    first_request_id: int

    @property
    def email(self) -> str:
        return f"{self.role}{self.id}@bench.example"

    @property
    def display_name(self) -> str:
        return f"{self.role.title()} {self.id}"

    @property
    def job_title(self) -> str:
        return {"manager": "Team lead", "hr": "HR partner"}.get(self.role, "Specialist")

    @property
    def account_ids(self) -> range:
        return range(self.id * ACCOUNTS_PER_PERSON - 2, self.id * ACCOUNTS_PER_PERSON + 1)


def request_counts(rng: random.Random, ids: list[int]) -> dict[int, int]:
    """How many requests each person logged: HEAVY_REQUESTS for the heavy ones, HR none,
    the rest spread unevenly (many have a few, some have dozens) to total REQUESTS."""
    counts = dict.fromkeys(ids, 0)
    ordinary = [i for i in ids if i >= FIRST_MANAGER and i not in HEAVY_IDS]
    left = REQUESTS - HEAVY_EMPLOYEES * HEAVY_REQUESTS
    weights = [rng.lognormvariate(0, 0.9) for _ in ordinary]
    scale = left / sum(weights)
    for person_id, weight in zip(ordinary, weights, strict=True):
        counts[person_id] = max(1, int(weight * scale))
    short = left - sum(counts[i] for i in ordinary)
    for person_id in rng.sample(ordinary, abs(short)) if short else ():
        counts[person_id] += 1 if short > 0 else -1 if counts[person_id] > 1 else 0
    for person_id in HEAVY_IDS:
        counts[person_id] = HEAVY_REQUESTS
    counts[LONG_TIMELINE_OWNER] = max(counts[LONG_TIMELINE_OWNER], 8)
    surplus = sum(counts.values()) - REQUESTS
    for person_id in ordinary:  # the long request's owner may have pushed the total over
        if surplus <= 0:
            break
        if person_id != LONG_TIMELINE_OWNER and counts[person_id] > 5:
            counts[person_id] -= 1
            surplus -= 1
    return counts


def people() -> list[Person]:
    rng = random.Random(SEED)
    ids = list(range(1, PEOPLE + 1))
    counts = request_counts(rng, ids)
    everyone = []
    next_request = 1
    for person_id in ids:
        if person_id < FIRST_MANAGER:
            role, department, manager = "hr", "People", None
        elif person_id < FIRST_EMPLOYEE:
            number = person_id - FIRST_MANAGER
            role, department, manager = "manager", f"Department {number % DEPARTMENTS}", None
        else:
            number = person_id % DEPARTMENTS
            role, department = "employee", f"Department {number}"
            # The department's managers are FIRST_MANAGER + number (+ DEPARTMENTS), each
            # with every other employee of the department.
            team = (person_id // DEPARTMENTS) % MANAGERS_PER_DEPARTMENT
            manager = FIRST_MANAGER + number + DEPARTMENTS * team
        everyone.append(
            Person(person_id, role, department, manager, counts[person_id], next_request)
        )
        next_request += counts[person_id]
    return everyone


def write_people(cursor, everyone: list[Person], now: datetime) -> int:
    """Users, with the one password hash, roles as User.apply_role sets them, and the HR
    people's TOTP devices (TOTP_KEY), since HR must pass a second factor."""

    password = make_password(PASSWORD)
    users = Table(User, now)
    for person in everyone:
        user = User(role=person.role)
        user.apply_role(person.role)
        users.add(
            {
                "id": person.id,
                "password": password,
                "email": person.email,
                "display_name": person.display_name,
                "job_title": person.job_title,
                "department": person.department,
                "manager_id": person.manager_id,
                "role": user.role,
                "is_staff": user.is_staff,
                "is_superuser": user.is_superuser,
                "date_joined": now - timedelta(days=HISTORY_DAYS + 30),
                "email_verified_at": now - timedelta(days=HISTORY_DAYS + 30),
            }
        )
    devices = Table(TOTPDevice, now)
    for person in everyone:
        if person.role == "hr":
            devices.add(
                {
                    "id": person.id,
                    "user_id": person.id,
                    "name": "Authenticator app",
                    "confirmed": True,
                    "key": TOTP_KEY,
                }
            )
    written = users.copy_to(cursor)
    devices.copy_to(cursor)
    return written


# --- One employee's history ----------------------------------------------------------------


@dataclass
class Happening:
    """An event before it is chained: what, when, and its payload's values."""

    recorded_at: datetime
    kind: str
    payload: dict[str, Any]
    request_id: int | None = None
    actor_id: int | None = None
    occurred_at: datetime | None = None


@dataclass
class Tables:
    """The rows a batch of employees adds, by table."""

    now: datetime
    by_model: dict[str, Table] = field(default_factory=dict)

    def table(self, model, columns: list[str] | None = None) -> Table:
        key = model._meta.db_table
        if key not in self.by_model:
            self.by_model[key] = Table(model, self.now, columns)
        return self.by_model[key]


class History:
    """Lays out one person's accounts, requests and what followed, as rows and as the
    events the services would have appended (same kinds, payloads and order)."""

    def __init__(self, person: Person, everyone: dict[int, Person], tables: Tables) -> None:
        self.person = person
        self.everyone = everyone
        self.tables = tables
        self.now = tables.now
        self.rng = random.Random(SEED * 100_003 + person.id)
        self.happenings: list[Happening] = []
        self.start = self.now - timedelta(days=HISTORY_DAYS + 20)

    def actor_name(self, actor_id: int) -> str:
        return self.everyone[actor_id].display_name

    def happen(self, when: datetime, kind: str, payload: dict[str, Any], **header: Any) -> None:
        actor_id = header.get("actor_id")
        if actor_id is not None:
            payload = {**payload, "actor_name": self.actor_name(actor_id)}
        self.happenings.append(Happening(when, kind, payload, **header))

    def build(self) -> None:
        self.accounts = self.build_accounts()
        for number, occurred_at in enumerate(self.request_times(), start=1):
            self.build_request(self.person.first_request_id + number - 1, number, occurred_at)

    # Accounts: linked at the start, their boundary changed a few times since.
    def build_accounts(self) -> dict[int, dict[str, Any]]:
        accounts = {}
        table = self.tables.table(SocialAccount)
        for position, account_id in enumerate(self.person.account_ids):
            declared = {
                "account": account_id,
                "platform": PLATFORMS[(self.person.id + position) % len(PLATFORMS)],
                "handle": f"bench{self.person.id}_{position}",
                "follower_count": self.rng.randrange(50, 50_000),
                "followers_as_of": None,
                "about": "",
                "boundary": self.rng.choice(BOUNDARIES),
                "boundary_note": "",
            }
            linked = self.start + timedelta(minutes=position * 5 + self.rng.randrange(60))
            self.happen(linked, "account_linked", dict(declared), actor_id=self.person.id)
            history = [(linked, declared["boundary"])]
            for _ in range(self.rng.randrange(ACCOUNT_CHANGES_MAX + 1)):
                changed = self.start + timedelta(minutes=self.rng.randrange(HISTORY_DAYS * 1440))
                declared = {**declared, "boundary": self.rng.choice(BOUNDARIES)}
                history.append((changed, declared["boundary"]))
                self.happen(
                    changed,
                    "account_changed",
                    {**declared, "changed": ["boundary"]},
                    actor_id=self.person.id,
                )
            history.sort(key=lambda item: item[0])
            accounts[account_id] = {**declared, "boundary": history[-1][1], "history": history}
            table.add(
                {
                    "id": account_id,
                    "owner_id": self.person.id,
                    "platform": declared["platform"],
                    "handle": declared["handle"],
                    "follower_count": declared["follower_count"],
                    "boundary": history[-1][1],
                    "created_at": linked,
                    "updated_at": history[-1][0],
                }
            )
        return accounts

    def boundary_at(self, account_id: int, moment: datetime) -> str:
        history = self.accounts[account_id]["history"]
        return next(
            (boundary for when, boundary in reversed(history) if when <= moment), history[0][1]
        )

    def request_times(self) -> list[datetime]:
        """When each request was asked, oldest first; the newest ones are still pending."""
        count = self.person.requests
        pending = round(count * PENDING_SHARE)
        self.pending_from = count - pending + 1
        minutes = self.rng.sample(range(PENDING_DAYS * 1440, HISTORY_DAYS * 1440), count - pending)
        recent = self.rng.sample(range(10, PENDING_DAYS * 1440), pending)
        return sorted(self.now - timedelta(minutes=m) for m in minutes + recent)

    def build_request(self, request_id: int, number: int, occurred_at: datetime) -> None:
        """One request: logged (or filed by her manager), then what followed it."""
        person, rng = self.person, self.rng
        pending = number >= self.pending_from
        long_timeline = person.id == LONG_TIMELINE_OWNER and number == 1
        filed = person.manager_id is not None and not long_timeline and rng.random() < FILED_SHARE
        targets = sorted(rng.sample(list(person.account_ids), rng.choice((1, 1, 2, 3))))
        deadline = occurred_at + timedelta(days=14) if rng.random() < DEADLINE_SHARE else None
        request = self.request_details(filed, occurred_at, deadline)
        logged_at = self.build_logged(request_id, number, request, targets)
        state = RequestState(request_id, number, logged_at=logged_at, filed=filed)
        reminders_until = self.build_reminders(state, occurred_at, deadline, pending)
        if not pending:
            self.build_decisions(state, reminders_until, targets, long_timeline)
        shared_from = None
        if not filed and (long_timeline or rng.random() < SHARED_SHARE):
            shared_from = self.build_sharing(state)
        if filed or shared_from:
            self.build_hr_reads(state, shared_from, long_timeline)
        if not pending and (long_timeline or rng.random() < FOLLOW_UP_SHARE):
            self.build_follow_ups(state, long_timeline)
        notes = ""
        if not filed and (long_timeline or rng.random() < CORRECTED_SHARE):
            notes = self.build_corrections(state, long_timeline)
        self.tables.table(PromotionRequest).add(
            {
                **{name: value for name, value in request.items() if name in REQUEST_COLUMNS},
                "id": request_id,
                "employee_id": person.id,
                "number": number,
                "filed_by_id": request["requester_user"] if filed else None,
                "requester_user_id": request["requester_user"],
                "requester_key": chain.requester_key(
                    request["requester_user"], request["requester_name"]
                ),
                "notes": notes,
                "status": state.status,
                "shared_with_hr_at": state.shared_with_hr_at,
                "disclosure_pending": state.disclosure_pending,
                "created_at": logged_at,
                "updated_at": state.last_change or logged_at,
            }
        )

    def request_details(self, filed: bool, occurred_at: datetime, deadline) -> dict[str, Any]:
        """What was asked, as services.request_snapshot names it (less number and
        targets). Filed: the manager asks in Boundary, always as a free ask."""
        rng = self.rng
        if filed:
            manager = self.everyone[self.person.manager_id]
            details = {
                "requester_name": manager.display_name,
                "requester_title": manager.job_title,
                "channel": "in_boundary",
                "framing": "asked",
                "requester_user": manager.id,
                "source": "filed",
                "disclosure_terms": "#ad first, and the platform's paid-partnership label",
            }
        else:
            details = {
                "requester_name": rng.choice(REQUESTER_NAMES),
                "requester_title": "Marketing",
                "channel": rng.choice(CHANNELS),
                "framing": rng.choice(FRAMINGS),
                "requester_user": None,
                "source": "employee",
            }
        return {
            **details,
            "occurred_at": occurred_at,
            "setting": "",
            "words_used": "Could you post about it on your own accounts?",
            "promoted_item": rng.choice(ITEMS),
            "content_format": rng.choice(FORMATS),
            "quantity": rng.choice((None, 1, 2, 3)),
            "deadline": deadline,
            "compensation_offered": "",
            "witnesses": "",
            "notes": "",
        }

    def build_logged(
        self, request_id: int, number: int, request: dict[str, Any], targets: list[int]
    ) -> datetime:
        """The LOGGED (or FILED) event, its payload as services._request_create makes it,
        and the targets with each account's boundary at the time; returns when it was
        recorded."""
        filed = request["source"] == "filed"
        snapshot = {
            name: chain.utc_iso(value) if isinstance(value, datetime) else value
            for name, value in request.items()
            if name != "disclosure_terms" or filed  # only filed requests carry terms
        }
        snapshot["number"] = number
        snapshot["targets"] = [
            {
                "account": account_id,
                "platform": self.accounts[account_id]["platform"],
                "handle": self.accounts[account_id]["handle"],
                "boundary": self.boundary_at(account_id, request["occurred_at"]),
            }
            for account_id in targets
        ]
        if filed:
            closed = [t["account"] for t in snapshot["targets"] if t["boundary"] == "closed"]
            snapshot |= {"no_penalty_notice_shown": True, "closed_accounts_warned": closed}
        logged_at = request["occurred_at"] + timedelta(minutes=self.rng.randrange(1, 120))
        self.happen(
            logged_at,
            "filed" if filed else "logged",
            snapshot,
            request_id=request_id,
            actor_id=request["requester_user"] if filed else self.person.id,
            occurred_at=request["occurred_at"],
        )
        for target in snapshot["targets"]:
            self.tables.table(RequestTarget).add(
                {
                    "id": request_id * ACCOUNTS_PER_PERSON
                    + target["account"] % ACCOUNTS_PER_PERSON,
                    "promotion_request_id": request_id,
                    "account_id": target["account"],
                    "boundary_at_request": target["boundary"],
                }
            )
        return logged_at

    # Reminders: sent while she had not decided; the ones still ahead are scheduled.
    def build_reminders(
        self, state: "RequestState", occurred_at: datetime, deadline, pending: bool
    ) -> datetime:
        plans = []
        if state.filed:
            plans.append(("filed", 1, occurred_at + timedelta(minutes=5)))
        if deadline is not None:
            plans += [
                ("before_deadline", 1, deadline - timedelta(days=2)),
                ("on_deadline", 1, deadline - timedelta(hours=4)),
            ]
        plans += [
            ("no_decision", number, occurred_at + number * REMINDER_GAP) for number in (1, 2, 3)
        ]
        # 2 or 3 per request (1,000,000 in all over 400,000 requests).
        wanted = 2 + state.request_id % 2
        plans = sorted(plans[:wanted], key=lambda plan: plan[2])
        last = occurred_at
        reminders = self.tables.table(Reminder)
        notifications = self.tables.table(Notification)
        for position, (kind, number, due_at) in enumerate(plans):
            reminder_id = state.request_id * REMINDERS_PER_REQUEST + position
            row = {
                "id": reminder_id,
                "promotion_request_id": state.request_id,
                "employee_id": self.person.id,
                "kind": kind,
                "number": number,
                "due_at": due_at,
                "created_at": state.logged_at,
            }
            if pending and due_at > self.now:
                reminders.add(row)
                continue
            sent_at = due_at + timedelta(seconds=self.rng.randrange(5, 90))
            if self.rng.random() < REMINDER_CANCELLED_SHARE:
                reminders.add({**row, "state": "cancelled", "finished_at": sent_at})
                continue
            reminders.add(
                {
                    **row,
                    "state": "sent",
                    "queued_at": due_at,
                    "claimed_at": sent_at,
                    "finished_at": sent_at,
                    "attempts": 1,
                }
            )
            notifications.add(
                {
                    "id": reminder_id,
                    "user_id": self.person.id,
                    "reminder_id": reminder_id,
                    "promotion_request_id": state.request_id,
                    "message": f"Reminder: request waiting for your answer ({kind}).",
                    "created_at": sent_at,
                    "read_at": sent_at + timedelta(hours=3) if self.rng.random() < 0.8 else None,
                }
            )
            self.happen(
                sent_at,
                "reminder_sent",
                {
                    "reminder": reminder_id,
                    "kind": kind,
                    "due_at": chain.utc_iso(due_at),
                    "channels": ["email", "in_app"],
                },
                request_id=state.request_id,
            )
            last = max(last, sent_at)
        return last

    def build_decisions(
        self, state: "RequestState", after: datetime, targets: list[int], long_timeline: bool
    ) -> None:
        decisions = self.tables.table(Decision)
        links = self.tables.table(Decision.accounts.through, ["decision_id", "socialaccount_id"])
        final = self.rng.choice(("accept", "accept", "decline", "decline", "decline", "counter"))
        kinds = ["decline"] if long_timeline else [final]
        if not long_timeline and self.rng.random() < REVISED_SHARE:
            kinds.insert(0, "counter")
        decided_at = after
        for position, kind in enumerate(kinds):
            decided_at += timedelta(hours=self.rng.randrange(2, 72))
            decision_id = state.request_id * DECISIONS_PER_REQUEST + position
            accounts = targets if kind == "accept" else []
            terms = {
                "decline_reasons": self.decline_reasons() if kind == "decline" else [],
                "pay": "Paid at our usual rate" if kind == "accept" else "",
                "disclosure_required": kind == "accept",
                "content_approval_required": False,
                "ends_on": None,
                "details": "A counter-proposal: one post, paid." if kind == "counter" else "",
                "details_in_reply": kind == "counter",
                "message_to_requester": "Thank you, noted." if state.filed else "",
            }
            self.happen(
                decided_at,
                "decision",
                {
                    "decision": decision_id,
                    "kind": kind,
                    "revises": position > 0,
                    **terms,
                    "accounts": accounts,
                },
                request_id=state.request_id,
                actor_id=self.person.id,
                occurred_at=decided_at - timedelta(minutes=self.rng.randrange(1, 60)),
            )
            row = {
                **terms,
                "id": decision_id,
                "promotion_request_id": state.request_id,
                "kind": kind,
                # When she decided, as the event says (occurred_at), not when she noted it.
                "decided_at": self.happenings[-1].occurred_at,
                "decided_by_id": self.person.id,
                "created_at": decided_at,
            }
            if not state.filed and self.rng.random() < REPLY_SENT_SHARE:
                replied = decided_at + timedelta(minutes=self.rng.randrange(5, 600))
                row["reply_sent_at"] = replied
                self.happen(
                    replied,
                    "reply_sent",
                    {"decision": decision_id, "reply": REPLY_TEXT},
                    request_id=state.request_id,
                    actor_id=self.person.id,
                )
            if state.filed and self.rng.random() < SEEN_BY_REQUESTER_SHARE:
                seen = decided_at + timedelta(minutes=self.rng.randrange(5, 2000))
                row["seen_by_requester_at"] = seen
                self.happen(
                    seen,
                    "seen_by_requester",
                    {"decision": decision_id, "decided_at": chain.utc_iso(row["decided_at"])},
                    request_id=state.request_id,
                    actor_id=self.person.manager_id,
                    occurred_at=seen,
                )
            decisions.add(row)
            for account_id in accounts:
                links.add({"decision_id": decision_id, "socialaccount_id": account_id})
        state.status = {"accept": "accepted", "decline": "declined", "counter": "negotiating"}[
            kinds[-1]
        ]
        # Accepted for accounts with no disclosure proof yet (flags.disclosure_pending_accounts).
        state.disclosure_pending = kinds[-1] == "accept" and bool(targets)
        state.last_change = decided_at

    def decline_reasons(self) -> list[str]:
        return self.rng.sample(DECLINE_REASONS, self.rng.choice((1, 1, 2)))

    def build_sharing(self, state: "RequestState") -> datetime:
        shared = state.logged_at + timedelta(hours=self.rng.randrange(1, 48))
        payload = {"requests": [state.request_id], "numbers": [state.number], "all": False}
        self.happen(
            shared,
            "shared_with_hr",
            payload,
            request_id=state.request_id,
            actor_id=self.person.id,
        )
        state.shared_with_hr_at = shared
        state.shared_until = None
        if self.rng.random() < SHARE_STOPPED_SHARE:
            stopped = shared + timedelta(days=self.rng.randrange(5, 60))
            if stopped < self.now:
                self.happen(
                    stopped,
                    "sharing_withdrawn",
                    dict(payload),
                    request_id=state.request_id,
                    actor_id=self.person.id,
                )
                state.shared_with_hr_at = None
                state.shared_until = stopped
        return shared

    def build_hr_reads(
        self, state: "RequestState", shared_from: datetime | None, long_timeline: bool
    ) -> None:
        """HR opened it: one HrView row and one VIEWED_BY_HR event per HR user and day,
        while HR could see it (filed, or shared and not stopped since)."""
        reads = 60 if long_timeline else int(self.rng.expovariate(1 / HR_READS_MEAN))
        begin = shared_from or state.logged_at
        end = state.shared_until or self.now
        span_minutes = int((end - begin).total_seconds() // 60) - 5
        if span_minutes < 10:
            return
        seen: set[tuple[int, Any]] = set()
        views = self.tables.table(HrView)
        for position in range(min(reads, HR_READS_PER_REQUEST)):
            viewer = 1 + position % HR_PEOPLE
            viewed_at = begin + timedelta(minutes=self.rng.randrange(5, span_minutes))
            if (viewer, viewed_at.date()) in seen:
                continue
            seen.add((viewer, viewed_at.date()))
            views.add(
                {
                    "id": state.request_id * HR_READS_PER_REQUEST + position,
                    "viewer_id": viewer,
                    "promotion_request_id": state.request_id,
                    "day": viewed_at.date(),
                    "viewed_at": viewed_at,
                }
            )
            self.happen(
                viewed_at,
                "viewed_by_hr",
                {"viewed_at": chain.utc_iso(viewed_at)},
                request_id=state.request_id,
                actor_id=viewer,
                occurred_at=viewed_at,
            )

    def build_follow_ups(self, state: "RequestState", long_timeline: bool) -> None:
        follow_ups = self.tables.table(FollowUp)
        count = FOLLOW_UPS_PER_REQUEST // 2 if long_timeline else self.rng.randrange(1, 6)
        moment = state.last_change or state.logged_at
        for position in range(count):
            moment += timedelta(hours=self.rng.randrange(6, 24 * 20))
            if moment >= self.now:
                break
            follow_up_id = state.request_id * FOLLOW_UPS_PER_REQUEST + position
            details = {
                "kind": self.rng.choice(FOLLOW_UP_KINDS),
                "who": self.rng.choice(REQUESTER_NAMES),
                "what_was_said": "Have you thought about it again? Everyone else is posting.",
                "witnesses": "",
                "quoted": True,
            }
            occurred = moment - timedelta(minutes=self.rng.randrange(10, 300))
            follow_ups.add(
                {
                    **details,
                    "id": follow_up_id,
                    "promotion_request_id": state.request_id,
                    "occurred_at": occurred,
                    "created_at": moment,
                }
            )
            self.happen(
                moment,
                "follow_up",
                {"follow_up": follow_up_id, **details},
                request_id=state.request_id,
                actor_id=self.person.id,
                occurred_at=occurred,
            )

    def build_corrections(self, state: "RequestState", long_timeline: bool) -> str:
        """She corrected her notes (CORRECTED events); returns the notes as they now read.
        The long timeline's request gets as many as make its events LONG_TIMELINE_EVENTS."""
        count = 1
        if long_timeline:
            so_far = sum(1 for h in self.happenings if h.request_id == state.request_id)
            count = LONG_TIMELINE_EVENTS - so_far
        notes = ""
        moment = state.logged_at
        step = (self.now - moment) / (count + 1)
        for version in range(1, count + 1):
            moment += step
            new = f"Added after the meeting (version {version})."
            self.happen(
                moment,
                "corrected",
                {"changes": {"notes": {"old": notes, "new": new}}, "reason": ""},
                request_id=state.request_id,
                actor_id=self.person.id,
            )
            notes = new
        state.last_change = max(state.last_change or moment, moment)
        return notes


@dataclass
class RequestState:
    """What a request's rows say once its events are laid out."""

    request_id: int
    number: int
    logged_at: datetime
    filed: bool
    status: str = "pending"
    disclosure_pending: bool = False
    shared_with_hr_at: datetime | None = None
    shared_until: datetime | None = None
    last_change: datetime | None = None


# The request's own columns among request_details' names: the chain's request fields but
# those set apart (its number, who asked as a user, her notes).
REQUEST_COLUMNS = frozenset(chain.REQUEST_FIELDS) - {"number", "requester_user", "notes"}


# --- Chaining: hashes as requests_log.timeline.chained_event computes them ------------------


def chain_history(person: Person, happenings: list[Happening], tables: Tables) -> None:
    """Append the person's events in the order they were recorded, each hashed with the
    app's chain functions and linked to the one before; sign a checkpoint every
    CHECKPOINT_EVERY events and at the head, as the receipt sweep would have."""
    happenings.sort(key=lambda happening: happening.recorded_at)
    rng = random.Random(SEED * 7_919 + person.id)  # the salts: random, but repeatable
    events = tables.table(TimelineEvent)
    checkpoints = tables.table(Checkpoint)
    key, host = signing_key(), instance_host()
    origin = receiptformat.receipt_origin(host, person.id)
    prev_hash = chain.GENESIS_HASH
    last_issued = None
    for seq, happening in enumerate(happenings, start=1):
        recorded_at = happening.recorded_at
        # As text once, for the hash and the row alike.
        recorded = chain.utc_iso(recorded_at)
        occurred = chain.utc_iso(happening.occurred_at) if happening.occurred_at else recorded
        payload = happening.payload
        salt = rng.randbytes(32).hex()
        field_salts = chain.field_salts(salt, payload)
        header = chain.event_header(
            employee_id=person.id,
            seq=seq,
            request_id=happening.request_id,
            kind=happening.kind,
            actor_id=happening.actor_id,
            occurred_at=occurred,
            recorded_at=recorded,
            prev_hash=prev_hash,
        )
        event_hash = chain.event_hash(header, chain.field_digests(field_salts, payload))
        events.add(
            {
                "id": person.id * EVENTS_PER_EMPLOYEE + seq,
                "employee_id": person.id,
                "seq": seq,
                "promotion_request_id": happening.request_id,
                "kind": happening.kind,
                "actor_id": happening.actor_id,
                "occurred_at": occurred,
                "recorded_at": recorded,
                "payload": payload,
                "salt": salt,
                "field_salts": chain.canonical_text(field_salts),
                "prev_hash": prev_hash,
                "hash": event_hash,
            }
        )
        prev_hash = event_hash
        if seq % CHECKPOINT_EVERY == 0 or seq == len(happenings):
            issued_at = min(recorded_at + timedelta(minutes=2), tables.now)
            note = receiptformat.checkpoint_note(
                origin=origin, seq=seq, head_hash=event_hash, issued_at=chain.utc_iso(issued_at)
            )
            checkpoints.add(
                {
                    "id": person.id * EVENTS_PER_EMPLOYEE + seq,
                    "employee_id": person.id,
                    "seq": seq,
                    "head_hash": event_hash,
                    "issued_at": issued_at,
                    "reason": "changed",
                    "note": key.sign_note(note, host),
                    "key_fingerprint": key.fingerprint,
                }
            )
            last_issued = issued_at
    if last_issued is not None:
        tables.table(ReceiptSchedule).add(
            {
                "employee_id": person.id,
                "due_at": None,
                "quiet_until": last_issued + timedelta(seconds=settings.RECEIPT_INTERVAL),
            }
        )


# --- Workers: each builds batches of people and COPYs their rows ---------------------------

_worker: dict[str, Any] = {}


def worker_start(everyone: list[Person], now: datetime) -> None:
    connection = connect(SCRATCH_DATABASE)
    with connection.cursor() as cursor:
        # Foreign keys are not checked row by row (ids are computed to match; the
        # sample verification below reads them back through the app).
        cursor.execute("SET session_replication_role = replica")
    _worker.update(connection=connection, everyone={p.id: p for p in everyone}, now=now)


def build_batch(batch: list[Person]) -> dict[str, int]:
    tables = Tables(_worker["now"])
    for person in batch:
        history = History(person, _worker["everyone"], tables)
        history.build()
        chain_history(person, history.happenings, tables)
    connection = _worker["connection"]
    with connection.cursor() as cursor:
        written = {name: table.copy_to(cursor) for name, table in tables.by_model.items()}
    connection.commit()
    return written


def batches(everyone: list[Person]) -> list[list[Person]]:
    """Heavy employees alone, the others in groups; the largest first, so the workers
    finish together."""
    heavy = [[person] for person in everyone if person.id in HEAVY_IDS]
    others = [person for person in everyone if person.id not in HEAVY_IDS]
    groups = [
        others[start : start + EMPLOYEES_PER_BATCH]
        for start in range(0, len(others), EMPLOYEES_PER_BATCH)
    ]
    return heavy + groups


# --- The database: scratch, load, indexes, checks, template ---------------------------------

LOADED_MODELS = (
    SocialAccount,
    PromotionRequest,
    RequestTarget,
    Decision,
    Decision.accounts.through,
    FollowUp,
    HrView,
    Reminder,
    Notification,
    TimelineEvent,
    Checkpoint,
    ReceiptSchedule,
)


def create_scratch() -> None:
    from django.core.management import call_command

    with closing(server_connection()) as server, server.cursor() as cursor:
        drop_database(cursor, SCRATCH_DATABASE)
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SCRATCH_DATABASE)))
    call_command("migrate", verbosity=0)


def drop_secondary_indexes(cursor) -> list[str]:
    """Drop the loaded tables' indexes and unique constraints (not primary or foreign
    keys); returns the statements that make them again, faster after the load."""
    tables = [model._meta.db_table for model in LOADED_MODELS]
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)",
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [
        *(
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            for table, name, definition in constraints
        ),
        *(definition for _, definition in indexes),
    ]


def load(everyone: list[Person], now: datetime) -> dict[str, int]:
    connection = connect(SCRATCH_DATABASE)
    counts = {}
    with connection.cursor() as cursor:
        rebuild = drop_secondary_indexes(cursor)
        counts[User._meta.db_table] = write_people(cursor, everyone, now)
    connection.commit()
    from django.db import connections

    connections.close_all()  # no connection may cross the fork
    work = batches(everyone)
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(WORKERS, initializer=worker_start, initargs=(everyone, now)) as pool:
        for done, written in enumerate(pool.imap_unordered(build_batch, work), start=1):
            for name, rows in written.items():
                counts[name] = counts.get(name, 0) + rows
            if done % 20 == 0 or done == len(work):
                events = counts.get(TimelineEvent._meta.db_table, 0)
                print(
                    f"  {done}/{len(work)} batches, {events:,} events, "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    print("Indexes and constraints…", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")  # sorts for index builds
        for statement in rebuild:
            cursor.execute(statement)
        for model in (*LOADED_MODELS, User, TOTPDevice):
            if model._meta.pk.column != "id":
                continue
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    connection.commit()
    connection.close()
    return counts


def verify_sample(cast: dict[str, Any]) -> None:
    """The app's own verify_chain (hashes, links, salts, checkpoints, and every table row
    against what the events say) over the cast and random employees; raises if one fails."""
    rng = random.Random(SEED)
    ordinary = rng.sample(range(FIRST_EMPLOYEE, PEOPLE + 1), 20)
    sample = [
        cast["users"]["long_timeline_owner"]["id"],
        cast["users"]["heavy_employees"][0]["id"],
        cast["users"]["typical_employee"]["id"],
        cast["users"]["manager"]["id"],
        *ordinary,
    ]
    for person_id in sample:
        report = verify_chain(employee=User.objects.get(pk=person_id))
        if not report.ok:
            problems = "; ".join(report.drift[:5] + report.contradicted[:5])
            raise SystemExit(
                f"Chain of user {person_id} fails at #{report.broken_seq}: {report.reason} "
                f"{problems}"
            )
    long_events = TimelineEvent.objects.filter(
        promotion_request_id=cast["requests"]["long_timeline"]["id"]
    ).count()
    if long_events != LONG_TIMELINE_EVENTS:
        raise SystemExit(f"The long timeline has {long_events} events, not {LONG_TIMELINE_EVENTS}")
    print(f"Verified {len(sample)} chains with verify_chain: all hold, no drift.")


def cast_of(everyone: list[Person]) -> dict[str, Any]:
    """Who a benchmark signs in as, and which requests it opens (written to CAST_FILE and
    the template's bench_cast table). Reads the loaded data for a request the manager
    filed."""
    by_id = {person.id: person for person in everyone}
    ordinary = [
        person
        for person in everyone
        if person.role == "employee"
        and person.id not in HEAVY_IDS
        and person.id != LONG_TIMELINE_OWNER
    ]
    # A few requests, one of them pending (PENDING_SHARE of 4 to 8 rounds to 1).
    typical = next(person for person in ordinary if 4 <= person.requests <= 8)
    manager = by_id[typical.manager_id]
    filed = (
        PromotionRequest.objects.filter(filed_by_id=manager.id)
        .order_by("-occurred_at")
        .values("id", "employee_id")
        .first()
    )
    long_owner = by_id[LONG_TIMELINE_OWNER]
    hr = by_id[1]

    def who(person: Person) -> dict[str, Any]:
        return {"email": person.email, "id": person.id}

    return {
        "generator_version": GENERATOR_VERSION,
        "template_database": TEMPLATE_DATABASE,
        "password": PASSWORD,
        "users": {
            "typical_employee": {**who(typical), "requests": typical.requests},
            "heavy_employees": [
                {**who(by_id[i]), "requests": HEAVY_REQUESTS, "pending": HEAVY_PENDING}
                for i in HEAVY_IDS
            ],
            "long_timeline_owner": who(long_owner),
            "manager": {
                **who(manager),
                "reports": sum(1 for person in everyone if person.manager_id == manager.id),
            },
            "hr": {
                **who(hr),
                # django-otp: TOTP(bytes.fromhex(key), step=30, digits=6) is the code the
                # login-code page takes; or a session holding this persistent id under
                # django_otp.DEVICE_ID_SESSION_KEY ("otp_device_id") counts as verified.
                "totp_key_hex": TOTP_KEY,
                "otp_device_persistent_id": TOTPDevice(id=hr.id).persistent_id,
            },
            "hr_people": [who(person) for person in everyone if person.role == "hr"],
        },
        "requests": {
            "long_timeline": {
                "id": long_owner.first_request_id,
                "number": 1,
                "employee_id": long_owner.id,
                "events": LONG_TIMELINE_EVENTS,
            },
            "filed_by_manager": {**filed, "filed_by": manager.id},
        },
        "search_word": SEARCH_WORD,
        "load_test": {
            "employees": [
                person.email for person in random.Random(SEED).sample(ordinary, LOAD_TEST_EMPLOYEES)
            ],
            "managers": [person.email for person in everyone if person.role == "manager"],
        },
    }


def finish(cast: dict[str, Any], seconds: float) -> None:
    """Mark the scratch database as a complete template (bench_meta, bench_cast),
    vacuum and analyse it, and rename it to TEMPLATE_DATABASE."""
    from django.db import connections

    connections.close_all()
    connection = connect(SCRATCH_DATABASE)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_cast (cast_json jsonb NOT NULL)")
        cursor.execute("INSERT INTO bench_cast VALUES (%s)", [json.dumps(cast)])
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute(
            "CREATE TABLE bench_meta (version integer NOT NULL, built_at timestamptz NOT NULL, "
            "seconds real NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO bench_meta VALUES (%s, now(), %s)", [GENERATOR_VERSION, seconds]
        )
    connection.close()
    with closing(server_connection()) as server, server.cursor() as cursor:
        drop_database(cursor, TEMPLATE_DATABASE)
        cursor.execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(SCRATCH_DATABASE), sql.Identifier(TEMPLATE_DATABASE)
            )
        )


def write_cast_file(cast: dict[str, Any]) -> None:
    CAST_FILE.parent.mkdir(parents=True, exist_ok=True)
    CAST_FILE.write_text(json.dumps(cast, indent=2) + "\n")


def stored_cast() -> dict[str, Any]:
    connection = connect(TEMPLATE_DATABASE)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT cast_json FROM bench_cast")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def report(counts: dict[str, int]) -> None:
    connection = server_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(%s))", [TEMPLATE_DATABASE])
        size = cursor.fetchone()[0]
    connection.close()
    for table, rows in sorted(counts.items()):
        print(f"  {table:<40} {rows:>12,}")
    print(f"{TEMPLATE_DATABASE}: {size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    arguments = parser.parse_args()
    if not arguments.force and template_version() == GENERATOR_VERSION:
        write_cast_file(stored_cast())
        print(
            f"{TEMPLATE_DATABASE} is up to date (version {GENERATOR_VERSION}); cast in {CAST_FILE}"
        )
        return
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"Building {SCRATCH_DATABASE} (migrate)…", flush=True)
    create_scratch()
    everyone = people()
    print(f"Generating with {WORKERS} workers…", flush=True)
    counts = load(everyone, now)
    print("HR's kept counts…", flush=True)
    from requests_log import hr_counts

    hr_counts.counted_requests_rebuild()  # loaded with the triggers off: nobody was marked
    cast = cast_of(everyone)
    verify_sample(cast)
    print("VACUUM (ANALYZE) and rename…", flush=True)
    seconds = time.perf_counter() - started
    finish(cast, seconds)
    write_cast_file(cast)
    print(
        f"Built {TEMPLATE_DATABASE} in {time.perf_counter() - started:.0f} s; cast in {CAST_FILE}"
    )
    report(counts)


if __name__ == "__main__":
    main()
