"""Request types for views."""

from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that `login_required` let through: its `user` is a User, never anonymous.
    Views behind the decorator take this type so the checker knows it too."""

    user: User
