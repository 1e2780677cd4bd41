from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from boundary.http import AuthenticatedHttpRequest

from .. import access, services
from . import selectors
from .forms import FilingForm, ReportSearchForm

PAGE_SIZE = 25


def _refuse_unless_filer(request: AuthenticatedHttpRequest) -> None:
    """The team pages exist for people who may file (managers, HR, admins): for anyone
    else they are the same 404 as any page that is not theirs."""
    if request.user.role not in access.FILING_ROLES:
        raise Http404("Not found.")


@login_required
@require_GET
def filed_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The requests the manager filed: status, the answer's kind, whether they opened it."""
    _refuse_unless_filer(request)
    page = Paginator(selectors.filed_request_list(viewer=request.user), PAGE_SIZE)
    return render(
        request,
        "requests_log/manager/filed_list.html",
        {"page_obj": page.get_page(request.GET.get("page"))},
    )


@login_required
@require_GET
def file_choose(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Whom to ask: the manager's own reports, and nobody else."""
    _refuse_unless_filer(request)
    search_form = ReportSearchForm(request.GET or None)
    reports = selectors.reports_to_ask(viewer=request.user, search=search_form.search())
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "requests_log/manager/file_choose.html",
        {"search_form": search_form, "page_obj": page, "reports": page.object_list},
    )


@login_required
def file_create(request: AuthenticatedHttpRequest, employee_pk: int) -> HttpResponse:
    employee = access.get_or_404(access.reports_of(request.user), pk=employee_pk)
    form = FilingForm(request.POST or None, employee=employee)
    if request.method == "POST" and form.is_valid():
        promotion_request = services.promotion_request_file(
            manager=request.user, employee=employee, **form.filing_details()
        )
        messages.success(request, f"Sent to {employee.display_name}. You will see the answer here.")
        return redirect("manager:filed-detail", pk=promotion_request.pk)
    return render(
        request,
        "requests_log/manager/file_form.html",
        {
            "form": form,
            "employee": employee,
            "earlier_decline": selectors.earlier_decline_to(viewer=request.user, employee=employee),
        },
    )


@login_required
@require_GET
def filed_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The request as filed and the answer meant for the manager. Opening an answer not yet
    seen records it on the employee's chain (proof of delivery), once."""
    filed = selectors.filed_request_get(viewer=request.user, pk=pk)
    seen_now = False
    if filed.answer is not None and filed.answer.seen_at is None:
        seen_now = (
            services.decision_mark_seen(decision_id=filed.answer.pk, viewer=request.user)
            is not None
        )
    return render(
        request, "requests_log/manager/filed_detail.html", {"filed": filed, "seen_now": seen_now}
    )


@login_required
@require_POST
def filed_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(
        access.promotion_requests_filed_by(request.user).only(
            "pk", "status", "source", "filed_by_id"
        ),
        pk=pk,
    )
    try:
        services.promotion_request_withdraw_filed(
            promotion_request=promotion_request, manager=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Withdrawn. The employee's record shows it.")
    return redirect("manager:filed-detail", pk=pk)
