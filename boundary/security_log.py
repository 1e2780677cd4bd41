"""The security log: one JSON line per event that matters when a record is disputed.

Logins (success, failure, lock-out), logouts, refused access, and every export,
verification, share, role change and decision. Each line has the action, the actor (a
user id), the client address, the UTC time, the request id and the object's id, on the
logger "boundary.security" (LOGGING sends it to the console with the rest; point a
handler elsewhere to keep it apart).

What never goes in: passwords, session keys, tokens, or anything a person typed except
the address they tried to log in with. A line is `json.dumps` of a dict, so a newline or
a quote in that address is escaped and cannot start a forged line.

The request's id, address and person are kept for the length of the request (a context
variable set by SecurityContextMiddleware), so services that know nothing of the request
still log who did what from where.
"""

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("boundary.security")

REQUEST_ID_HEADER = "X-Request-ID"


class _RequestContext(dict):
    """request_id, ip and actor of the request being served (empty outside one)."""


_current: ContextVar[_RequestContext | None] = ContextVar("security_log_request", default=None)


def client_address(request: HttpRequest) -> str:
    """The address the request came from, as axes sees it (its IPWARE settings say which
    proxies are trusted), so the log and the lock-out agree."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or request.META.get("REMOTE_ADDR", "")


def security_event(action: str, *, actor: Any = None, obj: Any = None, **details: Any) -> None:
    """Log one event. `actor` and `obj` may be model instances or ids; `details` must hold
    nothing secret (callers pass ids, kinds and verdicts)."""
    context = _current.get() or _RequestContext()
    actor_id = getattr(actor, "pk", actor)
    if actor_id is None:
        actor_id = context.get("actor")
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "action": action,
        "actor": actor_id,
        "ip": context.get("ip"),
        "request_id": context.get("request_id"),
        "object": getattr(obj, "pk", obj),
        **details,
    }
    logger.info(json.dumps(line, ensure_ascii=True, sort_keys=True, default=str))


class SecurityContextMiddleware:
    """Gives every request an id (echoed in X-Request-ID, so a person reporting a problem
    can quote it), remembers its address and person for security_event, and logs refused
    access: a 403 or 404 given to a signed-in person. The route is logged, never the path,
    which may hold a token."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        context = _RequestContext(
            request_id=uuid.uuid4().hex,
            ip=client_address(request),
            actor=user.pk if user is not None and user.is_authenticated else None,
        )
        token = _current.set(context)
        try:
            response = self.get_response(request)
            if response.status_code in (403, 404) and context["actor"] is not None:
                _log_refusal(request, response.status_code)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = context["request_id"]
        return response


def _log_refusal(request: HttpRequest, status: int) -> None:
    match = request.resolver_match
    security_event(
        "access.refused",
        status=status,
        route=match.route if match else None,
        view=match.view_name if match else None,
        # Object ids only: a token in the URL is a string and stays out.
        ids={key: value for key, value in match.kwargs.items() if isinstance(value, int)}
        if match
        else {},
    )


def _remember_actor(user: Any) -> None:
    context = _current.get()
    if context is not None:
        context["actor"] = getattr(user, "pk", None)


@receiver(auth_signals.user_logged_in, dispatch_uid="security_log_login")
def log_login(sender, request, user, **kwargs) -> None:
    _remember_actor(user)
    security_event("login.success", actor=user)


@receiver(auth_signals.user_logged_out, dispatch_uid="security_log_logout")
def log_logout(sender, request, user, **kwargs) -> None:
    security_event("logout", actor=user)
    _remember_actor(None)


@receiver(auth_signals.user_login_failed, dispatch_uid="security_log_login_failed")
def log_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in `credentials`; only the address is kept.
    security_event("login.failure", tried=str(credentials.get("username", ""))[:254])


def log_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    security_event("login.locked_out", tried=str(username or "")[:254])


def connect_lockout() -> None:
    """axes' own signal, connected from the app's ready() (axes is imported by then)."""
    from axes.signals import user_locked_out

    user_locked_out.connect(log_locked_out, dispatch_uid="security_log_locked_out")
