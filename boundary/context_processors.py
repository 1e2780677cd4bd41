from functools import cache

from django.urls import get_script_prefix, reverse


def navigation(request):
    """The frame's links (`nav.<name>`), reversed once per process rather than on every
    page: the same dozen URLs would otherwise cost a reverse() each, each time."""
    return {"nav": _navigation_urls(get_script_prefix())}


@cache
def _navigation_urls(script_prefix: str) -> dict[str, str]:
    # reverse() reads the prefix itself; it is the cache key so that a deployment under
    # a sub-path gets its own links.
    return {
        "home": reverse("requests_log:home"),
        "dashboard": reverse("requests_log:my-record"),
        "accounts": reverse("boundary:account-list"),
        "profile": reverse("boundary:profile"),
        "team": reverse("manager:filed-list"),
        "hr": reverse("hr:dashboard"),
        "exports": reverse("exports:export-list"),
        "receipts": reverse("exports:receipt-list"),
        "notifications": reverse("requests_log:notification-list"),
        "log_request": reverse("requests_log:request-create"),
        "logout": reverse("logout"),
        "email_verification_resend": reverse("boundary:email-verification-resend"),
        "verify": reverse("exports:verify"),
        "public_key": reverse("exports:public-key"),
    }
