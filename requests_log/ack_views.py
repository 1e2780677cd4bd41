"""Acknowledgement links: a requester outside Boundary confirms the employee's answer
arrived. The public page takes no login and, on GET, changes nothing (mail scanners
open links); only its button (POST) appends the "acknowledged" event."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from boundary.http import AuthenticatedHttpRequest

from . import access, services

# The link just made, kept in the session until the request page shows it once: only
# its SHA-256 is stored, so it cannot be shown again.
SESSION_KEY = "acknowledgement_link"


@login_required
@require_POST
def acknowledgement_link_create(
    request: AuthenticatedHttpRequest, pk: int, decision_pk: int
) -> HttpResponse:
    decision = access.get_or_404(
        access.decisions_for(request.user).select_related("promotion_request"),
        pk=decision_pk,
        promotion_request_id=pk,
    )
    token = services.acknowledgement_link_create(decision=decision, actor=request.user)
    url = settings.SITE_URL.rstrip("/") + reverse("requests_log:acknowledge", args=[token])
    request.session[SESSION_KEY] = {"decision": decision.pk, "url": url}
    messages.success(
        request,
        "Link added to your reply below. Copy it now: Boundary keeps only its fingerprint, "
        "so it cannot show the link again.",
    )
    return redirect(f"{decision.promotion_request.get_absolute_url()}#reply")


def pop_acknowledgement_url(request: HttpRequest, decision_pk: int) -> str:
    """The link made for this decision a moment ago, once."""
    made = request.session.get(SESSION_KEY)
    if not made or made.get("decision") != decision_pk:
        return ""
    del request.session[SESSION_KEY]
    return str(made.get("url", ""))


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the question. POST: the answer, once. Used, expired and unknown links all
    get the same page (400, as a receipt address's spent link), so a link says nothing
    about which it is."""
    link = services.acknowledgement_link_valid(token)
    if link is None:
        return render(request, "requests_log/acknowledge_invalid.html", status=400)
    if request.method == "POST":
        if services.acknowledgement_confirm(token=token) is None:
            return render(request, "requests_log/acknowledge_invalid.html", status=400)
        return render(request, "requests_log/acknowledge_done.html")
    employee_name = link.decision.promotion_request.employee.display_name
    return render(
        request,
        "requests_log/acknowledge.html",
        {"first_name": (employee_name.split() or ["the employee"])[0]},
    )
