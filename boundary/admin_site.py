"""The Django admin site: people and roles, for admins signed in with two factors."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class BoundaryAdminSite(OTPAdminSite):
    """OTPAdminSite refuses anyone whose session was not verified by a device. Signing
    in happens on the app's own two-step login, so the admin's login page sends there."""

    name = "admin"
    site_header = "Boundary administration"
    site_title = "Boundary admin"

    def __init__(self, name: str = "admin"):
        super().__init__(name)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
        return super().login(request, extra_context)
