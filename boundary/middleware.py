import zoneinfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice


class UserTimezoneMiddleware:
    """Show times in the signed-in user's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and isinstance(user.time_zone, zoneinfo.ZoneInfo)
        ):
            timezone.activate(user.time_zone)
        else:
            timezone.deactivate()
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
