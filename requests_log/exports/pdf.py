"""record.pdf: the readable record, with record.json attached and a seal after %%EOF.

Pages are laid out in chunks of requests, so a large record reports progress and never
holds one huge layout; the cover is laid out last, once the page count is known.
WeasyPrint fetches nothing but our own static files (StaticOnlyFetcher).
"""

import io
import mimetypes
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import CSS, HTML, Attachment
from weasyprint.document import Document
from weasyprint.urls import URLFetcher, URLFetcherResponse

from boundary.models import SocialAccount

from .. import chain, rights
from .. import flags as flags_module
from ..models import Decision, PromotionRequest, what_is_asked
from ..models.request import DECLINE_REASON_LABELS
from . import fileformat
from .jsonexport import json_chunks
from .record import WITHHELD, WITHHOLDABLE_FIELDS, Record, kind_labels, summarise, values_of
from .signing import grouped, signing_key

STATIC_SCHEME = "static:"
EVENTS_PER_CHUNK = 600

Progress = Callable[[int, str], None]


class StaticOnlyFetcher(URLFetcher):
    """Serves `static:` URLs from our static files and refuses everything else, so
    nothing in a record can make the server fetch a URL."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not url.startswith(STATIC_SCHEME):
            raise ValueError(f"Refused to fetch {url[:80]}")
        relative = url.removeprefix(STATIC_SCHEME).lstrip("/")
        path = finders.find(relative) if ".." not in relative else None
        if not path:
            raise ValueError(f"No static file {relative[:80]}")
        with open(path, "rb") as handle:
            body = handle.read()
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


@dataclass
class ShownEvent:
    seq: int
    occurred_at: str
    local: str
    utc: str
    kind: str
    label: str
    summary: str
    actor: str
    hash: str
    after_decline: bool
    values: dict[str, Any]  # the shown fields


def rights_for(employee) -> tuple[dict[str, Any], list[rights.Note]]:
    """The rights notes the PDF prints (rights.notes_for_person: where she works, as her
    profile says at export; all of them when it does not say), and what they were chosen
    from, which the signed manifest states as `rights_notes`."""
    country, state = str(employee.work_country or ""), str(employee.work_state or "")
    notes = rights.notes_for_person(work_country=country, work_state=state)
    chosen = {
        "work_country": country,
        "work_state": state,
        "checked": rights.CHECKED.isoformat(),
        "notes": [note.id for note in notes],
    }
    return chosen, notes


def _shown_events(
    record: Record, record_json: IO[bytes]
) -> tuple[dict[int | None, list[ShownEvent]], list[dict]]:
    """The events to lay out, by request, and the withheld runs, read from the record.json
    the PDF carries (so the chain is read from the database once)."""
    people, kinds = record.context()["people"], kind_labels()
    flags = record.flags()
    by_request: dict[int | None, list[ShownEvent]] = defaultdict(list)
    runs = []
    for entry in fileformat.json_entries(record_json):
        if "withheld" in entry:
            runs.append({**entry["withheld"], "hash": entry["hash"]})
            continue
        header = entry["event"]
        values = values_of(entry)
        moment = datetime.fromisoformat(header["occurred_at"].replace("Z", "+00:00"))
        actor = header["actor"]
        request_flags = flags.get(header["request"])
        by_request[header["request"]].append(
            ShownEvent(
                seq=header["seq"],
                occurred_at=header["occurred_at"],
                local=record.local(moment),
                utc=moment.strftime("%H:%M UTC"),
                kind=header["kind"],
                label=kinds.get(header["kind"], header["kind"]),
                summary=summarise(header["kind"], values, request_flags, flags),
                actor=people.get(str(actor), "") if actor is not None else "",
                hash=entry["hash"],
                after_decline=bool(
                    request_flags and request_flags.marks_event(header["kind"], values)
                ),
                values=values,
            )
        )
    return by_request, runs


def _chunks(requests: list[dict], limit: int) -> list[list[dict]]:
    chunks: list[list[dict]] = [[]]
    size = 0
    for item in requests:
        if chunks[-1] and size + len(item["events"]) > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item["events"]) + 10
    return chunks


def _render(
    template: str, context: dict[str, Any], first_page: int, *, of_total: bool = False
) -> Document:
    html = render_to_string(f"requests_log/exports/{template}", context)
    css = f"@page:first {{ counter-reset: page {first_page} }}"
    if first_page == 1:  # the cover: no footer
        css += (
            "@page:first { @bottom-left { content: none !important }"
            " @bottom-right { content: none !important } }"
        )
    if of_total:
        css += (
            '@page { @bottom-right { content: "Page " counter(page) " of " counter(pages)'
            " !important } }"
        )
    numbering = CSS(string=css)
    return HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=StaticOnlyFetcher()).render(
        stylesheets=[numbering]
    )


def pdf_bytes(
    record: Record,
    *,
    record_json: IO[bytes] | None = None,
    sealed: list[dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> bytes:
    """The sealed PDF, laid out from `record_json` (this record's record.json, written
    here unless the caller has it already, as a ZIP does), which it carries attached."""
    report = progress or (lambda percent, note: None)
    report(2, "Reading the record")
    if record_json is None:
        record_json = io.BytesIO(b"".join(json_chunks(record)))
    record_sha256 = fileformat.sha256_of(record_json)
    by_request, runs = _shown_events(record, record_json)
    key = signing_key()
    context = record.context()
    rights_chosen, notes = rights_for(record.employee)
    requests: list[dict[str, Any]] = []
    for facts in record.story().facts():
        # As on the request's page: to the minute ("…T10:30"), then in chain order.
        events = sorted(by_request.pop(facts["id"], []), key=lambda e: (e.occurred_at[:16], e.seq))
        requests.append(_request_view(record, facts, events, rights_chosen))
    other_events = [event for events in by_request.values() for event in events]
    total_events = sum(len(item["events"]) for item in requests) + len(other_events) or 1
    common = {
        "employee": record.employee,
        # Her name as she acted under it, from the chain (the profile's, if she never did).
        "employee_name": record.story().people.get(record.employee.pk)
        or record.employee.display_name,
        "scope_text": record.scope.describe(),
        "time_zone": str(record.zone),
        "context": context,
        "generated_local": record.local(record.generated_at),
        "generated_utc": chain.utc_iso(record.generated_at),
        "head_seq": record.head_seq,
        "head_hash": record.head_hash,
        "fingerprint": grouped(key.fingerprint),
        "fingerprint_raw": key.fingerprint,
        "site_url": settings.SITE_URL.rstrip("/"),
        "counts": record.counts,
    }
    closing_context = {
        **common,
        "other_events": other_events,
        "runs": runs[:200],
        "more_runs": max(0, len(runs) - 200),
        "withheld_fields": [WITHHOLDABLE_FIELDS.get(n, n) for n in record.scope.withhold],
        "rights_notes": notes,
        "anchors": record.anchor_checkpoints(),
    }
    report(10, "Laying out the pages")
    if total_events <= EVENTS_PER_CHUNK:
        # One layout is quickest for a short record; the footer counts the pages.
        cover = _render(
            "record_single.html",
            {**closing_context, "requests": requests, "request_count": len(requests)},
            first_page=1,
            of_total=True,
        )
        documents: list[Document] = []
    else:
        # A long record gets a denser timeline (one paragraph per event) and requests
        # that follow on from each other rather than each on a new page.
        cover, documents = _render_in_chunks(
            requests, {**common, "compact": True}, closing_context, total_events, report
        )
    report(88, "Writing the PDF")
    pages = [page for document in [cover, *documents] for page in document.pages]
    total_pages = len(pages)
    body = cover.copy(pages).write_pdf(
        attachments=[
            Attachment(
                # WeasyPrint wants an in-memory file (a temporary file's name is a number).
                file_obj=io.BytesIO(_rewound(record_json).read()),
                name="record.json",
                description="The record with its hash chain and seal (verify this file)",
            )
        ],
        pdf_identifier=record_sha256[:32].encode(),
    )
    if not body.endswith(b"\n"):
        body += b"\n"
    manifest = record.manifest(
        file_kind="pdf",
        body_sha256=fileformat.sha256_hex(body),
        record_sha256=record_sha256,
        pages=total_pages,
        rights_notes=rights_chosen,
    )
    seal = key.seal(manifest)
    if sealed is not None:
        sealed.append(seal)
    report(99, "Sealing")
    return body + fileformat.PDF_SEAL_PREFIX + chain.canonical_bytes(seal) + b"\n"


def _render_in_chunks(
    requests: list[dict[str, Any]],
    common: dict[str, Any],
    closing_context: dict[str, Any],
    total_events: int,
    report: Progress,
) -> tuple[Document, list[Document]]:
    """Lay out a long record a chunk of requests at a time, reporting progress; the
    cover comes last, once the number of pages is known."""
    documents: list[Document] = []
    next_page = 2
    summary = _render("record_summary.html", {**common, "requests": requests}, next_page)
    documents.append(summary)
    next_page += len(summary.pages)
    done = 0
    for chunk in _chunks(requests, EVENTS_PER_CHUNK):
        document = _render("record_requests.html", {**common, "requests": chunk}, next_page)
        documents.append(document)
        next_page += len(document.pages)
        done += sum(len(item["events"]) for item in chunk)
        report(10 + 75 * done // total_events, f"Laid out {done} of {total_events} events")
    closing = _render("record_closing.html", closing_context, next_page)
    documents.append(closing)
    total_pages = next_page - 1 + len(closing.pages)
    cover = _render(
        "record_cover.html",
        {**common, "total_pages": total_pages, "request_count": len(requests)},
        first_page=1,
    )
    return cover, documents


CHANNELS = dict(PromotionRequest.Channel.choices)
FRAMINGS = dict(PromotionRequest.Framing.choices)
STATUSES = dict(PromotionRequest.Status.choices)
BOUNDARIES = dict(SocialAccount.Boundary.choices)
DECISIONS = dict(Decision.Kind.choices)


def _request_view(
    record: Record,
    facts: dict[str, Any],
    events: list[ShownEvent],
    rights_chosen: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the PDF prints of a request: its facts as its events say them (chain.Replay),
    with labels and local times."""
    hide = record.withhold
    flags = record.flags()
    replies = {reply["decision"]: reply for reply in facts["replies"]}
    occurred = flags_module.moment(facts["occurred_at"])
    deadline = facts["deadline"]
    requester = facts["requester_name"]
    if facts["requester_title"]:
        requester = f"{requester} ({facts['requester_title']})"
    item = {
        "number": facts["number"],
        "title": facts["title"],
        "requester_label": requester,
        "status_label": STATUSES.get(facts["status"], facts["status"]),
        "channel_label": CHANNELS.get(facts["channel"], facts["channel"]),
        "setting": facts["setting"],
        "framing_label": FRAMINGS.get(facts["framing"], facts["framing"]),
        "words_used": facts["words_used"],
        "what_summary": what_is_asked(
            str(facts["content_format"]), facts["quantity"], str(facts["promoted_item"])
        ),
        "targets": [
            {
                "label": flags_module.account_label(target),
                "boundary_label": BOUNDARIES.get(target["boundary"], target["boundary"]),
                "since": record.local(flags_module.moment(target["since"]))[:10]
                if target.get("since")
                else "",
            }
            for target in facts["targets"]
        ],
        "compensation_offered": facts["compensation_offered"],
        "disclosure_terms": facts.get("disclosure_terms") or "",
        "witnesses": facts["witnesses"],
        "notes": facts["notes"],
        "incomplete": facts["incomplete"],
    }
    return {
        "item": item,
        "occurred_local": record.local(occurred),
        "occurred_utc": occurred.strftime("%Y-%m-%d %H:%M UTC"),
        "deadline_local": record.local(flags_module.moment(deadline))
        if isinstance(deadline, str) and deadline != WITHHELD
        else "",
        "flags": [(flag.level, flag.text(shown=flags)) for flag in flags[facts["id"]]],
        "decisions": [
            _decision_view(record, decision, replies.get(decision["decision"]))
            for decision in sorted(facts["decisions"], key=lambda d: d["decided_at"])
        ],
        "evidence": facts["evidence"],
        "disclosure": _disclosure_view(record, facts),
        "rights": _request_rights(facts, rights_chosen or {}),
        "events": events,
        "hide": {name: name in hide for name in WITHHOLDABLE_FIELDS},
        "pressure_after_decline": sum(1 for event in events if event.after_decline),
    }


def _disclosure_view(record: Record, facts: dict[str, Any]) -> dict[str, Any]:
    """Her disclosure proofs, and the accepted accounts still without one
    (flags.disclosure_pending_accounts), as the events say them."""
    labels = {
        target.get("account"): flags_module.account_label(target) for target in facts["targets"]
    }
    return {
        "proofs": [
            {
                **proof,
                "account_label": labels.get(proof["account"], f"account {proof['account']}"),
                "recorded_local": record.local(flags_module.moment(proof["recorded_at"])),
            }
            for proof in facts["disclosure_proofs"]
        ],
        "pending": [
            labels.get(account, f"account {account}")
            for account in flags_module.disclosure_pending_accounts(facts)
        ],
    }


def _request_rights(facts: dict[str, Any], chosen: dict[str, Any]) -> list[rights.Note]:
    """The notes that bear on this request (rights.notes_for_request), from where she works
    (as the manifest states) and what the events say: its framing, whether the answer in
    force accepts, and the platforms accepted for."""
    decisions = facts["decisions"]
    accepted = (
        facts["status"] == "accepted" and bool(decisions) and decisions[-1]["kind"] == "accept"
    )
    accounts = decisions[-1].get("accounts") if accepted else []
    platforms = [
        target.get("platform")
        for target in facts["targets"]
        if isinstance(accounts, list) and target.get("account") in accounts
    ]
    return rights.notes_for_request(
        work_country=chosen.get("work_country", ""),
        work_state=chosen.get("work_state", ""),
        framing=str(facts["framing"]),
        platforms=[str(platform) for platform in platforms],
        accepted=accepted,
    )


def _decision_view(
    record: Record, decision: dict[str, Any], reply: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        **decision,
        "kind_label": DECISIONS.get(decision["kind"], decision["kind"]),
        "decline_reason_labels": [
            DECLINE_REASON_LABELS.get(reason, reason) for reason in decision["decline_reasons"]
        ],
        "decided_local": record.local(flags_module.moment(decision["decided_at"])),
        "reply_local": record.local(flags_module.moment(reply["sent_at"])) if reply else "",
        "seen_local": record.local(flags_module.moment(decision["seen_by_requester_at"]))
        if decision.get("seen_by_requester_at")
        else "",
        "acknowledged_local": record.local(flags_module.moment(decision["acknowledged_at"]))
        if decision.get("acknowledged_at")
        else "",
        # The text as it was sent, from the chained "reply sent" event.
        "reply": reply["reply"] if reply else "",
    }


def _rewound(handle: IO[bytes]) -> IO[bytes]:
    handle.seek(0)
    return handle
