"""Reads for pages and exports. Each takes the viewer and starts from access.py's
scope for them, so nothing here can return what the viewer may not see."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, cast

from django.contrib.postgres.expressions import ArraySubquery
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Window
from django.db.models.functions import JSONObject
from django.utils import timezone

from boundary.models import User

from . import access, chain, disclosure, rights
from .flags import Declines, RequestFlags, as_declared, request_flags, to_minute
from .models import (
    Checkpoint,
    Decision,
    DisclosureProof,
    Evidence,
    FollowUp,
    PromotionRequest,
    ReceiptAddress,
    Reminder,
    RequestTarget,
    TimelineEvent,
    Timestamp,
)

# The dashboard's status filter for everything still waiting for her answer.
OPEN = "open"

# What a list of requests shows and flags.py reads of each (not the long texts).
LISTED_FIELDS = (
    "employee_id",
    "number",
    "requester_name",
    "requester_title",
    "requester_key",
    "occurred_at",
    "promoted_item",
    "deadline",
    "framing",
    "compensation_offered",
    "status",
    "shared_with_hr_at",
    "disclosure_pending",
)

TARGETS_WITH_ACCOUNTS = Prefetch(
    "targets", queryset=RequestTarget.objects.select_related("account").order_by("account_id")
)


def _arrays_of_rows() -> bool:
    """Whether the database reads a subquery's rows as an array (PostgreSQL's ARRAY()).
    SQLite (`make run`) does not: there the flags read each request's relations, a few
    more queries on a demo's few rows."""
    return connection.vendor == "postgresql"


def with_flag_data(queryset: QuerySet[PromotionRequest]) -> QuerySet[PromotionRequest]:
    """Annotate each request with what flags.request_flags reads of its targets, decisions
    and follow-ups, as the facts' own lists: one query for a list, not one per relation."""
    if not _arrays_of_rows():
        return queryset
    of_request = {"promotion_request": OuterRef("pk")}
    return queryset.annotate(
        target_facts=ArraySubquery(
            RequestTarget.objects.filter(**of_request)
            .order_by("account_id")
            .values(
                json=JSONObject(
                    account="account_id",
                    platform="account__platform",
                    handle="account__handle",
                    boundary="boundary_at_request",
                )
            )
        ),
        decision_facts=ArraySubquery(
            Decision.objects.filter(**of_request)
            .order_by("decided_at", "id")
            .values(json=JSONObject(kind="kind", decided_at="decided_at"))
        ),
        follow_up_facts=ArraySubquery(
            FollowUp.objects.filter(**of_request)
            .order_by("occurred_at", "id")
            .values(
                json=JSONObject(
                    follow_up="id",
                    kind="kind",
                    occurred_at="occurred_at",
                    what_was_said="what_was_said",
                )
            )
        ),
    )


def declines_for(requests: Iterable[PromotionRequest]) -> Declines:
    """Every decline by the people who asked these requests, in one query: what
    flags.request_flags needs to tell an ask repeated after a "no"."""
    requests = list(requests)
    if not requests:
        return Declines()
    rows = Decision.objects.filter(
        kind=Decision.Kind.DECLINE,
        promotion_request__employee_id__in={item.employee_id for item in requests},
        promotion_request__requester_key__in={item.requester_key for item in requests},
    ).values_list(
        "promotion_request__employee_id",
        "promotion_request__requester_key",
        "promotion_request_id",
        "promotion_request__promoted_item",
        "decided_at",
    )
    return Declines.from_rows(rows)


def with_requester_declines(queryset: QuerySet[PromotionRequest]) -> QuerySet[PromotionRequest]:
    """Annotate each request with every decline of a request by whoever asked it
    (`requester_declines`), what declines_for reads for a list: for one request's page,
    read with the request itself."""
    if not _arrays_of_rows():
        return queryset
    return queryset.annotate(
        requester_declines=ArraySubquery(
            Decision.objects.filter(
                kind=Decision.Kind.DECLINE,
                promotion_request__employee_id=OuterRef("employee_id"),
                promotion_request__requester_key=OuterRef("requester_key"),
            ).values(
                json=JSONObject(
                    request="promotion_request_id",
                    title="promotion_request__promoted_item",
                    decided_at="decided_at",
                )
            )
        )
    )


def _requester_declines(promotion_request: PromotionRequest) -> Declines:
    """The declines with_requester_declines read with the request, as declines_for
    returns them."""
    if not hasattr(promotion_request, "requester_declines"):
        return declines_for([promotion_request])
    return Declines.from_rows(
        (
            promotion_request.employee_id,
            promotion_request.requester_key,
            row["request"],
            row["title"],
            datetime.fromisoformat(row["decided_at"]),
        )
        for row in promotion_request.requester_declines
    )


ACCOUNT_KINDS = (TimelineEvent.Kind.ACCOUNT_LINKED, TimelineEvent.Kind.ACCOUNT_CHANGED)


def account_declarations(employee_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each account's dated boundary declarations ({account: [{"at", "boundary"}, …]}, in
    chain order), from the owners' timelines, in one query: which boundary was in force
    when a request was made is read from the record, not from the account's row."""
    return _declarations(
        TimelineEvent.objects.filter(employee_id__in=set(employee_ids), kind__in=ACCOUNT_KINDS)
        .order_by("employee_id", "seq")
        .values_list("payload__account", "payload__boundary", "occurred_at")
    )


def _declarations(rows: Iterable[tuple[Any, Any, datetime]]) -> dict[int, list[dict[str, Any]]]:
    """(account, boundary, occurred_at) rows in chain order, as account_declarations
    returns them."""
    declarations: dict[int, list[dict[str, Any]]] = {}
    for account, boundary, occurred_at in rows:
        declarations.setdefault(account, []).append(
            {"at": chain.utc_iso(occurred_at), "boundary": boundary}
        )
    return declarations


@dataclass(frozen=True)
class RequestEvents:
    """What a request's page reads of the employee's timeline."""

    # The request's own events, in the order things happened, to the minute as pages
    # show times; events in the same minute in chain order (seq, shown on each entry).
    timeline: list[TimelineEvent]
    # Her shares and stops that covered it (of it, or of all she logged), in chain order.
    sharing: list[TimelineEvent]
    # Her accounts' declarations, as account_declarations returns them.
    declarations: dict[int, list[dict[str, Any]]]


def shares_naming(*, employee_id: int, pk: int) -> Q:
    """Her shares and stops that name request `pk` (employee-level events whose payload
    lists the requests they cover)."""
    sharing = Q(
        employee_id=employee_id, promotion_request__isnull=True, kind__in=chain.SHARING_KINDS
    )
    if connection.features.supports_json_field_contains:
        return sharing & Q(payload__requests__contains=[pk])
    # SQLite (`make run`) cannot look inside a JSON list: they are picked out here.
    events = TimelineEvent.objects.filter(sharing).only("payload")
    return Q(pk__in=[event.pk for event in events if pk in event.payload.get("requests", [])])


def request_events(promotion_request: PromotionRequest) -> RequestEvents:
    """The request's events, the shares that covered it and her accounts' declarations,
    in one query (a long timeline is one read, not three)."""
    pk, employee_id = promotion_request.pk, promotion_request.employee_id
    events = list(
        TimelineEvent.objects.filter(
            Q(promotion_request_id=pk)
            | shares_naming(employee_id=employee_id, pk=pk)
            | Q(employee_id=employee_id, kind__in=ACCOUNT_KINDS)
        )
        .select_related("actor")
        .defer("salt", "field_salts")
        .order_by("seq")
    )
    own = [event for event in events if event.promotion_request_id == pk]
    return RequestEvents(
        timeline=sorted(own, key=lambda event: (to_minute(event.occurred_at), event.seq)),
        sharing=[event for event in events if event.kind in chain.SHARING_KINDS],
        declarations=_declarations(
            (event.payload.get("account"), event.payload.get("boundary"), event.occurred_at)
            for event in events
            if event.kind in ACCOUNT_KINDS
        ),
    )


def request_facts(
    promotion_request: PromotionRequest, declarations: dict[int, list[dict[str, Any]]]
) -> dict[str, Any]:
    """The request as flags.py reads it, from its table rows (its targets, decisions and
    follow-ups annotated by with_flag_data, or else read through its relations) and its
    accounts' declarations; exports read the same from the chain."""
    occurred_at = chain.utc_iso(promotion_request.occurred_at)
    targets, decisions, follow_ups = _related_facts(promotion_request)
    return {
        "id": promotion_request.pk,
        "employee": promotion_request.employee_id,
        "title": promotion_request.promoted_item,
        "requester_key": promotion_request.requester_key,
        "occurred_at": occurred_at,
        "deadline": chain.utc_iso(promotion_request.deadline)
        if promotion_request.deadline
        else None,
        "framing": promotion_request.framing,
        "compensation_offered": promotion_request.compensation_offered,
        "targets": as_declared(targets, declarations, occurred_at),
        "decisions": [
            {**decision, "decided_at": _chain_time(decision["decided_at"])}
            for decision in decisions
        ],
        "follow_ups": [
            {**follow_up, "occurred_at": _chain_time(follow_up["occurred_at"])}
            for follow_up in follow_ups
        ],
    }


def _chain_time(value: datetime | str) -> str:
    """A time from a row (a datetime) or from with_flag_data's JSON (ISO text), as the
    chain writes it."""
    return chain.utc_iso(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _related_facts(
    promotion_request: PromotionRequest,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Its targets, decisions and follow-ups as facts: with_flag_data's annotations when
    it was read with them (lists), or else its relations (prefetched for one page)."""
    annotated = getattr(promotion_request, "target_facts", None)
    if annotated is not None:
        return (
            annotated,
            promotion_request.decision_facts,  # type: ignore[attr-defined]
            promotion_request.follow_up_facts,  # type: ignore[attr-defined]
        )
    targets = [
        {
            "account": target.account_id,
            "platform": target.account.platform,
            "handle": target.account.handle,
            "boundary": target.boundary_at_request,
        }
        for target in promotion_request.targets.all()
    ]
    decisions = [
        {"kind": decision.kind, "decided_at": decision.decided_at}
        for decision in promotion_request.decisions.all()
    ]
    follow_ups = [
        {
            "follow_up": follow_up.pk,
            "kind": follow_up.kind,
            "occurred_at": follow_up.occurred_at,
            "what_was_said": follow_up.what_was_said,
        }
        for follow_up in promotion_request.follow_ups.all()
    ]
    return targets, decisions, follow_ups


def flagged(requests: Iterable[PromotionRequest]) -> list[tuple[PromotionRequest, RequestFlags]]:
    """Each request with its flags (read with with_flag_data); several lists at once
    cost the same two queries as one."""
    requests = list(requests)
    declines = declines_for(requests)
    declarations = account_declarations(item.employee_id for item in requests) if requests else {}
    return [
        (item, request_flags(request_facts(item, declarations), declines=declines))
        for item in requests
    ]


def later_asks_from_the_same_person(
    promotion_request: PromotionRequest,
) -> QuerySet[PromotionRequest]:
    """The employee's other requests from whoever asked this one, asked after it."""
    return (
        PromotionRequest.objects.filter(
            employee_id=promotion_request.employee_id,
            requester_key=promotion_request.requester_key,
            occurred_at__gte=promotion_request.occurred_at,
        )
        .exclude(pk=promotion_request.pk)
        .only("pk", "promoted_item", "occurred_at")
    )


def later_asks_facts(promotion_request: PromotionRequest) -> list[dict[str, Any]]:
    """later_asks_from_the_same_person, as flags.dated_before_a_decline reads them."""
    return [
        {"id": ask.pk, "title": ask.promoted_item, "occurred_at": chain.utc_iso(ask.occurred_at)}
        for ask in later_asks_from_the_same_person(promotion_request)
    ]


def flags_of(
    promotion_request: PromotionRequest,
    *,
    declarations: dict[int, list[dict[str, Any]]] | None = None,
) -> RequestFlags:
    """One request's flags. A request read by promotion_request_get carries its
    requester's declines, and its page passes her accounts' declarations (request_events)."""
    if declarations is None:
        return flagged([promotion_request])[0][1]
    facts = request_facts(promotion_request, declarations)
    return request_flags(facts, declines=_requester_declines(promotion_request))


def promotion_request_list_pending(
    *, viewer: User, limit: int
) -> tuple[list[PromotionRequest], int]:
    """The `limit` requests due soonest of those still waiting for the employee's answer
    (read with with_flag_data), and how many wait in all: one query, the count riding on
    each row."""
    rows = list(
        with_flag_data(
            access.own_promotion_requests(viewer)
            .filter(status__in=PromotionRequest.OPEN_STATUSES)
            .only(*LISTED_FIELDS)
            .annotate(open_total=Window(Count("id")))
            .order_by("deadline", "-occurred_at", "-id")
        )[:limit]
    )
    return rows, rows[0].open_total if rows else 0  # type: ignore[attr-defined]


def promotion_request_list(*, viewer: User, filters: dict) -> QuerySet[PromotionRequest]:
    """The employee's requests narrowed by the dashboard's filters (all optional); a page
    of it with its flags' data: promotion_request_page."""
    queryset = access.own_promotion_requests(viewer)
    if filters.get("q"):
        words = filters["q"]
        queryset = queryset.filter(
            Q(promoted_item__icontains=words)
            | Q(requester_name__icontains=words)
            | Q(words_used__icontains=words)
            | Q(setting__icontains=words)
            | Q(notes__icontains=words)
            | Q(witnesses__icontains=words)
        )
    if filters.get("status") == OPEN:
        queryset = queryset.filter(status__in=PromotionRequest.OPEN_STATUSES)
    elif filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("requester"):
        queryset = queryset.filter(requester_key=filters["requester"])
    if filters.get("framing"):
        queryset = queryset.filter(framing=filters["framing"])
    if filters.get("platform"):
        queryset = queryset.filter(
            pk__in=RequestTarget.objects.filter(account__platform=filters["platform"]).values(
                "promotion_request_id"
            )
        )
    zone = timezone.get_current_timezone()
    if filters.get("date_from"):
        queryset = queryset.filter(
            occurred_at__gte=datetime.combine(filters["date_from"], time.min, tzinfo=zone)
        )
    if filters.get("date_to"):
        queryset = queryset.filter(
            occurred_at__lte=datetime.combine(filters["date_to"], time.max, tzinfo=zone)
        )
    return queryset.order_by("-occurred_at", "-id")


def promotion_request_page(
    *, viewer: User, filters: dict, number: str | int | None, per_page: int
) -> Page:
    """A page of promotion_request_list, its rows read with with_flag_data: only that
    page's, since annotating the list itself would have PostgreSQL build the facts of
    every row that OFFSET skips as well."""
    queryset = promotion_request_list(viewer=viewer, filters=filters)
    page = Paginator(queryset, per_page).get_page(number)
    shown = cast(QuerySet[PromotionRequest], page.object_list)  # the slice, not yet read
    page.object_list = list(
        with_flag_data(
            PromotionRequest.objects.filter(pk__in=shown.values("pk")).only(*LISTED_FIELDS)
        ).order_by(*queryset.query.order_by)
    )
    return page


def requester_choices(*, viewer: User) -> list[tuple[str, str]]:
    """Everyone who has asked this employee, for the dashboard's filter."""
    rows = (
        access.own_promotion_requests(viewer)
        .order_by()
        .values_list("requester_key", "requester_name")
        .distinct()
    )
    return sorted(dict(rows).items(), key=lambda item: item[1].casefold())


def timeline_recent_and_sharing(
    *, viewer: User, recent: int = 8, sharing: int = 6
) -> tuple[list[TimelineEvent], list[TimelineEvent]]:
    """Her newest events, and her newest shares, stops and HR reads (what she reads back
    about HR), in one query: the events in either newest-first slice."""
    own = TimelineEvent.objects.filter(employee_id=viewer.pk).order_by("-seq")
    sharing_kinds = [*sorted(chain.SHARING_KINDS), TimelineEvent.Kind.VIEWED_BY_HR]
    # The two slices' ids as one UNION, fetched by primary key: an OR of two IN tests
    # makes PostgreSQL test every event against both (all 4,000,000 of them without
    # the employee filter: 10 s; her 19,000 with it: 17 ms; this: under 1 ms).
    newest = own.values("pk")[:recent]
    shares = own.filter(kind__in=sharing_kinds).values("pk")[:sharing]
    if connection.features.supports_slicing_ordering_in_compound:
        ids: Any = newest.union(shares, all=True)
    else:  # SQLite (`make run`): two small reads instead
        ids = [*newest.values_list("pk", flat=True), *shares.values_list("pk", flat=True)]
    events = list(
        TimelineEvent.objects.filter(pk__in=ids)
        .select_related("promotion_request")
        .only(
            "seq",
            "kind",
            "occurred_at",
            "recorded_at",
            "payload",
            "promotion_request__id",
            "promotion_request__number",
            "promotion_request__promoted_item",
        )
        .order_by("-seq")
    )
    return events[:recent], [event for event in events if event.kind in sharing_kinds][:sharing]


def promotion_request_get(*, viewer: User, pk: int) -> PromotionRequest:
    """The request with everything its page shows but its events (request_events); 404
    unless it is on the viewer's record."""
    queryset = access.own_promotion_requests(viewer).prefetch_related(
        TARGETS_WITH_ACCOUNTS,
        Prefetch("follow_ups", queryset=FollowUp.objects.order_by("occurred_at", "id")),
        Prefetch(
            "decisions",
            queryset=Decision.objects.select_related("decided_by").prefetch_related("accounts"),
        ),
        Prefetch("evidence", queryset=Evidence.objects.order_by("uploaded_at", "id")),
        Prefetch(
            "reminders",
            queryset=Reminder.objects.exclude(state=Reminder.State.CANCELLED).order_by("due_at"),
        ),
    )
    return access.get_or_404(
        with_requester_declines(queryset.select_related("requester_user", "employee")), pk=pk
    )


def checkpoints_of(*, viewer: User) -> QuerySet[Checkpoint]:
    """The viewer's receipts, newest first, with their timestamps."""
    return (
        access.checkpoints_for(viewer)
        .prefetch_related(
            Prefetch(
                "timestamps", queryset=Timestamp.objects.defer("response").order_by("stamped_at")
            )
        )
        .order_by("-issued_at", "-id")
    )


def receipt_address_of(*, viewer: User) -> ReceiptAddress | None:
    """Where the viewer has her receipts sent, if anywhere."""
    return access.receipt_addresses_for(viewer).first()


def evidence_get(*, viewer: User, pk: int) -> Evidence:
    return access.get_or_404(access.evidence_for(viewer).select_related("promotion_request"), pk=pk)


def promotion_requests_disclosure_pending(
    queryset: QuerySet[PromotionRequest],
) -> QuerySet[PromotionRequest]:
    """Of these requests (start from a viewer's access queryset), those accepted whose
    disclosure proof is still missing for an account: the projection column the services
    keep (flags.disclosure_pending_accounts over the chain; verify_chain checks it), so a
    count is one indexed query."""
    return queryset.filter(disclosure_pending=True, status=PromotionRequest.Status.ACCEPTED)


def disclosure_checklists(
    promotion_request: PromotionRequest, latest_decision: Decision | None
) -> list[dict[str, Any]]:
    """Once she has accepted: for each account she accepted for, the checklist
    (disclosure.checklist_for, by platform, format and where she works), the proofs she
    recorded and whether it still needs one. Empty unless the answer in force accepts."""
    if (
        latest_decision is None
        or latest_decision.kind != Decision.Kind.ACCEPT
        or promotion_request.status != PromotionRequest.Status.ACCEPTED
    ):
        return []
    proofs: dict[int, list[DisclosureProof]] = {}
    for proof in promotion_request.disclosure_proofs.select_related("evidence"):
        proofs.setdefault(proof.account_id, []).append(proof)
    country = str(promotion_request.employee.work_country or "")
    return [
        {
            "account": account,
            "items": disclosure.checklist_for(
                platform=account.platform,
                content_format=promotion_request.content_format,
                work_country=country,
            ),
            "proofs": proofs.get(account.pk, []),
        }
        for account in latest_decision.accounts.all()
    ]


def rights_notes_for(
    promotion_request: PromotionRequest, latest_decision: Decision | None
) -> list[rights.Note]:
    """The rights notes her request page shows: by where she works, how it was framed and,
    once she accepts, the platforms she accepted for."""
    employee = promotion_request.employee
    accepted = latest_decision is not None and latest_decision.kind == Decision.Kind.ACCEPT
    return rights.notes_for_request(
        work_country=str(employee.work_country or ""),
        work_state=str(employee.work_state or ""),
        framing=promotion_request.framing,
        platforms=[account.platform for account in latest_decision.accounts.all()]
        if accepted and latest_decision is not None
        else [],
        accepted=accepted,
    )
