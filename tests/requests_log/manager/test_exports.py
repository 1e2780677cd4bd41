"""A record with a filed request, an answer with a message, the filer's "seen" and an
acknowledgement: every export format verifies, and the PDF tells what happened."""

import pytest
from django.utils import timezone

from requests_log import services
from requests_log.exports import signing, verifier
from tests.factories import decline, log_request
from tests.requests_log.exports.conftest import check
from tests.requests_log.exports.test_formats import make_csv, make_json, make_pdf, make_zip
from tests.requests_log.exports.test_record import pdf_text
from tests.support import plain

from .conftest import accept, file_request


@pytest.fixture
def answered_and_acknowledged(manager, employee, open_account):
    filed = file_request(manager, employee, target_accounts=[open_account])
    decision = accept(filed)
    services.decision_mark_seen(decision_id=decision.pk, viewer=manager)
    logged = log_request(employee, promoted_item="The summer sale")
    token = services.acknowledgement_link_create(
        decision=decline(logged, at=timezone.now()), actor=employee
    )
    services.acknowledgement_confirm(token=token)
    return filed


@pytest.fixture
def trusted():
    return {signing.signing_key().fingerprint}


@pytest.mark.parametrize("make", [make_json, make_csv, make_pdf, make_zip])
def test_every_format_verifies_with_the_new_events(
    answered_and_acknowledged, employee, trusted, make
):
    result = check(make(employee), trusted)

    assert (result.verdict, result.where) == (verifier.INTACT, "")


def test_the_pdf_tells_the_filing_the_message_the_seen_and_the_acknowledgement(
    answered_and_acknowledged, employee
):
    text = " ".join(plain(pdf_text(make_pdf(employee))).split())

    assert "filed a request in Boundary" in text
    assert "declining carries no penalty" in text
    assert "#ad first, and the paid-partnership label" in text
    assert "Message to the requester" in text
    assert "Opened by the requester in Boundary" in text
    assert "Receipt confirmed by the requester" in text
