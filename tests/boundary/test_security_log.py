"""The security log (boundary/security_log.py, requests_log/security.py): one JSON line
per event, each with actor, address, UTC time, request id and object id; no secret in
any line; no line forged by what a person types."""

import json
import logging
import re

import pytest
from django.core import mail
from django.urls import reverse

from boundary import services as people
from boundary.models import User
from requests_log import services
from requests_log.models import AcknowledgementLink
from tests.factories import log_request
from tests.support import login_with_otp

PASSWORD = "a long and private passphrase"


@pytest.fixture
def security_lines(caplog):
    """The security log's lines so far, parsed (each must be exactly one JSON line)."""
    caplog.set_level(logging.INFO, logger="boundary.security")

    def lines() -> list[dict]:
        found = []
        for record in caplog.records:
            if record.name == "boundary.security":
                text = record.getMessage()
                assert "\n" not in text
                assert "\r" not in text
                found.append(json.loads(text))
        return found

    return lines


def actions(lines: list[dict]) -> list[str]:
    return [line["action"] for line in lines]


@pytest.fixture
def maya(employee):
    employee.set_password(PASSWORD)
    employee.save(update_fields=["password"])
    return employee


@pytest.mark.django_db(transaction=True)
def test_login_failure_success_and_logout_each_log_one_line(client, maya, security_lines):
    client.post(reverse("login"), {"username": maya.email, "password": "wrong"})
    client.post(reverse("login"), {"username": maya.email, "password": PASSWORD})
    client.post(reverse("logout"))

    lines = security_lines()
    assert actions(lines) == ["login.failure", "login.success", "logout"]
    failure, success, logout = lines
    assert failure["tried"] == maya.email
    assert failure["actor"] is None
    assert success["actor"] == logout["actor"] == maya.pk
    for line in lines:
        assert line["ip"] == "127.0.0.1"
        assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert len({line["request_id"] for line in lines}) == 3


@pytest.mark.django_db(transaction=True)
def test_the_request_id_is_the_one_the_response_names(client, maya, security_lines):
    response = client.post(reverse("login"), {"username": maya.email, "password": "wrong"})

    assert security_lines()[0]["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_refused_access_is_logged_with_the_route_and_ids(
    client, maya, second_employee, security_lines
):
    theirs = log_request(second_employee)
    client.force_login(maya)

    client.get(reverse("requests_log:request-detail", args=[theirs.pk]))

    (line,) = [line for line in security_lines() if line["action"] == "access.refused"]
    assert line["actor"] == maya.pk
    assert (line["status"], line["route"], line["ids"]) == (
        404,
        "requests/<int:pk>/",
        {"pk": theirs.pk},
    )


@pytest.mark.django_db(transaction=True)
def test_decisions_exports_and_role_changes_are_logged_after_commit(
    maya, manager, administrator, security_lines
):
    promotion_request = log_request(maya)
    services.decision_record(promotion_request=promotion_request, decided_by=maya, kind="decline")
    people.user_role_set(user=manager, role=User.Role.HR, by=administrator)
    people.user_manager_set(user=maya, manager=None, by=administrator)

    lines = security_lines()
    assert actions(lines) == ["record.decision", "role.change", "manager.change"]
    decision, role, manager_line = lines
    assert (decision["actor"], decision["object"], decision["employee"]) == (
        maya.pk,
        promotion_request.pk,
        maya.pk,
    )
    assert (role["actor"], role["object"], role["role_from"], role["role_to"]) == (
        administrator.pk,
        manager.pk,
        "manager",
        "hr",
    )
    assert (manager_line["object"], manager_line["manager"]) == (maya.pk, None)


@pytest.mark.django_db
def test_nothing_rolled_back_is_logged(maya, security_lines):
    from django.db import transaction

    with transaction.atomic():
        promotion_request = log_request(maya)
        services.decision_record(
            promotion_request=promotion_request, decided_by=maya, kind="decline"
        )
        transaction.set_rollback(True)

    assert security_lines() == []


@pytest.mark.django_db(transaction=True)
def test_a_typed_newline_cannot_forge_a_line(client, security_lines):
    forged = 'x@example.com\n{"action": "login.success", "actor": 1}'

    client.post(reverse("login"), {"username": forged, "password": "wrong"})

    lines = security_lines()
    assert actions(lines) == ["login.failure"]
    assert lines[0]["tried"] == forged


@pytest.mark.django_db(transaction=True)
def test_no_password_session_key_or_token_reaches_the_log(
    client, maya, manager, caplog, security_lines
):
    """A day's worth of secrets goes through the app; none of them is in any log line
    (the security log's or any other logger's)."""
    caplog.set_level(logging.DEBUG)
    client.post(reverse("login"), {"username": maya.email, "password": PASSWORD})
    session_key = client.session.session_key
    client.post(reverse("password_reset"), {"email": maya.email})
    reset_link = re.search(r"/reset/\S+/", mail.outbox[-1].body).group(0)
    client.get(reset_link)
    filed = services.promotion_request_file(
        manager=manager,
        employee=maya,
        target_accounts=[],
        promoted_item="Launch",
        content_format="posts",
    )
    decision = services.decision_record(promotion_request=filed, decided_by=maya, kind="decline")
    ack_token = services.acknowledgement_link_create(decision=decision, actor=maya)
    client.get(reverse("requests_log:acknowledge", args=[ack_token]))
    client.post(reverse("requests_log:acknowledge", args=[ack_token]))
    client.get(reverse("requests_log:acknowledge", args=["made-up-" + ack_token[:8]]))
    device = login_with_otp(client, manager)

    text = "\n".join(record.getMessage() for record in caplog.records)
    secrets = {
        "password": PASSWORD,
        "session key": session_key,
        "reset token": reset_link.rstrip("/").rsplit("/", 1)[-1],
        "acknowledgement token": ack_token,
        "TOTP key": device.key,
    }
    assert [name for name, secret in secrets.items() if secret and secret in text] == []
    assert AcknowledgementLink.objects.filter(used_at__isnull=False).count() == 1
    assert "login.success" in actions(security_lines())
