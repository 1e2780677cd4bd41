import time
import zoneinfo

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_otp.plugins.otp_totp.models import TOTPDevice


class UserTimezoneMiddleware:
    """Show times in the signed-in user's own time zone, for this request only: the
    thread's zone is restored after it (a test client's thread, or a worker thread that
    goes on to other work, would otherwise keep the last person's)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None  # the default, settings.TIME_ZONE
        if (
            user is not None
            and user.is_authenticated
            and isinstance(user.time_zone, zoneinfo.ZoneInfo)
        ):
            zone = user.time_zone
        with timezone.override(zone):
            return self.get_response(request)


class TwoFactorSetupRequiredMiddleware:
    """HR and admins see others' records: until their session is verified by a second
    factor they reach only the pages that get them there (setting up an authenticator,
    or entering its code) and logging out. Runs after django_otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.needs_two_factors
            and not user.is_verified()
            and not request.path.startswith(self._allowed_prefixes())
        ):
            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = "login-code" if has_device else "boundary:two-factor-setup"
            return redirect_to_login(request.get_full_path(), reverse(target))
        return self.get_response(request)

    @staticmethod
    def _allowed_prefixes() -> tuple[str, ...]:
        return (
            reverse("boundary:two-factor-setup"),
            reverse("login-code"),
            reverse("logout"),
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else f"/{settings.STATIC_URL}",
        )


# Session keys of SessionTimeoutMiddleware: when the signed-in session began and when it
# was last used (Unix seconds), and why the last one ended (read once by the login page).
SESSION_STARTED = "boundary_session_started"
SESSION_SEEN = "boundary_session_seen"
SESSION_ENDED = "boundary_session_ended"
# The person's session_stamp when this session began: a change of second factors
# changes the stamp and so ends every other session (session_keep).
SESSION_STAMP = "boundary_session_stamp"
# Last-seen is written at most this often (seconds), not on every request.
SESSION_SEEN_RESOLUTION = 60


class SessionTimeoutMiddleware:
    """End a signed-in session SESSION_IDLE_TIMEOUT seconds after its last request,
    SESSION_ABSOLUTE_TIMEOUT seconds after login whatever happens, and at once when the
    person's second factors changed in another session. The request that finds it ended
    goes on signed out (a private page then asks for the login again), and the session
    is flushed on the server. Runs after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def _check(request) -> None:
        session = request.session
        now = time.time()
        started = session.setdefault(SESSION_STARTED, now)
        seen = session.get(SESSION_SEEN, started)
        if session.get(SESSION_STAMP, "") != request.user.session_stamp:
            ended = "security"
        elif now - started >= settings.SESSION_ABSOLUTE_TIMEOUT:
            ended = "absolute"
        elif now - seen >= settings.SESSION_IDLE_TIMEOUT:
            ended = "idle"
        else:
            if now - seen >= SESSION_SEEN_RESOLUTION or SESSION_SEEN not in session:
                session[SESSION_SEEN] = now
            return
        logout(request)
        request.session[SESSION_ENDED] = ended


@receiver(user_logged_in)
def session_start(sender, request, user, **kwargs) -> None:
    """The absolute timeout counts from this login, not from any earlier one."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = time.time()
        request.session[SESSION_STAMP] = user.session_stamp


def session_keep(request) -> None:
    """Keep this session when the person's session_stamp has just changed (their second
    factors did, here), while every other session of theirs ends."""
    request.session[SESSION_STAMP] = request.user.session_stamp


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: the Permissions-Policy on every
    response, and `Cache-Control: no-store` on every page a signed-in person sees and on
    every download, so neither a shared computer's browser cache nor a proxy keeps a copy
    of a record. Runs after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = ", ".join(
            f"{feature}=({' '.join(allowed)})"
            for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or _is_download(response):
            add_never_cache_headers(response)
        return response


def _is_download(response) -> bool:
    return isinstance(response, FileResponse) or response.get(
        "Content-Disposition", ""
    ).lower().startswith("attachment")
