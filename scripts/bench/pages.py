"""The pages `make bench` measures, who opens each, and each page's targets (issue 14)."""

from dataclasses import dataclass
from urllib.parse import quote

from config import FRAME_PATH
from personas import Cast

# Targets: a page's requests per second as a share of its floor's, and for some pages
# the median latency on one connection.
EMPLOYEE_RATIO = 0.25
HR_RATIO = 0.20


@dataclass(frozen=True)
class Page:
    name: str  # also the floor's path: /<name>
    label: str
    user: int  # who opens it
    path: str
    min_ratio: float
    max_p50_ms: float | None = None
    # Measured to read the others by, with no target of its own.
    reference: bool = False

    @property
    def target(self) -> str:
        if self.reference:
            return "none: a reference"
        target = f"≥ {self.min_ratio:.2f}"
        if self.max_p50_ms is not None:
            target += f", p50 < {self.max_p50_ms:.0f} ms"
        return target


def pages_of(cast: Cast) -> list[Page]:
    search = f"/my-record/?q={quote(cast.search)}"
    # The frame every page is drawn in (Django's handling of a signed-in request and
    # base.html) around nothing (preloaded.py). A page's ratio mixes the frame's with its
    # content's: a page passes the frame's only if its content does better still, as
    # content whose own SQL is heavy does.
    pages = [
        Page(
            "frame",
            "reference: an empty page in the frame",
            cast.employee,
            FRAME_PATH,
            0.0,
            reference=True,
        )
    ]
    for who, user, heavy in (("employee", cast.employee, False), ("heavy", cast.heavy, True)):
        pages += [
            Page(
                f"{who}-dashboard",
                f"{who}: dashboard",
                user,
                "/my-record/",
                EMPLOYEE_RATIO,
                50 if heavy else None,
            ),
            Page(f"{who}-search", f"{who}: requests, text search", user, search, EMPLOYEE_RATIO),
        ]
        if heavy:  # a typical employee's record has one page
            pages.append(
                Page(
                    f"{who}-page-40",
                    f"{who}: requests, page 40",
                    user,
                    "/my-record/?page=40",
                    EMPLOYEE_RATIO,
                )
            )
        pages += [
            Page(f"{who}-accounts", f"{who}: accounts", user, "/me/accounts/", EMPLOYEE_RATIO),
            Page(f"{who}-exports", f"{who}: exports", user, "/exports/", EMPLOYEE_RATIO),
            Page(
                f"{who}-notifications",
                f"{who}: notifications",
                user,
                "/notifications/",
                EMPLOYEE_RATIO,
            ),
        ]
    return [
        *pages,
        Page(
            "long-request",
            "request page, longest timeline",
            cast.long_request_owner,
            f"/requests/{cast.long_request}/",
            EMPLOYEE_RATIO,
        ),
        Page("manager-filed", "manager: filed requests", cast.manager, "/team/", EMPLOYEE_RATIO),
        Page(
            "manager-request",
            "manager: a filed request",
            cast.manager,
            f"/team/requests/{cast.filed_request}/",
            EMPLOYEE_RATIO,
        ),
        Page(
            "manager-file", "manager: file a request", cast.manager, "/team/file/", EMPLOYEE_RATIO
        ),
        # HR's frame reads its second factor's device on every request too.
        Page(
            "hr-frame",
            "reference: an empty page in HR's frame",
            cast.hr,
            FRAME_PATH,
            0.0,
            reference=True,
        ),
        Page("hr-dashboard", "HR: dashboard", cast.hr, "/hr/", HR_RATIO, 150),
        Page("hr-requests", "HR: requests", cast.hr, "/hr/requests/", HR_RATIO),
    ]


@dataclass(frozen=True)
class PlannedPage:
    """A page whose reads are planned on the big data set (plans.py) but not load-tested:
    the forms and the pages opened now and then."""

    name: str
    user: int
    path: str


def planned_pages(cast: Cast) -> list[PlannedPage]:
    long_request = f"/requests/{cast.long_request}"
    pages = [
        PlannedPage(f"{who}-{name}", user, path)
        for who, user in (("employee", cast.employee), ("heavy", cast.heavy))
        for name, path in (
            ("log-a-request", "/requests/new/"),
            ("new-export", "/exports/new/"),
            ("open-requests", "/my-record/?status=open"),
            ("profile", "/me/profile/"),
            ("new-account", "/me/accounts/new/"),
            ("receipts", "/my-record/receipts/"),
            ("close-account", "/me/close/"),
        )
    ]
    return [
        *pages,
        PlannedPage("decide", cast.long_request_owner, f"{long_request}/decide/"),
        PlannedPage("follow-up", cast.long_request_owner, f"{long_request}/follow-up/"),
        PlannedPage("hr-request", cast.hr, f"/hr/requests/{cast.filed_request}/"),
        PlannedPage("hr-pattern", cast.hr, "/hr/requests/?pattern=asked-again-after-decline"),
        PlannedPage("people-invite", cast.hr, "/people/invite/"),
    ]
