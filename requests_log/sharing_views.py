"""The employee shares her self-logged requests with HR, or stops: buttons that post
here, each one chained event (requests_log.sharing)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from boundary.http import AuthenticatedHttpRequest

from . import access, sharing


@login_required
@require_POST
def request_share(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    if not access.can_share(request.user, promotion_request):
        messages.info(request, "HR sees what was filed in Boundary from the start.")
    elif sharing.promotion_requests_share(employee=request.user, request_pks=[pk]):
        messages.success(request, "Shared with HR. You can stop sharing at any time.")
    else:
        messages.info(request, "This request is already shared with HR.")
    return redirect(f"{promotion_request.get_absolute_url()}#sharing")


@login_required
@require_POST
def request_share_stop(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    if access.can_share(request.user, promotion_request) and sharing.promotion_requests_share_stop(
        employee=request.user, request_pks=[pk]
    ):
        messages.success(
            request,
            "Sharing stopped. HR no longer sees this request; "
            "what HR read before stays on your timeline.",
        )
    else:
        messages.info(request, "This request was not shared with HR.")
    return redirect(f"{promotion_request.get_absolute_url()}#sharing")


@login_required
@require_POST
def share_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    event = sharing.promotion_requests_share(employee=request.user)
    if event:
        count = len(event.payload["requests"])
        messages.success(request, f"Shared {count} request{'s' if count != 1 else ''} with HR.")
    else:
        messages.info(request, "Every request you logged is already shared with HR.")
    return redirect(f"{reverse('requests_log:my-record')}#sharing")


@login_required
@require_POST
def share_stop_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    event = sharing.promotion_requests_share_stop(employee=request.user)
    if event:
        messages.success(request, "Sharing stopped. HR no longer sees the requests you logged.")
    else:
        messages.info(request, "None of your requests was shared with HR.")
    return redirect(f"{reverse('requests_log:my-record')}#sharing")
