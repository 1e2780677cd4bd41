"""The page that closes the signed-in person's account (requests_log.closing)."""

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from boundary.forms import AccountCloseForm
from boundary.http import AuthenticatedHttpRequest

from . import closing


@never_cache
@login_required
def account_close(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What closing keeps and removes, the personal-data download to take first, and the
    password that confirms it. Closing signs the person out."""
    preview = closing.closing_preview(request.user)
    form = AccountCloseForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        closing.account_close(employee=request.user)
        logout(request)
        return render(request, "requests_log/account_closed.html", {"preview": preview})
    return render(request, "requests_log/account_close.html", {"form": form, "preview": preview})
