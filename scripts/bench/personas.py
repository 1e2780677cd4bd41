"""Who the benchmark signs in as, and their session cookies.

The cast comes from var/bench/cast.json, written by scripts/bench/dataset.py beside the
template database; without it (a small development database with `manage.py load_demo`)
the demo's people stand in: Maya is both the typical and the heavy employee. Sessions are
made by Django's login() on a request built here, so no password is hashed and no login
form is posted (nor counted by the lockout). Needs Django set up.
"""

import json
from dataclasses import dataclass
from importlib import import_module

from config import OUT

CAST_FILE = OUT / "cast.json"


@dataclass(frozen=True)
class Cast:
    employee: int  # user ids
    heavy: int
    manager: int
    hr: int
    long_request: int  # the request with the longest timeline, owned by `long_request_owner`
    long_request_owner: int
    filed_request: int  # a request `manager` filed
    search: str  # a word in some of the employees' requests


def cast() -> Cast:
    return cast_from_file() if CAST_FILE.exists() else cast_from_demo()


def cast_from_file() -> Cast:
    data = json.loads(CAST_FILE.read_text())
    users = data["users"]
    requests = data["requests"]
    return Cast(
        employee=users["typical_employee"]["id"],
        heavy=users["heavy_employees"][0]["id"],
        manager=users["manager"]["id"],
        hr=users["hr"]["id"],
        long_request=requests["long_timeline"]["id"],
        long_request_owner=requests["long_timeline"]["employee_id"],
        filed_request=requests["filed_by_manager"]["id"],
        search=data.get("search_word", "product"),
    )


def cast_from_demo() -> Cast:
    from django.db.models import Count

    from boundary.models import User
    from requests_log.models import PromotionRequest

    maya = User.objects.get(email="maya@example.com")
    daniel = User.objects.get(email="daniel@example.com")
    longest = (
        PromotionRequest.objects.filter(employee=maya)
        .annotate(event_count=Count("events"))
        .order_by("-event_count")
        .first()
    )
    return Cast(
        employee=maya.pk,
        heavy=maya.pk,
        manager=daniel.pk,
        hr=User.objects.get(email="hr@example.com").pk,
        long_request=longest.pk,
        long_request_owner=maya.pk,
        filed_request=PromotionRequest.objects.filter(filed_by=daniel).values_list("pk", flat=True)[
            0
        ],
        search="video",
    )


def session_key(user_id: int) -> str:
    """A new signed-in session for the user, made by django.contrib.auth.login itself on
    a request built here, so the app's own login hooks (the session's start, its stamp)
    and django-otp's (the verified device, for HR) fill it as after a real login."""
    from django.conf import settings
    from django.contrib.auth import login
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from boundary.models import User

    user = User.objects.get(pk=user_id)
    if user.needs_two_factors:
        user.otp_device = second_factor(user)  # django-otp's login hook verifies it
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    return request.session.session_key


def second_factor(user):
    """The user's confirmed authenticator, made if the data set gave them none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Benchmark", confirmed=True)
