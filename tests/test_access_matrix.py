"""The access matrix: for every URL the URLconf serves, each of the cast, own and another's object,
GET and POST, with the answer each must get.

A URL without a row in MATRIX fails the suite, so a new page cannot ship unchecked.
Refusals are boring and identical: anonymous people are sent to log in; anything out of
scope is the same 404, byte for byte, whether the object is missing or someone else's;
a refused write changes nothing in any table. Allowed POSTs carry extra fields
(employee, status, filed_by, role, …), which change nothing they name.

Each URL is one test; its cases run inside it, each POST in a savepoint rolled back
after it, so the whole matrix runs in seconds.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from boundary.models import SocialAccount, User
from requests_log import services, sharing
from requests_log.exports import receipts
from requests_log.exports import services as export_services
from requests_log.exports.record import Scope
from requests_log.models import Notification, PromotionRequest
from tests.factories import SocialAccountFactory, UserFactory, log_request
from tests.support import login_with_otp
from tests.test_urls import routes

# Who asks. "employee" is A, whose objects are "own"; "second_employee" is B.
CAST = (
    "anonymous",
    "employee",
    "second_employee",
    "manager",
    "other_manager",
    "hr",
    "administrator",
)

# Who may use a URL.
PUBLIC = "public"  # anyone, signed in or not
TOKEN = "token"  # anyone with the link: a made-up token is refused, never a 500
SIGNED_IN = "signed in"  # anyone signed in; anonymous people are sent to log in
OWNER = "owner"  # the employee whose record the object is on; everyone else: 404
FILER = "filer"  # whoever filed the request in Boundary; everyone else: 404
# HR, for a request its employee shares ("employee" shares hers, "second_employee" does
# not share his); everyone else, and HR for the unshared one: 404.
HR_READER = "hr reader"
SHARER = "employee"


@dataclass(frozen=True)
class Row:
    who: str
    # Which object of the world the URL names (None: no object).
    obj: str | None = None
    methods: tuple[str, ...] = ("GET", "POST")
    # Roles allowed, for SIGNED_IN rows that only some roles may use (others: 404).
    roles: tuple[str, ...] | None = None


GET_ONLY = ("GET",)
POST_ONLY = ("POST",)
FILING = (User.Role.MANAGER, User.Role.HR, User.Role.ADMIN)
PEOPLE = (User.Role.HR, User.Role.ADMIN)
HR_ONLY = (User.Role.HR,)

MATRIX: dict[str, Row] = {
    # Public pages.
    "requests_log:home": Row(PUBLIC, methods=GET_ONLY),
    "health": Row(PUBLIC, methods=GET_ONLY),
    "login": Row(PUBLIC),
    "logout": Row(PUBLIC, methods=POST_ONLY),
    "signup": Row(PUBLIC),
    "password_reset": Row(PUBLIC),
    "password_reset_done": Row(PUBLIC, methods=GET_ONLY),
    "password_reset_confirm": Row(TOKEN),
    "password_reset_complete": Row(PUBLIC, methods=GET_ONLY),
    "exports:verify": Row(PUBLIC),
    "exports:public-key": Row(PUBLIC, methods=GET_ONLY),
    "exports:public-key-pem": Row(PUBLIC, methods=GET_ONLY),
    "exports:receipt-address-confirm": Row(TOKEN),
    "exports:verify-job": Row(TOKEN, methods=GET_ONLY),
    "exports:verify-job-status": Row(TOKEN, methods=GET_ONLY),
    "login-code": Row(PUBLIC),
    "email-verify": Row(TOKEN),
    "signup-invitation": Row(TOKEN),
    # Signed in: the viewer's own pages, no object named.
    "password_change": Row(SIGNED_IN),
    "password_change_done": Row(SIGNED_IN, methods=GET_ONLY),
    "requests_log:my-record": Row(SIGNED_IN, methods=GET_ONLY),
    "requests_log:request-create": Row(SIGNED_IN),
    "requests_log:notification-list": Row(SIGNED_IN, methods=GET_ONLY),
    "requests_log:notification-read-all": Row(SIGNED_IN, methods=POST_ONLY),
    "requests_log:personal-data": Row(SIGNED_IN, methods=GET_ONLY),
    "requests_log:account-close": Row(SIGNED_IN),
    "boundary:profile": Row(SIGNED_IN),
    "boundary:account-list": Row(SIGNED_IN, methods=GET_ONLY),
    "boundary:account-create": Row(SIGNED_IN),
    "exports:export-list": Row(SIGNED_IN, methods=GET_ONLY),
    "exports:export-create": Row(SIGNED_IN),
    "exports:receipt-list": Row(SIGNED_IN, methods=GET_ONLY),
    "exports:receipt-issue": Row(SIGNED_IN, methods=POST_ONLY),
    "exports:receipt-address": Row(SIGNED_IN, methods=POST_ONLY),
    "boundary:two-factor": Row(SIGNED_IN, methods=GET_ONLY),
    "boundary:two-factor-setup": Row(SIGNED_IN),
    "boundary:recovery-codes": Row(SIGNED_IN),
    "boundary:two-factor-disable": Row(SIGNED_IN, methods=POST_ONLY),
    "boundary:email-verification-resend": Row(SIGNED_IN, methods=POST_ONLY),
    # People: HR and admins only.
    "people-invite": Row(SIGNED_IN, roles=PEOPLE),
    "people-manager": Row(SIGNED_IN, roles=PEOPLE),
    # The owner's objects.
    "requests_log:request-detail": Row(OWNER, "request", GET_ONLY),
    "requests_log:request-correct": Row(OWNER, "request"),
    "requests_log:decision-create": Row(OWNER, "request"),
    "requests_log:reply-sent": Row(OWNER, "decision", POST_ONLY),
    "requests_log:follow-up-create": Row(OWNER, "request"),
    "requests_log:request-withdraw": Row(OWNER, "request"),
    "requests_log:evidence-create": Row(OWNER, "request", POST_ONLY),
    "requests_log:disclosure-proof-create": Row(OWNER, "request", POST_ONLY),
    "requests_log:evidence-download": Row(OWNER, "evidence", GET_ONLY),
    "requests_log:notification-read": Row(OWNER, "notification", POST_ONLY),
    "boundary:account-edit": Row(OWNER, "account"),
    "boundary:account-remove": Row(OWNER, "account", POST_ONLY),
    "exports:export-detail": Row(OWNER, "export", GET_ONLY),
    "exports:export-status": Row(OWNER, "export", GET_ONLY),
    "exports:export-download": Row(OWNER, "export", GET_ONLY),
    "exports:receipt-download": Row(OWNER, "checkpoint", GET_ONLY),
    "requests_log:acknowledgement-link-create": Row(OWNER, "decision", POST_ONLY),
    "requests_log:acknowledge": Row(TOKEN),
    # A manager's pages: the requests they filed, to their own reports.
    "manager:filed-list": Row(SIGNED_IN, methods=GET_ONLY, roles=FILING),
    "manager:file-choose": Row(SIGNED_IN, methods=GET_ONLY, roles=FILING),
    "manager:file-create": Row(FILER, "report"),
    "manager:filed-detail": Row(FILER, "filed", GET_ONLY),
    "manager:filed-withdraw": Row(FILER, "filed", POST_ONLY),
    # Sharing with HR: the owner's self-logged requests, one or all.
    "requests_log:request-share": Row(OWNER, "request", POST_ONLY),
    "requests_log:request-share-stop": Row(OWNER, "request", POST_ONLY),
    "requests_log:share-all": Row(SIGNED_IN, methods=POST_ONLY),
    "requests_log:share-stop-all": Row(SIGNED_IN, methods=POST_ONLY),
    # HR's pages: HR alone (not admins), and of a request only what is shared or filed.
    "hr:dashboard": Row(SIGNED_IN, methods=GET_ONLY, roles=HR_ONLY),
    "hr:request-list": Row(SIGNED_IN, methods=GET_ONLY, roles=HR_ONLY),
    "hr:request-detail": Row(HR_READER, "shared", GET_ONLY),
    "hr:export": Row(SIGNED_IN, methods=POST_ONLY, roles=HR_ONLY),
}

# Fields a POST may try to set that no form takes: none of them may change.
EXTRA_FIELDS = {
    "employee": "",
    "status": "accepted",
    "decided_at": "2020-01-01T00:00",
    "filed_by": "",
    "role": User.Role.ADMIN,
    "id": "999999",
    "is_staff": "on",
    "is_superuser": "on",
    "manager": "",
}


def make_world(owner: User) -> dict[str, dict[str, Any]]:
    """One of each thing a URL names, all on `owner`'s record: {kind: url kwargs}."""
    account = SocialAccountFactory(owner=owner)
    promotion_request = log_request(owner, target_accounts=[account])
    decision = services.decision_record(
        promotion_request=promotion_request,
        decided_by=owner,
        kind="decline",
        decline_reasons=["no_time"],
    )
    evidence = services.evidence_add(
        promotion_request=promotion_request,
        uploaded_file=SimpleUploadedFile("note.txt", b"what was said", "text/plain"),
        uploaded_by=owner,
    )
    export = export_services.export_build(
        export=export_services.export_request(
            employee=owner, requested_by=owner, format="json", scope=Scope()
        )
    )
    notification = Notification.objects.create(user=owner, message="A reminder")
    checkpoint = receipts.checkpoint_issue(employee=owner, reason="asked")
    return {
        "request": {"pk": promotion_request.pk},
        "decision": {"pk": promotion_request.pk, "decision_pk": decision.pk},
        "evidence": {"pk": evidence.pk},
        "notification": {"pk": notification.pk},
        "account": {"pk": account.pk},
        "export": {"pk": export.pk},
        "checkpoint": {"pk": checkpoint.pk},
    }


def make_filer_world(filer: User) -> dict[str, dict[str, Any]]:
    """A report of `filer` (theirs in the cast, or a new one) and a request filed to them,
    still open: {kind: url kwargs}."""
    report = User.objects.filter(manager=filer).first() or UserFactory(manager=filer)
    filed = services.promotion_request_file(
        manager=filer,
        employee=report,
        target_accounts=[],
        promoted_item="The autumn collection",
        content_format=PromotionRequest.ContentFormat.VIDEOS,
    )
    return {"report": {"employee_pk": report.pk}, "filed": {"pk": filed.pk}}


def make_hr_world(owner: User, *, shared: bool) -> dict[str, dict[str, Any]]:
    """A request `owner` logged, shared with HR or not: {kind: url kwargs}."""
    logged = log_request(owner)
    if shared:
        sharing.promotion_requests_share(employee=owner, request_pks=[logged.pk])
    return {"shared": {"pk": logged.pk}}


TOKEN_KWARGS = {
    "password_reset_confirm": {"uidb64": "MQ", "token": "made-up-token"},
    "exports:receipt-address-confirm": {"token": "made-up-token"},
    "exports:verify-job": {"token": "made-up-token"},
    "exports:verify-job-status": {"token": "made-up-token"},
    "email-verify": {"token": "made-up-token"},
    "signup-invitation": {"token": "made-up-token"},
    "requests_log:acknowledge": {"token": "made-up-token"},
}


def sign_in(client: Client, user: User) -> None:
    """Signed in as after the login's code step, so HR and admins reach their pages."""
    login_with_otp(client, user)


def state_of_every_table() -> str:
    """A digest of every row of every Boundary table, in one query: a refused request
    must leave it as it was."""
    tables = sorted(
        model._meta.db_table
        for app in ("boundary", "requests_log")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.proxy
    )
    parts = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t)"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT concat_ws(',', {parts})")
        return hashlib.sha256(cursor.fetchone()[0].encode()).hexdigest()


def expected_answer(
    row: Row, viewer: User | None, owner: User | None, method: str, owner_name: str | None = None
) -> str:
    if method not in row.methods:
        # Login first, then the method: login_required wraps require_POST.
        if viewer is None and row.who not in (PUBLIC, TOKEN):
            return "login"
        return "405"
    if row.who == TOKEN:
        # A made-up token: its page says the link is not valid (a 404 of its own, or a
        # 200 or a redirect that says so); never a login, never a 500.
        return "token refused"
    if row.who == PUBLIC:
        return "allowed"
    if viewer is None:
        return "login"
    if row.roles is not None and viewer.role not in row.roles:
        return "404"
    if row.who == SIGNED_IN:
        return "allowed"
    if row.who == OWNER:
        return "allowed" if owner is not None and owner.pk == viewer.pk else "404"
    if row.who == FILER:
        return "allowed" if owner is not None and owner.pk == viewer.pk else "404"
    if row.who == HR_READER:
        return "allowed" if viewer.role == User.Role.HR and owner_name == SHARER else "404"
    raise AssertionError(f"unknown row kind {row.who}")


def served_names() -> list[str]:
    return sorted(
        {
            name
            for route, name in routes(get_resolver().url_patterns)
            if name and not route.startswith(settings.ADMIN_URL)
        }
    )


def test_every_url_has_a_row_in_the_matrix():
    served = set(served_names())

    assert sorted(served - set(MATRIX)) == [], "URLs without a row in the access matrix"
    assert sorted(set(MATRIX) - served) == [], "rows for URLs that no longer exist"


def owners_for(row: Row, cast: dict[str, User]) -> list[str | None]:
    """Whose objects a row's URL is tried with: A's and B's (the filer's and another
    filer's for FILER rows); None when the URL names no object."""
    if row.obj is None:
        return [None]
    if row.who == FILER:
        return ["manager", "other_manager"]
    return ["employee", "second_employee"]


def world_of(row: Row, owner: str, cast: dict[str, User]) -> dict[str, dict[str, Any]]:
    """The objects a row's URLs name, made for `owner` (a name in the cast)."""
    if row.who == FILER:
        return make_filer_world(cast[owner])
    if row.who == HR_READER:
        return make_hr_world(cast[owner], shared=owner == SHARER)
    return make_world(cast[owner])


def outcome(response, login_url: str) -> str:
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(f"{login_url}?next="):
        return "login"
    if response.status_code in (404, 405):
        return str(response.status_code)
    return "allowed" if response.status_code < 500 else f"error {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(name, cast, settings):
    settings.DEBUG = False
    row = MATRIX[name]
    worlds = {
        owner: world_of(row, owner, cast)
        for owner in {o for o in owners_for(row, cast) if o is not None}
    }
    login_url = reverse(settings.LOGIN_URL)
    not_found_body = Client().get("/no-such-page/").content
    clients = {name: Client() for name in CAST}
    for viewer_name, client in clients.items():
        if viewer_name in cast:
            sign_in(client, cast[viewer_name])
    # Every POST below is rolled back, so this is the state each refusal must leave.
    untouched = state_of_every_table()
    mismatches = []
    cases = 0
    for viewer_name, client in clients.items():
        viewer = cast.get(viewer_name)
        for owner_name in owners_for(row, cast):
            kwargs = worlds[owner_name][row.obj] if owner_name else TOKEN_KWARGS.get(name)
            url = reverse(name, kwargs=kwargs)
            owner = cast.get(owner_name) if owner_name else None
            for method in ("GET", "POST"):
                cases += 1
                expected = expected_answer(row, viewer, owner, method, owner_name)
                with transaction.atomic():
                    if method == "GET":
                        response = client.get(url)
                    else:
                        response = client.post(url, EXTRA_FIELDS)
                    got = outcome(response, login_url)
                    if expected == "token refused" and got in ("allowed", "404"):
                        got = expected
                    where = f"{method} {url} as {viewer_name}"
                    if got != expected:
                        mismatches.append(f"{where}: expected {expected}, got {got}")
                    elif got == "404" and response.content != not_found_body:
                        mismatches.append(f"{where}: a 404 with another body")
                    elif got != "allowed" and state_of_every_table() != untouched:
                        mismatches.append(f"{where}: refused, but something changed")
                    elif method == "POST" and got == "allowed":
                        mismatches += extra_fields_changed(where, cast)
                    transaction.set_rollback(True)
    assert mismatches == []
    assert cases >= 2 * len(CAST)


def extra_fields_changed(where: str, cast: dict[str, User]) -> list[str]:
    """What the extra fields of an allowed POST changed: nobody's role or flags, no
    request's owner or filer, no row 999999."""
    found = []
    roles = dict(User.objects.values_list("pk", "role"))
    if any(roles[user.pk] != user.role for user in cast.values()):
        found.append(f"{where}: a role changed")
    if User.objects.filter(is_superuser=True).exclude(pk=cast["administrator"].pk).exists():
        found.append(f"{where}: someone became a superuser")
    if PromotionRequest.objects.filter(pk=999999).exists():
        found.append(f"{where}: a request took the posted id")
    if PromotionRequest.objects.filter(status="accepted").exists():
        found.append(f"{where}: a request took the posted status")
    return found


@pytest.mark.django_db
def test_valid_posts_with_extra_fields_change_nothing_the_extras_name(
    client, employee, second_employee, manager
):
    """The writes that create things, each posted valid and with fields no form takes:
    the objects are the poster's, as her form and the services make them."""
    from tests.requests_log.test_views import local_minute, request_form_data

    theirs = log_request(second_employee)
    client.force_login(employee)
    extras = {
        **EXTRA_FIELDS,
        "employee": second_employee.pk,
        "owner": second_employee.pk,
        "filed_by": manager.pk,
        "decided_by": second_employee.pk,
        "promotion_request": theirs.pk,
        "source": PromotionRequest.Source.FILED_IN_APP,
        "number": "77",
    }

    client.post(reverse("requests_log:request-create"), {**request_form_data(), **extras})
    logged = PromotionRequest.objects.get(employee=employee)
    client.post(
        reverse("requests_log:decision-create", args=[logged.pk]),
        {
            **extras,
            "kind": "decline",
            "decided_at": local_minute(timezone.now()),
            "decline_reasons": ["personal_separate"],
        },
    )
    client.post(
        reverse("requests_log:follow-up-create", args=[logged.pk]),
        {
            **extras,
            "kind": "pressure",
            "occurred_at": local_minute(timezone.now()),
            "who": "Daniel Reyes",
            "what_was_said": "Not a team player.",
        },
    )
    client.post(
        reverse("boundary:account-create"),
        {**extras, "platform": "instagram", "handle": "maya.makes", "boundary": "closed"},
    )

    logged.refresh_from_db()
    assert (logged.source, logged.filed_by_id, logged.number) == ("employee", None, 1)
    assert logged.status == PromotionRequest.Status.DECLINED
    decision = logged.decisions.get()
    assert decision.decided_by == employee
    assert logged.follow_ups.count() == 1
    assert theirs.decisions.count() == theirs.follow_ups.count() == 0
    assert SocialAccount.objects.get(handle="maya.makes").owner == employee
    employee.refresh_from_db()
    assert (employee.role, employee.is_staff, employee.is_superuser) == ("employee", False, False)
    assert employee.manager == manager


@pytest.mark.django_db
def test_the_admin_is_for_admins_alone(cast):
    """The Django admin's URLs (its own URLconf, outside MATRIX): every registered model's
    list, as each of the cast. Only an admin gets in; everyone else is sent to log in."""
    from django.contrib import admin

    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    answers = {}
    for viewer_name in CAST:
        client = Client()
        if viewer_name in cast:
            sign_in(client, cast[viewer_name])
        for url in urls:
            response = client.get(url)
            sent_to_login = response.status_code == 302 and "login" in response["Location"]
            answers[viewer_name, url] = (
                "in"
                if response.status_code == 200
                else ("login" if sent_to_login else str(response.status_code))
            )

    expected = {
        (viewer_name, url): "in" if viewer_name == "administrator" else "login"
        for viewer_name in CAST
        for url in urls
    }
    assert answers == expected
    assert len(urls) > 5
