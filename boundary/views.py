from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from . import selectors, services
from .forms import SignupForm
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
