"""Downloading everything Boundary holds about oneself (requests_log/personal_data.py):
all of it, nothing of anyone else's, no secret, and the same queries for any size."""

import json

import pytest
from django.urls import reverse

from requests_log import services
from requests_log.exports import receipts
from requests_log.models import Notification
from tests.factories import SocialAccountFactory, log_request
from tests.support import login_with_otp

pytestmark = pytest.mark.django_db


def download(client) -> dict:
    response = client.get(reverse("requests_log:personal-data"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="boundary-my-data-')
    assert "no-store" in response["Cache-Control"]
    return json.loads(b"".join(response.streaming_content))


def test_it_holds_her_profile_accounts_notices_receipts_and_whole_record(client, employee):
    account = SocialAccountFactory(owner=employee, about="My sketchbook")
    promotion_request = log_request(employee, target_accounts=[account], notes="Private note")
    services.decision_record(
        promotion_request=promotion_request, decided_by=employee, kind="decline"
    )
    Notification.objects.create(user=employee, message="A reminder")
    receipts.checkpoint_issue(employee=employee, reason="asked")
    client.force_login(employee)

    data = download(client)

    assert data["format"] == "boundary-personal-data/1"
    assert data["profile"]["email"] == employee.email
    assert data["profile"]["manager"] == "Daniel Reyes"
    assert [item["about"] for item in data["accounts"]] == ["My sketchbook"]
    assert [item["message"] for item in data["notifications"]] == ["A reminder"]
    assert len(data["receipts"]) == 1
    seqs = [event["seq"] for event in data["record"]]
    assert seqs == list(range(1, employee.timeline_events.count() + 1))
    logged = next(event for event in data["record"] if event["kind"] == "logged")
    assert "Private note" in json.dumps(logged["payload"])


def test_it_holds_nothing_of_anyone_else_and_no_secret(client, employee, second_employee):
    log_request(second_employee, promoted_item="Sam's private ask", notes="Sam's note")
    log_request(employee)
    device = login_with_otp(client, employee)

    text = json.dumps(download(client))

    assert "Sam" not in text
    assert employee.password not in text
    assert device.key not in text
    assert client.session.session_key not in text
    assert "password" not in text


def test_the_same_queries_for_one_request_and_thirty(client, employee):
    client.force_login(employee)

    def queries_for_download() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            download(client)
        return len(captured)

    log_request(employee)
    one = queries_for_download()
    for _ in range(29):
        log_request(employee)

    assert queries_for_download() == one


def test_it_needs_a_login(client):
    response = client.get(reverse("requests_log:personal-data"))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
