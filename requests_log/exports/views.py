import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from boundary.http import AuthenticatedHttpRequest, client_ip

from .. import access, selectors
from ..models import Checkpoint, Export, ReceiptAddress, Verification, VerificationJob
from . import fileformat, receipts, services, signing, verifier, verifyjobs
from .exporters import exporter_for
from .forms import ExportForm, ReceiptAddressForm, VerifyForm
from .tasks import verify_upload

logger = logging.getLogger(__name__)

PAGE_SIZE = 25
MULTIPART_OVERHEAD = 64 * 1024


def _own_export(request: AuthenticatedHttpRequest, pk: int) -> Export:
    return access.get_or_404(access.exports_for(request.user), pk=pk)


@login_required
@require_safe
def export_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(access.exports_for(request.user).select_related("event"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "requests_log/exports/export_list.html", {"page_obj": page})


@login_required
def export_create(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    initial = {}
    chosen = _int_or_none(request.GET.get("request"))
    if chosen is not None:
        initial = {"mode": "chosen", "requests": [chosen]}
    form = ExportForm(request.POST or None, employee=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        started = services.export_start(
            employee=request.user,
            requested_by=request.user,
            format=form.cleaned_data["format"],
            scope=form.scope(),
        )
        export = started.export
        if started.outcome == "queued":
            messages.info(request, "Your export is being built. This page shows its progress.")
            return redirect(export)
        if started.outcome == "streamed":
            response = StreamingHttpResponse(
                started.chunks or (), content_type=exporter_for(export.format).content_type
            )
            response["Content-Disposition"] = f'attachment; filename="{started.filename}"'
            return response
        if started.outcome == "failed":
            messages.error(
                request, "The export could not be built. Nothing was added to your record."
            )
            return redirect(export)
        return _file_response(export)
    return render(request, "requests_log/exports/export_form.html", {"form": form})


def _int_or_none(text: str | None) -> int | None:
    """A whole number from a query string, or None for anything else ("²" is a digit
    to str.isdigit but not a number to int)."""
    try:
        return int(text or "")
    except ValueError:
        return None


def _file_response(export: Export) -> FileResponse:
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename,
        content_type=exporter_for(export.format).content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def export_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    export = _own_export(request, pk)
    verifications = export.verifications.order_by("-created_at")[:20]
    return render(
        request,
        "requests_log/exports/export_detail.html",
        {"export": export, "verifications": verifications},
    )


@never_cache
@login_required
@require_safe
def export_status(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    export = _own_export(request, pk)
    return JsonResponse(
        {
            "state": export.state,
            "state_label": export.get_state_display(),
            "progress": export.progress,
            "note": export.progress_note,
            "done": export.is_done,
        }
    )


@login_required
@require_safe
def export_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    export = _own_export(request, pk)
    if not export.has_file:
        raise Http404("This export has no file to download (it expired or was streamed).")
    return _file_response(export)


# --- Public pages ----------------------------------------------------------------------------


class UploadTooLarge(FileUploadHandler):
    """Stops reading an upload once it passes the limit, so a huge file never fills
    the disk; the view then says it was too large."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            # connection_reset: Django then reads no further. With False it would read
            # (and throw away) the rest of the body before answering.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


VERIFY_RATE_WINDOW = 600


def too_many_checks(address: str, store: BaseCache | None = None) -> bool:
    """Counts one check from `address` in the shared cache (Redis in production, so every
    web process counts together) and says whether it is over EXPORT_VERIFY_RATE in the
    ten-minute window. `add` then `incr` are each atomic in Redis, so two processes never
    lose a count; a key that expired between the two starts a new window."""
    store = store if store is not None else cache
    key = f"verify-rate:{address}"
    store.add(key, 0, timeout=VERIFY_RATE_WINDOW)
    try:
        count = store.incr(key)
    except ValueError:  # expired between add and incr
        store.add(key, 1, timeout=VERIFY_RATE_WINDOW)
        count = 1
    return count > settings.EXPORT_VERIFY_RATE


def _too_many_checks(request: HttpRequest) -> bool:
    return too_many_checks(client_ip(request))


@csrf_exempt
def verify(request: HttpRequest) -> HttpResponse:
    """Public: check an uploaded export. Upload handlers must be set before the CSRF
    check reads the body, so the check runs inside (csrf_protect)."""
    limit = settings.EXPORT_VERIFY_MAX_BYTES
    if request.method == "POST" and _declared_length(request) > 2 * limit + MULTIPART_OVERHEAD:
        # Refused on the header alone: not one byte of the body is read.
        return _too_large(request)
    guard = UploadTooLarge(request, 2 * limit + MULTIPART_OVERHEAD)
    request.upload_handlers.insert(0, guard)
    return _verify(request, guard)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(request: HttpRequest) -> HttpResponse:
    context = {
        "limit": settings.EXPORT_VERIFY_MAX_BYTES,
        "fingerprint": signing.signing_key().fingerprint,
        "form": VerifyForm(),
        "too_large": True,
    }
    return render(request, "requests_log/exports/verify.html", context, status=413)


@csrf_protect
def _verify(request: HttpRequest, guard: UploadTooLarge) -> HttpResponse:
    limit = settings.EXPORT_VERIFY_MAX_BYTES
    context: dict = {"limit": limit, "fingerprint": signing.signing_key().fingerprint}
    if request.method == "POST" and guard.too_large:
        return _too_large(request)
    form = VerifyForm(request.POST or None, request.FILES or None)
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        if _too_many_checks(request):
            context["rate_limited"] = True
            return render(request, "requests_log/exports/verify.html", context, status=429)
        if _is_large(form):
            return redirect(_queue_check(request, form))
        context["result"] = _check_uploads(request, form)
        context["checked_name"] = form.cleaned_data["export"].name
        context["checked_size"] = form.cleaned_data["export"].size
        context["form"] = VerifyForm()
    return render(request, "requests_log/exports/verify.html", context)


def _is_large(form: VerifyForm) -> bool:
    uploaded, earlier = form.cleaned_data["export"], form.cleaned_data["earlier"]
    size = uploaded.size + (earlier.size if earlier is not None else 0)
    return size > settings.EXPORT_VERIFY_INLINE_MAX_BYTES


def _queue_check(request: HttpRequest, form: VerifyForm) -> VerificationJob:
    uploaded, earlier = form.cleaned_data["export"], form.cleaned_data["earlier"]
    return verifyjobs.job_create(
        export=uploaded.file,
        file_name=uploaded.name or "",
        file_size=uploaded.size,
        earlier=earlier.file if earlier is not None else None,
        receipts=form.cleaned_data["receipts"],
        verified_by=request.user if request.user.is_authenticated else None,
        enqueue=verify_upload.delay,
    )


def _job_or_404(token: str) -> VerificationJob:
    job = VerificationJob.objects.filter(token=token).first()
    if job is None:
        raise Http404("No such check.")
    if verifyjobs.job_is_lost(job):
        verifyjobs.job_fail(job.token, "the check used up its time and was stopped.")
        job.refresh_from_db()
    return job


@require_safe
def verify_job(request: HttpRequest, token: str) -> HttpResponse:
    """Public, by its unguessable token: a large check's progress, then its answer, on
    the same page as an inline check."""
    job = _job_or_404(token)
    context: dict = {
        "limit": settings.EXPORT_VERIFY_MAX_BYTES,
        "fingerprint": signing.signing_key().fingerprint,
        "form": VerifyForm(),
        "job": job,
    }
    result = verifyjobs.job_result(job)
    if result is not None:
        context.update(result=result, checked_name=job.file_name, checked_size=job.file_size)
    return render(request, "requests_log/exports/verify.html", context)


@never_cache
@require_safe
def verify_job_status(request: HttpRequest, token: str) -> JsonResponse:
    job = _job_or_404(token)
    return JsonResponse(
        {
            "state": job.state,
            "state_label": job.get_state_display(),
            "progress": 100 if job.is_done else 0,
            "note": job.progress_note,
            "done": job.is_done,
        }
    )


def _check_uploads(request: HttpRequest, form: VerifyForm) -> verifier.Result:
    uploaded, earlier = form.cleaned_data["export"], form.cleaned_data["earlier"]
    return services.verification_run(
        export=uploaded.file,
        file_name=uploaded.name or "",
        earlier=earlier.file if earlier is not None else None,
        receipts=form.cleaned_data["receipts"],
        source=Verification.Source.PAGE,
        limits=fileformat.Limits(
            max_bytes=settings.EXPORT_VERIFY_MAX_BYTES,
            max_unpacked=settings.EXPORT_VERIFY_MAX_UNPACKED,
        ),
        verified_by=request.user if request.user.is_authenticated else None,
    )


@require_safe
def public_key(request: HttpRequest) -> HttpResponse:
    key = signing.signing_key()
    return render(
        request,
        "requests_log/exports/public_key.html",
        {
            "fingerprint": key.fingerprint,
            "grouped": signing.grouped(key.fingerprint),
            "pem": key.public_pem,
            "base64": key.public_base64,
        },
    )


@require_safe
def public_key_pem(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(signing.signing_key().public_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="boundary-export-key.pem"'
    return response


# --- Receipts: signed checkpoints of her record, for her to keep ---------------------------------


def _receipt_page(
    request: AuthenticatedHttpRequest,
    address: ReceiptAddress | None,
    form: ReceiptAddressForm,
    status: int = 200,
) -> HttpResponse:
    page_obj = Paginator(selectors.checkpoints_of(viewer=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "requests_log/exports/receipt_list.html",
        {
            "page_obj": page_obj,
            "latest": page_obj[0] if page_obj.number == 1 and len(page_obj) else None,
            "address": address,
            "form": form,
            "interval_minutes": max(1, settings.RECEIPT_INTERVAL // 60),
            "timestamps_configured": bool(settings.RFC3161_TSA_URLS),
        },
        status=status,
    )


@login_required
@require_safe
def receipt_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    address = selectors.receipt_address_of(viewer=request.user)
    return _receipt_page(request, address, ReceiptAddressForm(instance=address))


@login_required
@require_POST
def receipt_issue(request: AuthenticatedHttpRequest) -> HttpResponse:
    checkpoint = receipts.checkpoint_issue(employee=request.user, reason=Checkpoint.Reason.ASKED)
    if checkpoint is None:
        messages.info(request, "Your record is empty: there is nothing to sign yet.")
    else:
        messages.success(
            request, f"Receipt up to entry #{checkpoint.seq}: download it and keep it."
        )
    return redirect("exports:receipt-list")


@login_required
@require_safe
def receipt_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    checkpoint = access.get_or_404(selectors.checkpoints_of(viewer=request.user), pk=pk)
    response = HttpResponse(receipts.receipt_of(checkpoint), content_type="text/plain")
    name = f"boundary-receipt-{checkpoint.issued_at:%Y%m%d-%H%M%S}-{checkpoint.seq}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def receipt_address(request: AuthenticatedHttpRequest) -> HttpResponse:
    address = selectors.receipt_address_of(viewer=request.user)
    form = ReceiptAddressForm(request.POST, instance=address)
    if not form.is_valid():
        return _receipt_page(request, address, form, status=400)
    saved = receipts.receipt_address_set(
        employee=request.user,
        email=form.cleaned_data["email"],
        cadence=form.cleaned_data["cadence"],
    )
    email = saved.address.email
    if saved.link_sent:
        messages.info(request, f"We sent a link to {email}: open it to confirm the address.")
    elif saved.address.confirmed_at is None:
        messages.info(
            request,
            f"A link went to {email} less than a minute ago: look for it there (and in spam).",
        )
    else:
        messages.success(request, "Saved.")
    return redirect("exports:receipt-list")


@require_http_methods(["GET", "POST"])
def receipt_address_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation email: a button to confirm (so a mail scanner that
    opens links confirms nothing). No sign-in needed: the link itself is the proof."""
    if request.method == "POST":
        address = receipts.receipt_address_confirm(token=token)
    else:
        address = receipts.receipt_address_of_link(token=token)
    return render(
        request,
        "requests_log/exports/receipt_confirm.html",
        {"posted": request.method == "POST", "address": address},
        status=200 if address is not None else 400,
    )
