"""Login lockout (django-axes): how failures are counted and who they are counted against.

Two limits, each within AXES_COOLOFF_TIME (15 minutes) of the last failure:
AXES_FAILURE_LIMIT failures for one address typed into the login form, whoever types
it, and AXES_IP_FAILURE_LIMIT failures from one client address, whatever was typed.
A locked login is refused by AxesStandaloneBackend before any backend checks a password.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .http import client_ip
from .models import normalise_email

# The order of settings.AXES_LOCKOUT_PARAMETERS, which LoginAttemptHandler relies on.
LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The address a login attempt is counted against: as Django's authenticate() passes
    it (`username`, for any USERNAME_FIELD), else as the form posts it, normalised the way
    sign-in matches it, so "Maya@Example.com " and "maya@example.com" are one account."""
    username = (credentials or {}).get("username")
    if username is None:
        username = getattr(request, "POST", {}).get("username")
    return normalise_email(username) if isinstance(username, str) else None


def login_client_ip(request: HttpRequest) -> str:
    return client_ip(request)


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler, with one limit per account and a separate one per address.

    Axes compares a single failure count with a single limit. This count is how many
    failures the nearer of the two limits leaves to AXES_FAILURE_LIMIT: the account's own
    failures, or the address's shifted by the difference between the limits. So the
    login is locked when either limit is reached, and a neighbour's mistakes on the same
    office network cost another person nothing until the address's own limit."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        if settings.AXES_LOCKOUT_PARAMETERS != LOCKOUT_PARAMETERS:
            raise ImproperlyConfigured(f"AXES_LOCKOUT_PARAMETERS must be {LOCKOUT_PARAMETERS}.")
        by_account, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        account_limit, address_limit = settings.AXES_FAILURE_LIMIT, settings.AXES_IP_FAILURE_LIMIT
        left = min(account_limit - by_account, address_limit - by_address)
        return account_limit - left


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The same page for every locked login, a registered address or not."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
