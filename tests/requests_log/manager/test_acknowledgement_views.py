from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from requests_log import services
from requests_log.models import AcknowledgementLink, TimelineEvent
from tests.factories import decline, log_request

from .conftest import accept, file_request


@pytest.fixture
def decision(employee):
    return decline(log_request(employee), at=timezone.now())


@pytest.fixture
def token(employee, decision) -> str:
    return services.acknowledgement_link_create(decision=decision, actor=employee)


def acknowledged() -> int:
    return TimelineEvent.objects.filter(kind=TimelineEvent.Kind.ACKNOWLEDGED).count()


def test_opening_the_link_asks_and_appends_nothing(client, token):
    response = client.get(reverse("requests_log:acknowledge", args=[token]))

    assert response.status_code == 200
    assert "Confirm you received <bdi>Maya</bdi>'s answer" in response.content.decode()
    assert acknowledged() == 0
    assert AcknowledgementLink.objects.get().used_at is None


def test_confirming_appends_once_then_the_link_is_no_longer_valid(client, token):
    url = reverse("requests_log:acknowledge", args=[token])

    confirmed = client.post(url)
    again = client.post(url)
    opened_again = client.get(url)
    unknown = client.get(reverse("requests_log:acknowledge", args=["made-up-token"]))

    assert confirmed.status_code == 200
    assert "Thank you" in confirmed.content.decode()
    assert acknowledged() == 1
    assert again.status_code == opened_again.status_code == unknown.status_code == 400
    assert again.content == opened_again.content == unknown.content
    assert "This link is no longer valid" in unknown.content.decode()


def test_an_expired_link_gets_the_same_page(client, token):
    url = reverse("requests_log:acknowledge", args=[token])
    unknown = client.get(reverse("requests_log:acknowledge", args=["made-up-token"]))

    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.post(url)

    assert response.status_code == 400
    assert response.content == unknown.content
    assert acknowledged() == 0


@pytest.mark.parametrize("token", ["²<script>", "a" * 3000, "%00", "..", "x" * 43])
def test_odd_tokens_never_fail(db, client, token):
    for method in (client.get, client.post):
        assert method(f"/ack/{token}/").status_code in (400, 404)


def test_the_employee_adds_a_link_and_sees_it_once_in_her_reply(client, employee, decision):
    client.force_login(employee)
    page = decision.promotion_request.get_absolute_url()

    client.post(
        reverse(
            "requests_log:acknowledgement-link-create",
            args=[decision.promotion_request_id, decision.pk],
        )
    )
    first = client.get(page).content.decode()
    second = client.get(page).content.decode()

    assert AcknowledgementLink.objects.filter(decision=decision).count() == 1
    assert "Please confirm you received this answer: http" in first
    assert "/ack/" not in second


def test_someone_else_cannot_add_a_link_to_her_answer(second_employee, manager, decision):
    for person in (second_employee, manager):
        client = Client()
        client.force_login(person)

        response = client.post(
            reverse(
                "requests_log:acknowledgement-link-create",
                args=[decision.promotion_request_id, decision.pk],
            )
        )

        assert response.status_code == 404
    assert AcknowledgementLink.objects.count() == 0


def test_her_page_says_when_the_filer_saw_the_answer(client, manager, employee):
    promotion_request = file_request(manager, employee)
    decision = accept(promotion_request)
    client.force_login(employee)
    before = client.get(promotion_request.get_absolute_url()).content.decode()

    services.decision_mark_seen(decision_id=decision.pk, viewer=manager)
    after = client.get(promotion_request.get_absolute_url()).content.decode()

    assert "Seen by <bdi>Daniel Reyes</bdi>" not in before
    assert "Seen by <bdi>Daniel Reyes</bdi> at" in after
    assert "Add an acknowledgement link" not in after
