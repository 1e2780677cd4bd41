"""The patterns HR's dashboard counts: the process, never the people.

Each rule takes the requests being counted (HR's scope, filtered), so a subquery reads no
more than they are, and gives a condition on a request. hr_selectors counts with them
afresh and lists what they match; hr_counts keeps each request's answers for the dashboard.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from boundary.models import SocialAccount

from . import access
from .flags import PRESSURE_KINDS
from .models import Decision, PromotionRequest, RequestTarget

S = PromotionRequest.Status


def _asked_after_decline(scoped: QuerySet[PromotionRequest]) -> Q:
    """Asked by someone the employee had already declined (on another request HR may
    see), or pressed again on this request after her decline. Written as uncorrelated
    `pk IN (…)` joins, which PostgreSQL runs once, hashed, rather than once per row."""
    repeated = scoped.filter(
        Q(employee__promotion_requests__pk__lt=F("pk"))
        | Q(employee__promotion_requests__pk__gt=F("pk")),
        access.hr_visible_through("employee__promotion_requests"),
        employee__promotion_requests__requester_key=F("requester_key"),
        employee__promotion_requests__decisions__kind=Decision.Kind.DECLINE,
        employee__promotion_requests__decisions__decided_at__lte=F("occurred_at"),
    )
    pressed = scoped.filter(
        follow_ups__kind__in=PRESSURE_KINDS,
        decisions__kind=Decision.Kind.DECLINE,
        decisions__decided_at__lte=F("follow_ups__occurred_at"),
    )
    return Q(pk__in=repeated.values("pk")) | Q(pk__in=pressed.values("pk"))


def _closed_account(scoped: QuerySet[PromotionRequest]) -> Q:
    """A chosen account was closed when asked. Only the targets of `scoped`: one
    employee's recount (hr_counts) reads hers, not the 200,000 closed ones of everyone."""
    return Q(
        pk__in=RequestTarget.objects.filter(
            boundary_at_request=SocialAccount.Boundary.CLOSED,
            promotion_request__in=scoped.values("pk"),
        ).values("promotion_request_id")
    )


def _forced_framing(scoped: QuerySet[PromotionRequest]) -> Q:
    return Q(framing__in=[PromotionRequest.Framing.REQUIRED, PromotionRequest.Framing.CONSEQUENCES])


def _disclosure_pending(scoped: QuerySet[PromotionRequest]) -> Q:
    """Accepted, and an accepted account still has no disclosure proof (kept on the row
    by the disclosure services)."""
    return Q(status=S.ACCEPTED, disclosure_pending=True)


@dataclass(frozen=True)
class Pattern:
    key: str
    label: str
    why: str

    @property
    def field(self) -> str:
        """The key as a name in Python and SQL ("asked_after_decline"): HrCountedRequest's
        field, and the suffix of the columns that count or export the pattern."""
        return self.key.replace("-", "_")


PATTERNS = (
    Pattern(
        "asked-after-decline",
        "Asked again after a decline",
        "The same person asked again after a no, or pressed on after it.",
    ),
    Pattern(
        "closed-account",
        "Targeted an account closed to employer content",
        "The employee had marked a chosen account closed to employer content.",
    ),
    Pattern(
        "required",
        "Framed as required or with consequences",
        "Consent is not freely given when saying no is not an option.",
    ),
    Pattern(
        "disclosure-pending",
        "Accepted, disclosure proof pending",
        "Accepted, but a post's disclosure is not yet proven for every account.",
    ),
)
# Each takes the requests being counted (HR's scope, filtered), so a subquery reads no
# more than they are.
PATTERN_FILTERS: dict[str, Callable[[QuerySet[PromotionRequest]], Q]] = {
    "asked-after-decline": _asked_after_decline,
    "closed-account": _closed_account,
    "required": _forced_framing,
    "disclosure-pending": _disclosure_pending,
}
