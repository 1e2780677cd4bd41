"""What a manager reads of the requests they filed: a projection, not the record.

A manager sees what they asked, its status, and the answer as meant for them: its kind,
the conditions of an acceptance, details the employee put in her reply (never a
decline's), and her message to them. These selectors never load the employee's notes,
the words or witnesses she logged, her decline reasons, follow-ups, evidence or other
requests: each query names the columns it reads (`only`, `values`), so a template or a
later change cannot show what was never fetched.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, CharField, F, OuterRef, Q, QuerySet, Subquery, Value, When

from boundary.models import SocialAccount, User

from .. import access
from ..flags import PLATFORM_LABELS
from ..models import Decision, PromotionRequest, RequestTarget, what_is_asked

# The columns of a request a manager's pages read.
REQUEST_COLUMNS = (
    "pk",
    "number",
    "employee_id",
    "employee__display_name",
    "source",
    "filed_by_id",
    "promoted_item",
    "content_format",
    "quantity",
    "deadline",
    "compensation_offered",
    "disclosure_terms",
    "status",
    "occurred_at",
)
# The columns of a decision meant for the requester; `shared_details` is added as an
# expression that reads `details` only where the employee put them in her reply and
# the answer is not a decline.
ANSWER_COLUMNS = (
    "pk",
    "kind",
    "decided_at",
    "pay",
    "disclosure_required",
    "content_approval_required",
    "ends_on",
    "message_to_requester",
    "seen_by_requester_at",
)
KIND_LABELS: dict[str, str] = dict(Decision.Kind.choices)
STATUS_LABELS: dict[str, str] = dict(PromotionRequest.Status.choices)
BOUNDARY_LABELS: dict[str, str] = dict(SocialAccount.Boundary.choices)


def _latest_answers() -> QuerySet[Decision]:
    return Decision.objects.filter(promotion_request_id=OuterRef("pk")).order_by(
        "-decided_at", "-id"
    )


def filed_request_list(*, viewer: User) -> QuerySet[PromotionRequest]:
    """The requests the viewer filed, newest first, each with its latest answer's kind and
    when the viewer first opened it: one query however many there are."""
    latest = _latest_answers()
    return (
        access.promotion_requests_filed_by(viewer)
        .select_related("employee")
        .only(*REQUEST_COLUMNS)
        .annotate(
            answer_kind=Subquery(latest.values("kind")[:1]),
            answered_at=Subquery(latest.values("decided_at")[:1]),
            answer_seen_at=Subquery(latest.values("seen_by_requester_at")[:1]),
        )
        .order_by("-occurred_at", "-id")
    )


@dataclass(frozen=True)
class Answer:
    """The employee's latest answer, as the requester may read it."""

    pk: int
    kind: str
    decided_at: datetime
    pay: str
    disclosure_required: bool
    content_approval_required: bool
    ends_on: Any
    accounts: list[str]
    shared_details: str
    message: str
    seen_at: datetime | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_accept(self) -> bool:
        return self.kind == Decision.Kind.ACCEPT


@dataclass(frozen=True)
class Target:
    label: str
    boundary: str

    @property
    def boundary_label(self) -> str:
        return BOUNDARY_LABELS.get(self.boundary, self.boundary)


@dataclass(frozen=True)
class FiledRequest:
    """A filed request as its requester sees it."""

    pk: int
    employee_name: str
    promoted_item: str
    what_summary: str
    deadline: datetime | None
    compensation_offered: str
    disclosure_terms: str
    status: str
    occurred_at: datetime
    targets: list[Target]
    answer: Answer | None
    request: PromotionRequest  # only REQUEST_COLUMNS loaded: for predicates

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def can_withdraw(self) -> bool:
        return self.request.is_open


def account_label(platform: str, handle: str) -> str:
    return f"{PLATFORM_LABELS.get(platform, platform)} @{handle}"


def filed_request_get(*, viewer: User, pk: int) -> FiledRequest:
    """One request the viewer filed, with its targets and latest answer; the same 404 for
    one that does not exist and one they did not file."""
    promotion_request = access.get_or_404(
        access.promotion_requests_filed_by(viewer)
        .select_related("employee")
        .only(*REQUEST_COLUMNS),
        pk=pk,
    )
    targets = [
        Target(account_label(platform, handle), boundary)
        for platform, handle, boundary in RequestTarget.objects.filter(
            promotion_request_id=promotion_request.pk
        )
        .order_by("account_id")
        .values_list("account__platform", "account__handle", "boundary_at_request")
    ]
    return FiledRequest(
        pk=promotion_request.pk,
        employee_name=promotion_request.employee.display_name,
        promoted_item=promotion_request.promoted_item,
        what_summary=what_is_asked(
            promotion_request.content_format,
            promotion_request.quantity,
            promotion_request.promoted_item,
        ),
        deadline=promotion_request.deadline,
        compensation_offered=promotion_request.compensation_offered,
        disclosure_terms=promotion_request.disclosure_terms,
        status=promotion_request.status,
        occurred_at=promotion_request.occurred_at,
        targets=targets,
        answer=_latest_answer(promotion_request.pk),
        request=promotion_request,
    )


def _latest_answer(request_id: int) -> Answer | None:
    row = (
        Decision.objects.filter(promotion_request_id=request_id)
        .order_by("-decided_at", "-id")
        .annotate(
            shared_details=Case(
                When(
                    Q(details_in_reply=True) & ~Q(kind=Decision.Kind.DECLINE),
                    then=F("details"),
                ),
                default=Value(""),
                output_field=CharField(),
            )
        )
        .values(*ANSWER_COLUMNS, "shared_details")
        .first()
    )
    if row is None:
        return None
    accounts: list[str] = []
    if row["kind"] == Decision.Kind.ACCEPT:
        accounts = [
            account_label(platform, handle)
            for platform, handle in SocialAccount.objects.filter(decisions__pk=row["pk"])
            .order_by("pk")
            .values_list("platform", "handle")
        ]
    return Answer(
        pk=row["pk"],
        kind=row["kind"],
        decided_at=row["decided_at"],
        pay=row["pay"],
        disclosure_required=row["disclosure_required"],
        content_approval_required=row["content_approval_required"],
        ends_on=row["ends_on"],
        accounts=accounts,
        shared_details=row["shared_details"],
        message=row["message_to_requester"],
        seen_at=row["seen_by_requester_at"],
    )


def reports_to_ask(*, viewer: User, search: str = "") -> QuerySet[User]:
    """The viewer's reports by name; with `search`, those whose name or job title holds it."""
    reports = access.reports_of(viewer).only("pk", "display_name", "job_title")
    if search:
        reports = reports.filter(Q(display_name__icontains=search) | Q(job_title__icontains=search))
    return reports.order_by("display_name", "pk")


def earlier_decline_to(*, viewer: User, employee: User) -> PromotionRequest | None:
    """The latest request the viewer filed to this employee that she declined, if any: the
    filing form says a new one is asking again (flags.py marks it so on her record and
    HR's, from the chain). Only what the viewer filed counts: what she logged herself
    is hers."""
    return (
        access.promotion_requests_filed_by(viewer)
        .filter(employee_id=employee.pk, decisions__kind=Decision.Kind.DECLINE)
        .only("pk", "promoted_item", "occurred_at")
        .order_by("-occurred_at", "-id")
        .first()
    )


def report_accounts(*, employee: User) -> QuerySet[SocialAccount]:
    """The report's accounts in use, with the boundary she set: what a filer may target
    (platform, handle and boundary only: not her followers, notes or what it is about)."""
    return (
        SocialAccount.objects.filter(owner_id=employee.pk, archived_at__isnull=True)
        .only("pk", "owner_id", "platform", "handle", "boundary", "archived_at")
        .order_by("platform", "handle")
    )
