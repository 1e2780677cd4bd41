from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import SignupForm, SocialAccountForm
from .http import AuthenticatedHttpRequest


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_register(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data["display_name"],
            time_zone=form.cleaned_data["time_zone"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome. Start by linking the accounts you keep personal.")
        return redirect("boundary:account-list")
    return render(request, "registration/signup.html", {"form": form})


@login_required
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "boundary/socialaccount_list.html",
        {
            "accounts": selectors.social_accounts_in_use(owner=request.user),
            "archived_accounts": selectors.social_accounts_archived(owner=request.user),
        },
    )


@login_required
def account_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SocialAccountForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        account = services.social_account_link(owner=request.user, **form.cleaned_data)
        messages.success(request, f"{account} linked.")
        return redirect("boundary:account-list")
    return render(request, "boundary/socialaccount_form.html", {"form": form})


@login_required
def account_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(selectors.social_accounts_in_use(owner=request.user), pk=pk)
    form = SocialAccountForm(request.POST or None, instance=account, owner=request.user)
    if request.method == "POST" and form.is_valid():
        services.social_account_update(
            account=account, **{field: form.cleaned_data[field] for field in form.changed_data}
        )
        messages.success(request, f"{account} saved.")
        return redirect("boundary:account-list")
    return render(request, "boundary/socialaccount_form.html", {"form": form, "account": account})


@login_required
@require_POST
def account_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(selectors.social_accounts_in_use(owner=request.user), pk=pk)
    archived = services.social_account_remove(account=account)
    if archived:
        messages.success(request, f"{account} archived: requests on your record still refer to it.")
    else:
        messages.success(request, f"{account} removed.")
    return redirect("boundary:account-list")


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and uptime checks: 200 when the database answers, 503 when not.
    Public and cheap: no session, no template."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
