"""The URLconf as a whole: no route served twice, no query string that breaks a page."""

from collections import Counter

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from requests_log import services
from requests_log.exports import receipts
from requests_log.exports import services as export_services
from requests_log.exports.record import Scope
from requests_log.models import Notification
from tests.factories import SocialAccountFactory, log_request


def routes(patterns, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """Every (route, name) the URLconf serves, spelled out from the root."""
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            found.append((route, f"{namespace}{pattern.name}" if pattern.name else ""))
    return found


def test_no_route_is_shadowed_by_another():
    served = [route for route, name in routes(get_resolver().url_patterns)]

    assert [route for route, count in Counter(served).items() if count > 1] == []


# Odd values a person, a crawler or an attacker may put in any query string.
ODD_QUERY = {
    "page": "²",
    "request": "²",
    "q": "<script>alert(1)</script>",
    "status": "٣",
    "requester": "\u202e",
    "platform": "'; DROP TABLE x; --",
    "framing": "\x00",
    "date_from": "2026-13-45",
    "date_to": "²",
    "mode": "¾",
    "next": "https://evil.example/",
}


@pytest.fixture
def world(maya):
    """One of each thing a URL can name, all Maya's."""
    account = SocialAccountFactory(owner=maya)
    promotion_request = log_request(maya, target_accounts=[account])
    decision = services.decision_record(
        promotion_request=promotion_request,
        decided_by=maya,
        kind="decline",
        decline_reasons=["no_time"],
    )
    evidence = services.evidence_add(
        promotion_request=promotion_request,
        uploaded_file=SimpleUploadedFile("note.txt", b"what was said", "text/plain"),
        uploaded_by=maya,
    )
    export = export_services.export_request(
        employee=maya, requested_by=maya, format="json", scope=Scope()
    )
    notification = Notification.objects.create(user=maya, message="A reminder")
    checkpoint = receipts.checkpoint_issue(employee=maya, reason="asked")
    request_pk = {"pk": promotion_request.pk}
    return {
        "boundary:account-edit": {"pk": account.pk},
        "boundary:account-remove": {"pk": account.pk},
        "requests_log:request-detail": request_pk,
        "requests_log:request-correct": request_pk,
        "requests_log:decision-create": request_pk,
        "requests_log:follow-up-create": request_pk,
        "requests_log:request-withdraw": request_pk,
        "requests_log:evidence-create": request_pk,
        "requests_log:reply-sent": {"pk": promotion_request.pk, "decision_pk": decision.pk},
        "requests_log:evidence-download": {"pk": evidence.pk},
        "requests_log:notification-read": {"pk": notification.pk},
        "exports:export-detail": {"pk": export.pk},
        "exports:export-status": {"pk": export.pk},
        "exports:export-download": {"pk": export.pk},
        "password_reset_confirm": {"uidb64": "²", "token": "<script>"},
        "exports:receipt-download": {"pk": checkpoint.pk},
        "exports:receipt-address-confirm": {"token": "²<script>"},
        "exports:verify-job": {"token": "²<script>"},
        "exports:verify-job-status": {"token": "²<script>"},
        "requests_log:acknowledgement-link-create": {
            "pk": promotion_request.pk,
            "decision_pk": decision.pk,
        },
        "requests_log:acknowledge": {"token": "²<script>"},
        "email-verify": {"token": "²<script>"},
        "signup-invitation": {"token": "²<script>"},
        "manager:file-create": {"employee_pk": maya.pk},
        "manager:filed-detail": request_pk,
        "manager:filed-withdraw": request_pk,
        "requests_log:request-share": request_pk,
        "requests_log:request-share-stop": request_pk,
        "hr:request-detail": request_pk,
        "requests_log:disclosure-proof-create": request_pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "signed-in"])
def test_no_query_string_makes_any_page_fail(client, maya, world, signed_in):
    if signed_in:
        client.force_login(maya)
    pages = {
        name: route
        for route, name in routes(get_resolver().url_patterns)
        if name and not route.startswith(settings.ADMIN_URL) and name != "logout"
    }

    statuses = {
        name: client.get(reverse(name, kwargs=world.get(name)), ODD_QUERY).status_code
        for name in pages
    }

    # A new URL with arguments needs an object in `world` (reverse fails without one).
    assert {name: code for name, code in statuses.items() if code >= 500} == {}
    assert len(statuses) == len(pages) > 20
