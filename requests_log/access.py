"""Who may see and do what: the one place.

Each `…_for(viewer)` function returns everything of one model the viewer may see, as a
queryset, so that lists, counts and lookups all start from it and a count can never
include what the viewer may not see. Actions are plain predicates (`can_decide`,
`can_file_for`, …) over objects already fetched through those querysets.

What a role may see *of* an object is a projection, chosen by the selector that builds
the page (a manager's selectors never load the employee's notes or reasons): templates
never decide visibility.

Refusals are boring on purpose: `get_or_404` raises the same Http404 for "missing" and
"not yours", and the 404 page does not show its message, so the two cannot be told
apart.
"""

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from boundary.models import SocialAccount, User
from boundary.selectors import social_accounts_in_use

from .models import (
    Checkpoint,
    Decision,
    Evidence,
    Export,
    HrCountedRequest,
    Notification,
    PromotionRequest,
    ReceiptAddress,
)

ModelT = TypeVar("ModelT", bound=Model)

# Roles that may file requests to their reports in the app.
FILING_ROLES = (User.Role.MANAGER, User.Role.HR, User.Role.ADMIN)


def get_or_404(queryset: QuerySet[ModelT], **lookup: object) -> ModelT:
    """The one object of `queryset` matching `lookup`, or the same 404 whether it does
    not exist or is outside the viewer's scope (the queryset is already scoped)."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None


# --- What a viewer may see ------------------------------------------------------------


def own_promotion_requests(viewer: User) -> QuerySet[PromotionRequest]:
    """The requests on the viewer's own record: every field, to its owner only."""
    return PromotionRequest.objects.filter(employee_id=viewer.pk)


def promotion_requests_filed_by(viewer: User) -> QuerySet[PromotionRequest]:
    """The requests the viewer filed in Boundary to one of their reports. Managers see
    these through manager.selectors, which load only what a requester may read."""
    return PromotionRequest.objects.filter(
        filed_by_id=viewer.pk, source=PromotionRequest.Source.FILED_IN_APP
    )


def hr_visible() -> Q:
    """What HR may see of anyone's record: requests filed in Boundary (from the start)
    and those their employee shares now (`shared_with_hr_at`, the sharing services'
    cache of the chain's share and stop events). A self-logged request never shared, or
    no longer shared, is in no HR page, list, count or chart."""
    return hr_visible_through("")


def hr_visible_through(relation: str) -> Q:
    """hr_visible, for rows related to a request (`relation`: "promotion_request")."""
    prefix = f"{relation}__" if relation else ""
    return Q(**{f"{prefix}source": PromotionRequest.Source.FILED_IN_APP}) | Q(
        **{f"{prefix}shared_with_hr_at__isnull": False}
    )


def is_hr(viewer: User) -> bool:
    """HR pages are for HR alone: admins manage people and roles, not the record."""
    return viewer.is_authenticated and viewer.role == User.Role.HR


def promotion_requests_for_hr(viewer: User) -> QuerySet[PromotionRequest]:
    """The requests HR may see (hr_visible); nothing for anyone else. HR reads them only
    through hr_selectors' projection."""
    if not is_hr(viewer):
        return PromotionRequest.objects.none()
    return PromotionRequest.objects.filter(hr_visible())


def hr_counted_requests_for(viewer: User) -> QuerySet[HrCountedRequest]:
    """What HR's dashboard counts (hr_counts keeps a row for each request hr_visible and
    no other); nothing for anyone else."""
    if not is_hr(viewer):
        return HrCountedRequest.objects.none()
    return HrCountedRequest.objects.all()


def hr_counted_departments(viewer: User) -> list[str]:
    """The departments among hr_counted_requests_for(viewer), sorted; none for anyone
    but HR. A loose index scan (one probe of the department index per department, which
    the ORM cannot write): 0.4 ms, where DISTINCT over 160,000 rows takes 25 ms."""
    if not is_hr(viewer):
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE found (department) AS (
                (SELECT department FROM requests_log_hrcountedrequest
                 ORDER BY department LIMIT 1)
                UNION ALL
                SELECT (SELECT department FROM requests_log_hrcountedrequest
                        WHERE department > found.department ORDER BY department LIMIT 1)
                FROM found WHERE found.department IS NOT NULL
            )
            SELECT department FROM found WHERE department IS NOT NULL
            """
        )
        return [department for (department,) in cursor.fetchall()]


def promotion_requests_for(viewer: User) -> QuerySet[PromotionRequest]:
    """Every request the viewer may see in any projection: their own, those they filed,
    and for HR what is filed or shared."""
    scope = Q(employee_id=viewer.pk) | Q(
        filed_by_id=viewer.pk, source=PromotionRequest.Source.FILED_IN_APP
    )
    if is_hr(viewer):
        scope |= hr_visible()
    return PromotionRequest.objects.filter(scope)


def decisions_for(viewer: User) -> QuerySet[Decision]:
    """Decisions on the viewer's own record (a requester reads answers through
    manager.selectors, which project them)."""
    return Decision.objects.filter(promotion_request__employee_id=viewer.pk)


def evidence_for(viewer: User) -> QuerySet[Evidence]:
    """Evidence is the employee's alone: nobody else ever downloads it."""
    return Evidence.objects.filter(promotion_request__employee_id=viewer.pk)


def notifications_for(viewer: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=viewer.pk)


def social_accounts_for(viewer: User) -> QuerySet[SocialAccount]:
    """The viewer's accounts still in use (archived ones stay on the record only)."""
    return social_accounts_in_use(owner=viewer)


def exports_for(viewer: User) -> QuerySet[Export]:
    return Export.objects.filter(employee_id=viewer.pk)


def checkpoints_for(viewer: User) -> QuerySet[Checkpoint]:
    return Checkpoint.objects.filter(employee_id=viewer.pk)


def receipt_addresses_for(viewer: User) -> QuerySet[ReceiptAddress]:
    return ReceiptAddress.objects.filter(employee_id=viewer.pk)


def reports_of(viewer: User) -> QuerySet[User]:
    """The people the viewer may file requests to: their active direct reports. Set by
    an admin or HR, never by the employee."""
    if viewer.role not in FILING_ROLES:
        return User.objects.none()
    return User.objects.filter(manager_id=viewer.pk, is_active=True)


def requester_candidates(viewer: User) -> QuerySet[User]:
    """Whom the viewer may pick as "who asked": only people with a relation to her (her
    manager and theirs, and anyone who filed a request to her or was named on one), so
    the picker is no directory of the company."""
    on_her_record = own_promotion_requests(viewer).order_by()
    # One UNION of ids, each part read by an index: an OR over the people table joined
    # to itself twice made PostgreSQL walk all of it (20,000 people: 11-19 ms a query).
    # DISTINCT: a record of 2,000 requests names the same few people, and PostgreSQL,
    # told so, looks them up by key rather than scanning everyone.
    parts: list[QuerySet[Any]] = [
        on_her_record.values("filed_by").distinct(),
        on_her_record.values("requester_user").distinct(),
    ]
    if viewer.manager_id is not None:
        her_manager = User.objects.filter(pk=viewer.manager_id).order_by()
        parts += [her_manager.values("pk"), her_manager.values("manager")]
    related = parts[0].union(*parts[1:], all=True)
    return User.objects.filter(pk__in=related).exclude(pk=viewer.pk)


# --- What a viewer may do -------------------------------------------------------------


def is_owner(viewer: User, promotion_request: PromotionRequest) -> bool:
    return promotion_request.employee_id == viewer.pk


def can_decide(viewer: User, promotion_request: PromotionRequest) -> bool:
    """Only the employee answers a request (or revises her answer), until it is withdrawn."""
    return (
        is_owner(viewer, promotion_request)
        and promotion_request.status != PromotionRequest.Status.WITHDRAWN
    )


def can_correct(viewer: User, promotion_request: PromotionRequest) -> bool:
    """The employee corrects what she logged; what a manager filed is the manager's words
    and stays as filed."""
    return (
        is_owner(viewer, promotion_request)
        and promotion_request.source == PromotionRequest.Source.LOGGED_BY_EMPLOYEE
    )


def can_file_for(viewer: User, employee: User) -> bool:
    """A manager (or HR, or an admin) files requests to their own active reports only."""
    return (
        viewer.role in FILING_ROLES
        and employee.manager_id == viewer.pk
        and employee.is_active
        and employee.pk != viewer.pk
    )


def can_withdraw_filed(viewer: User, promotion_request: PromotionRequest) -> bool:
    """Whoever filed a request may withdraw it while it is still open."""
    return (
        promotion_request.source == PromotionRequest.Source.FILED_IN_APP
        and promotion_request.filed_by_id == viewer.pk
        and promotion_request.is_open
    )


def can_share(viewer: User, promotion_request: PromotionRequest) -> bool:
    """The employee shares, or stops sharing, what she logged herself; what was filed in
    Boundary is HR's to see from the start."""
    return (
        is_owner(viewer, promotion_request)
        and promotion_request.source == PromotionRequest.Source.LOGGED_BY_EMPLOYEE
    )


def can_see_answer(viewer: User, promotion_request: PromotionRequest) -> bool:
    """The manager who filed a request reads its answer (status, kind, the conditions and
    message meant for them), through manager.selectors' projection only."""
    return (
        promotion_request.source == PromotionRequest.Source.FILED_IN_APP
        and promotion_request.filed_by_id == viewer.pk
    )
