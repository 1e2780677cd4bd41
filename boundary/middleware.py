import zoneinfo

from django.utils import timezone


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
