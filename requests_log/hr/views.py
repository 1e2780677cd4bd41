"""HR's pages: interface only. Scopes come from access, reads from hr_selectors, the
writes (HR's reads and exports, on the employees' chains) from sharing."""

import hashlib
from functools import partial

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from boundary.http import AuthenticatedHttpRequest

from .. import access, charts, hr_selectors, sharing
from ..exports import hrcsv
from .forms import HrFilterForm

PAGE_SIZE = 25


def _refuse_unless_hr(request: AuthenticatedHttpRequest) -> None:
    """For anyone but HR these pages are the same 404 as any page that is not theirs."""
    if not access.is_hr(request.user):
        raise Http404("Not found.")


def _filter_form(
    request: AuthenticatedHttpRequest, data: QueryDict | None, version: int | None
) -> HrFilterForm:
    """HR's filters on `data`, their departments kept in the cache under the counts'
    `version` (hr_counts_version): read afresh, they take a pass over every request HR
    may see."""
    departments = hr_selectors.department_choices(viewer=request.user, version=version)
    return HrFilterForm(data, departments=departments)


@login_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Counts by department and month, and the patterns: aggregates only, no names, and
    opening it appends nothing to anyone's record."""
    _refuse_unless_hr(request)
    # Read once, so the form's departments and the counts come from the same state.
    version = hr_selectors.hr_counts_version()
    form = _filter_form(request, request.GET or None, version)
    filters = form.filters()
    board = hr_selectors.hr_dashboard(viewer=request.user, filters=filters, version=version)
    return render(
        request,
        "requests_log/hr/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "query": form.query(),
            "board": board,
            "counts": hr_selectors.COUNTS,
            # Drawn only when the page's kept drawing of these numbers is missing (the
            # template calls them).
            "month_chart": partial(charts.column_chart, "Requests by month", board.by_month),
            "department_chart": partial(
                charts.row_chart, "Requests by department", board.by_department
            ),
        },
    )


@login_required
@require_GET
def request_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The requests behind a pattern or a count, in the dashboard's filters."""
    _refuse_unless_hr(request)
    form = _filter_form(request, request.GET or None, hr_selectors.hr_counts_version())
    pattern, status = form.chosen("pattern"), form.chosen("status")
    requests = hr_selectors.hr_request_list(
        viewer=request.user, filters=form.filters(), pattern=pattern, status=status
    )
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    patterns = {item.key: item for item in hr_selectors.PATTERNS}
    return render(
        request,
        "requests_log/hr/request_list.html",
        {
            "form": form,
            "page_obj": page,
            "pattern": patterns.get(pattern),
            "status_label": dict(hr_selectors.COUNTS).get(status, ""),
        },
    )


@login_required
@require_GET
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A filed or shared request as HR reads it. Opening it is on the employee's record
    ("viewed by HR"), once per HR user, request and day."""
    _refuse_unless_hr(request)
    sharing.hr_view_record(viewer=request.user, promotion_request_id=pk)
    return render(
        request,
        "requests_log/hr/request_detail.html",
        {"item": hr_selectors.hr_request_get(viewer=request.user, pk=pk)},
    )


@login_required
@require_POST
def export_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The dashboard's filtered requests as CSV: recorded (HrExport), and each request in
    it marked on its employee's chain as read by HR."""
    _refuse_unless_hr(request)
    form = _filter_form(request, request.POST, hr_selectors.hr_counts_version())
    if not form.is_valid():
        return redirect("hr:dashboard")
    filters = form.filters()
    rows = list(hr_selectors.hr_export_rows(viewer=request.user, filters=filters))
    body = "".join(hrcsv.hr_csv_lines(rows)).encode("utf-8-sig")
    sharing.hr_export_record(
        viewer=request.user,
        request_ids=[row["pk"] for row in rows],
        sha256=hashlib.sha256(body).hexdigest(),
        department=filters.department,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = hrcsv.filename(timezone.localdate())
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
