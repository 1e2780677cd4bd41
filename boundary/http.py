"""Request types for views, and who sent a request."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that `login_required` let through: its `user` is a User, never anonymous.
    Views behind the decorator take this type so the checker knows it too."""

    user: User


def client_ip(request: HttpRequest) -> str:
    """The client's address as the configured proxies report it (README, TRUSTED_PROXY_COUNT).

    With no proxy configured, REMOTE_ADDR, whatever X-Forwarded-For says: a client can
    write that header itself. With N proxies, the N-th address from the right of
    X-Forwarded-For, the one the outermost proxy saw; anything left of it was written by
    the client and is ignored. A header too short or not an address falls back to
    REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
