"""Response headers (issue 13, Headers): what was there stays (HSTS, a CSP without inline
code, nosniff, Referrer-Policy, COOP, frame-ancestors); every signed-in page and every
download says `Cache-Control: no-store`; every response has a Permissions-Policy; and a
refused form gets a page of ours that keeps to the CSP."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from requests_log import services
from tests.factories import log_request
from tests.support import login_with_otp
from tests.test_access_matrix import MATRIX, TOKEN, TOKEN_KWARGS, world_of

pytestmark = pytest.mark.django_db

# Every page (GET) the URLconf serves, by name; POST-only ones have nothing to cache.
GET_PAGES = sorted(name for name, row in MATRIX.items() if "GET" in row.methods)


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def url_of(name: str, cast) -> str:
    row = MATRIX[name]
    if row.who == TOKEN:
        return reverse(name, kwargs=TOKEN_KWARGS[name])
    if row.obj is None:
        return reverse(name)
    owner = "manager" if row.who == "filer" else "employee"
    return reverse(name, kwargs=world_of(row, owner, cast)[row.obj])


# --- Cache-Control --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["employee", "manager", "hr"])
def test_every_page_a_signed_in_person_gets_says_no_store(cast, who):
    client = Client()
    login_with_otp(client, cast[who])
    urls = {name: url_of(name, cast) for name in GET_PAGES}

    answers = {name: client.get(url) for name, url in urls.items()}

    assert sorted(name for name, response in answers.items() if not no_store(response)) == []
    assert {response.status_code for response in answers.values()} <= {200, 302, 400, 404}
    assert answers["requests_log:my-record"].status_code == 200


def test_a_public_page_seen_signed_in_says_no_store_and_signed_out_may_be_cached(maya):
    signed_in = Client()
    signed_in.force_login(maya)

    seen_in = signed_in.get(reverse("exports:public-key"))
    seen_out = Client().get(reverse("exports:public-key"))

    assert seen_in.status_code == seen_out.status_code == 200
    assert no_store(seen_in)
    assert not no_store(seen_out)


def test_an_anonymous_download_says_no_store():
    response = Client().get(reverse("exports:public-key-pem"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert no_store(response)


def test_evidence_and_export_downloads_say_no_store(client, cast):
    maya = cast["employee"]
    client.force_login(maya)
    world = world_of(MATRIX["exports:export-download"], "employee", cast)
    evidence = services.evidence_add(
        promotion_request=log_request(maya),
        uploaded_file=SimpleUploadedFile("note.txt", b"what was said", "text/plain"),
        uploaded_by=maya,
    )

    export = client.get(reverse("exports:export-download", kwargs=world["export"]))
    evidence_file = client.get(reverse("requests_log:evidence-download", args=[evidence.pk]))

    assert (export.status_code, evidence_file.status_code) == (200, 200)
    assert export["Content-Disposition"].startswith("attachment")
    assert evidence_file["Content-Disposition"].startswith("attachment")
    assert no_store(export)
    assert no_store(evidence_file)


# --- Permissions-Policy and the headers already in place -------------------------------------


@pytest.mark.parametrize("name", ["requests_log:home", "login", "exports:verify", "health"])
def test_every_response_has_a_permissions_policy_that_turns_features_off(name):
    response = Client().get(reverse(name))

    policy = dict(part.strip().split("=", 1) for part in response["Permissions-Policy"].split(","))
    assert policy["camera"] == policy["microphone"] == policy["geolocation"] == "()"
    assert policy["payment"] == policy["usb"] == policy["display-capture"] == "()"
    assert policy["clipboard-write"] == "(self)"


def test_headers_in_place_stay(maya):
    client = Client()
    client.force_login(maya)

    response = client.get(reverse("requests_log:my-record"))

    policy = csp(response)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == policy["style-src"] == ["'self'"]
    assert policy["object-src"] == policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_hsts_over_https_when_configured_as_production_does(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    response = client.get(reverse("login"), secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- CSRF failure ---------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_gets_our_page_within_the_csp(maya):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maya)

    response = client.post(reverse("requests_log:request-create"), {"promoted_item": "x"})

    body = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in body
    assert "CSRF" not in body  # no reason, no Django debug text
    assert re.findall(r"<style|\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", body) == []
    assert csp(response)["script-src"] == ["'self'"]
    assert no_store(response)


def test_login_without_a_csrf_token_is_refused_and_signs_no_one_in(maya):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        reverse("login"),
        {"username": "maya@example.com", "password": "correct horse battery staple"},
    )

    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert "_auth_user_id" not in client.session
