import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from boundary.forms import ProfileForm, SocialAccountForm
from boundary.http import AuthenticatedHttpRequest

from . import (
    access,
    ack_views,
    evidence_privacy,
    personal_data,
    replies,
    selectors,
    services,
)
from .forms import (
    CorrectionForm,
    DashboardFilterForm,
    DecisionForm,
    DisclosureProofForm,
    EvidenceForm,
    FollowUpForm,
    PromotionRequestForm,
    WithdrawForm,
)

PAGE_SIZE = 25
# The dashboard lists this many of the requests waiting for her answer, due soonest first
# (a phone's screenful or two; "See all" lists the rest). Each is shown with its flags.
PENDING_SHOWN = 10
logger = logging.getLogger(__name__)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The start page: what Boundary is, for a visitor; a signed-in person's own record."""
    if request.user.is_authenticated:
        return redirect("requests_log:my-record")
    return render(request, "home.html")


@login_required
@require_safe
def my_record(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The employee's own record: the requests due soonest of those waiting for her answer,
    every request (filtered, a page at a time), recent events."""
    employee = request.user
    filter_form = DashboardFilterForm(
        request.GET or None, requesters=selectors.requester_choices(viewer=employee)
    )
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    page_obj = selectors.promotion_request_page(
        viewer=employee, filters=filters, number=request.GET.get("page"), per_page=PAGE_SIZE
    )
    # However many wait, the page shows (and flags) the few due soonest, and links the rest.
    pending, pending_total = selectors.promotion_request_list_pending(
        viewer=employee, limit=PENDING_SHOWN
    )
    flagged = selectors.flagged([*pending, *page_obj.object_list])
    recent_events, sharing_history = selectors.timeline_recent_and_sharing(viewer=employee)
    return render(
        request,
        "requests_log/dashboard.html",
        {
            "filter_form": filter_form,
            "filtering": bool(filters and any(filters.values())),
            "pending": flagged[: len(pending)],
            "pending_total": pending_total,
            "open_status": selectors.OPEN,
            "page_obj": page_obj,
            "requests": flagged[len(pending) :],
            "recent_events": recent_events,
            "sharing_history": sharing_history,
            "has_accounts": access.social_accounts_for(employee).exists(),
            "now": timezone.now(),
        },
    )


@login_required
def request_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PromotionRequestForm(request.POST or None, request.FILES or None, employee=request.user)
    if request.method == "POST" and form.is_valid():
        promotion_request = services.promotion_request_log(
            employee=request.user,
            actor=request.user,
            target_accounts=form.cleaned_data["target_accounts"],
            evidence_files=form.cleaned_data["evidence"],
            **form.request_details(),
        )
        messages.success(request, "Logged. Here is what stands out about this request.")
        return redirect(promotion_request)
    return render(request, "requests_log/promotionrequest_form.html", {"form": form})


@login_required
@require_safe
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _request_page(request, pk, EvidenceForm())


def _request_page(
    request: AuthenticatedHttpRequest,
    pk: int,
    evidence_form: EvidenceForm,
    status: int = 200,
    proof_form: DisclosureProofForm | None = None,
) -> HttpResponse:
    """The request's page; with a refused upload or proof, its errors at its form."""
    promotion_request = selectors.promotion_request_get(viewer=request.user, pk=pk)
    decisions = list(promotion_request.decisions.all())
    latest_decision = decisions[-1] if decisions else None
    events = selectors.request_events(promotion_request)
    flags = selectors.flags_of(promotion_request, declarations=events.declarations)
    checklists = selectors.disclosure_checklists(promotion_request, latest_decision)
    accepted = [item["account"] for item in checklists]
    for item in checklists:
        refused = proof_form is not None and proof_form.data.get("account") == str(
            item["account"].pk
        )
        item["form"] = (
            proof_form
            if refused
            else DisclosureProofForm(accounts=accepted, account_id=item["account"].pk)
        )
    return render(
        request,
        "requests_log/promotionrequest_detail.html",
        {
            "promotion_request": promotion_request,
            # Each file with what its metadata says (GPS position, camera…), shown to
            # her before she shares or exports it.
            "evidence_items": evidence_privacy.with_metadata(promotion_request.evidence.all()),
            "flags": flags,
            "decisions": decisions,
            "latest_decision": latest_decision,
            # With the acknowledgement link made a moment ago, shown this once.
            "reply_text": replies.reply_text_for(
                latest_decision,
                acknowledgement_url=ack_views.pop_acknowledgement_url(request, latest_decision.pk),
            )
            if latest_decision
            else "",
            "timeline": [
                (event, flags.marks_event(event.kind, event.payload)) for event in events.timeline
            ],
            "evidence_form": evidence_form,
            "checklists": checklists,
            "sharing_events": events.sharing,
            "rights_notes": selectors.rights_notes_for(promotion_request, latest_decision),
        },
        status=status,
    )


@login_required
def request_correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    if not access.can_correct(request.user, promotion_request):
        messages.info(
            request, "What was filed in Boundary stays as filed; add a follow-up instead."
        )
        return redirect(promotion_request)
    form = CorrectionForm(request.POST or None, instance=promotion_request, employee=request.user)
    if request.method == "POST" and form.is_valid():
        # The form wrote the new values onto its instance; the service compares
        # them with a fresh copy from the database.
        event = services.promotion_request_correct(
            promotion_request=promotion_request,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            **form.request_details(),
        )
        messages.success(
            request,
            "Correction saved; the original stays on the timeline."
            if event
            else "Nothing changed.",
        )
        return redirect(promotion_request)
    return render(
        request,
        "requests_log/promotionrequest_correct.html",
        {"form": form, "promotion_request": promotion_request},
    )


@login_required
def decision_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    form = DecisionForm(request.POST or None, promotion_request=promotion_request)
    if request.method == "POST" and form.is_valid():
        try:
            services.decision_record(
                promotion_request=promotion_request,
                decided_by=request.user,
                kind=form.cleaned_data["kind"],
                accounts=form.cleaned_data["accounts"],
                **form.decision_terms(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your answer is on the record. Copy the reply below.")
            return redirect(f"{promotion_request.get_absolute_url()}#reply")
    return render(
        request,
        "requests_log/decision_form.html",
        {"form": form, "promotion_request": promotion_request},
    )


@login_required
@require_POST
def reply_sent(request: AuthenticatedHttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    decision = access.get_or_404(
        access.decisions_for(request.user).select_related("promotion_request", "decided_by"),
        pk=decision_pk,
        promotion_request_id=pk,
    )
    if services.reply_mark_sent(decision=decision, actor=request.user):
        messages.success(request, "Marked as sent. The timeline shows when.")
    else:
        messages.info(request, "This reply was already marked as sent.")
    return redirect(f"{decision.promotion_request.get_absolute_url()}#timeline")


@login_required
def follow_up_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    form = FollowUpForm(
        request.POST or None, request.FILES or None, promotion_request=promotion_request
    )
    if request.method == "POST" and form.is_valid():
        services.follow_up_add(
            promotion_request=promotion_request,
            actor=request.user,
            evidence_files=form.cleaned_data["evidence"],
            **form.follow_up_details(),
        )
        messages.success(request, "Added to the timeline.")
        return redirect(f"{promotion_request.get_absolute_url()}#timeline")
    return render(
        request,
        "requests_log/followup_form.html",
        {"form": form, "promotion_request": promotion_request},
    )


@login_required
def request_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.promotion_request_withdraw(
                promotion_request=promotion_request,
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Marked as withdrawn.")
            return redirect(promotion_request)
    return render(
        request,
        "requests_log/withdraw_form.html",
        {"form": form, "promotion_request": promotion_request},
    )


@login_required
@require_POST
def evidence_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        for uploaded in form.cleaned_data["evidence"]:
            services.evidence_add(
                promotion_request=promotion_request,
                uploaded_file=uploaded,
                uploaded_by=request.user,
            )
        messages.success(request, "Evidence attached and fingerprinted (SHA-256).")
        return redirect(f"{promotion_request.get_absolute_url()}#evidence")
    # Shown at the field (the page keeps its place there), each refused file named.
    return _request_page(request, pk, form, status=400)


@login_required
@require_POST
def disclosure_proof_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    promotion_request = access.get_or_404(access.own_promotion_requests(request.user), pk=pk)
    latest_decision = promotion_request.decisions.order_by("pk").last()
    accounts = [
        item["account"]
        for item in selectors.disclosure_checklists(promotion_request, latest_decision)
    ]
    form = DisclosureProofForm(
        request.POST,
        request.FILES,
        accounts=accounts,
        account_id=request.POST.get("account") or "unknown",
    )
    if form.is_valid():
        try:
            services.disclosure_proof_add(
                promotion_request=promotion_request,
                account=form.cleaned_data["account"],
                recorded_by=request.user,
                post_url=form.cleaned_data["post_url"],
                screenshot=form.cleaned_data["screenshot"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"Disclosure proof recorded for {form.cleaned_data['account']}."
            )
            return redirect(f"{promotion_request.get_absolute_url()}#disclosure")
    if not accounts:
        messages.error(request, "Disclosure proof is for a request you accepted.")
        return redirect(promotion_request)
    return _request_page(request, pk, EvidenceForm(), status=400, proof_form=form)


@login_required
@require_safe
def evidence_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    evidence = selectors.evidence_get(viewer=request.user, pk=pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        logger.error("Evidence %s is missing from storage (%s)", evidence.pk, evidence.file.name)
        raise Http404("This file is missing from storage.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_safe
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(
        access.notifications_for(request.user).select_related("promotion_request"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(request, "requests_log/notification_list.html", {"page_obj": page})


@login_required
@require_POST
def notification_read(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    notification = access.get_or_404(access.notifications_for(request.user), pk=pk)
    services.notifications_mark_read(user=request.user, pk=notification.pk)
    if notification.promotion_request is not None:
        return redirect(notification.promotion_request)
    return redirect("requests_log:notification-list")


@login_required
@require_POST
def notification_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = services.notifications_mark_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("requests_log:notification-list")


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The person's profile (boundary's form). It is served from here because saving it
    may move when reminders fall due, which boundary/ knows nothing of."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.employee_profile_update(
            user=request.user, **{field: form.cleaned_data[field] for field in form.changed_data}
        )
        messages.success(request, "Profile saved.")
        return redirect("boundary:profile")
    return render(request, "boundary/profile.html", {"form": form})


# --- Accounts: each link, change and removal is a dated declaration on the timeline ----------


@login_required
def account_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SocialAccountForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        account = services.account_link(owner=request.user, **form.cleaned_data)
        messages.success(request, f"{account} linked.")
        return redirect("boundary:account-list")
    return render(request, "boundary/socialaccount_form.html", {"form": form})


@login_required
def account_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = access.get_or_404(access.social_accounts_for(request.user), pk=pk)
    form = SocialAccountForm(request.POST or None, instance=account, owner=request.user)
    if request.method == "POST" and form.is_valid():
        services.account_update(
            account=account,
            actor=request.user,
            **{field: form.cleaned_data[field] for field in form.changed_data},
        )
        messages.success(request, f"{account} saved.")
        return redirect("boundary:account-list")
    return render(request, "boundary/socialaccount_form.html", {"form": form, "account": account})


@login_required
@require_POST
def account_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = access.get_or_404(access.social_accounts_for(request.user), pk=pk)
    archived = services.account_remove(account=account, actor=request.user)
    if archived:
        messages.success(request, f"{account} archived: requests on your record still refer to it.")
    else:
        messages.success(request, f"{account} removed.")
    return redirect("boundary:account-list")


@login_required
@require_safe
def personal_data_download(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
    """Everything Boundary holds about the signed-in person, as one JSON file, streamed."""
    response = StreamingHttpResponse(
        personal_data.personal_data_chunks(request.user), content_type="application/json"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="boundary-my-data-{stamp}.json"'
    return response
