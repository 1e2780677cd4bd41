"""Closing an account (issue 13, data rights): what is kept, what goes at once, what the
owner's erasure step replaces by digests, and that every chain still verifies."""

import io
import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from boundary.models import SocialAccount, User
from requests_log import chain, services, sharing
from requests_log.closing import AccountClosed, account_close, account_erase
from requests_log.exports import signing, verifier
from requests_log.models import (
    AccountClosure,
    Decision,
    Evidence,
    FollowUp,
    Notification,
    PromotionRequest,
    TimelineEvent,
)
from requests_log.timeline import chained_event, verify_chain
from tests.factories import SocialAccountFactory, log_request
from tests.requests_log.exports.conftest import PNG, check
from tests.requests_log.exports.test_formats import make_csv, make_json

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
PRIVATE_WORDS = "Post it by Friday or it goes in your review."
SHARED_WORDS = "You are expected to post three videos."


@pytest.fixture
def record(maya):
    """Maya's record: one request shared with HR (on her Instagram), one not (on her
    TikTok) with a decline, a follow-up and a photo."""
    instagram = SocialAccountFactory(owner=maya, handle="maya.makes")
    tiktok = SocialAccountFactory(
        owner=maya, handle="maya.dances", platform=SocialAccount.Platform.TIKTOK
    )
    shared = log_request(maya, target_accounts=[instagram], words_used=SHARED_WORDS)
    private = log_request(
        maya,
        target_accounts=[tiktok],
        words_used=PRIVATE_WORDS,
        witnesses="Priya Shah",
        evidence_files=[SimpleUploadedFile("board.png", PNG, content_type="image/png")],
    )
    services.decision_record(
        promotion_request=private,
        decided_by=maya,
        kind=Decision.Kind.DECLINE,
        decline_reasons=[Decision.DeclineReason.PERSONAL_SEPARATE],
        decided_at=timezone.now(),
        message_to_requester="I keep my accounts personal.",
    )
    services.follow_up_add(
        promotion_request=private,
        actor=maya,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=timezone.now(),
        who="Daniel Reyes",
        what_was_said="Not a team player.",
    )
    sharing.promotion_requests_share(employee=maya, request_pks=[shared.pk])
    Notification.objects.create(user=maya, message="A reminder", promotion_request=private)
    return {"shared": shared, "private": private, "instagram": instagram, "tiktok": tiktok}


@pytest.fixture
def erase(connected_as_owner):
    """Run the owner's erasure step, as the operator's daily command does."""

    def run() -> str:
        output = io.StringIO()
        with connected_as_owner():
            call_command("erase_closed_accounts", stdout=output)
        return output.getvalue()

    return run


def signed_in(client: Client) -> bool:
    return client.get(reverse("requests_log:my-record")).status_code == 200


def close_on_the_page(client: Client, password: str = PASSWORD):
    return client.post(
        reverse("requests_log:account-close"), {"password": password, "understood": "on"}
    )


def timeline_text(employee: User) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(payload::text, ' ') FROM requests_log_timelineevent "
            "WHERE employee_id = %s",
            [employee.pk],
        )
        return cursor.fetchone()[0]


def test_the_page_says_what_closing_keeps_and_removes(client, maya, record):
    client.force_login(maya)

    page = client.get(reverse("requests_log:account-close"))

    text = page.content.decode()
    assert "The 1 request you shared with HR" in text
    assert "Every word of the 1 other request" in text
    assert reverse("requests_log:personal-data") in text


def test_a_wrong_password_or_no_consent_closes_nothing(client, maya, record):
    client.force_login(maya)

    wrong = close_on_the_page(client, password="not my password")
    unconfirmed = client.post(reverse("requests_log:account-close"), {"password": PASSWORD})

    assert "That is not your password." in wrong.content.decode()
    assert unconfirmed.status_code == 200
    assert "This field is required." in unconfirmed.content.decode()
    maya.refresh_from_db()
    assert maya.is_active
    assert maya.closed_at is None
    assert not AccountClosure.objects.exists()


def test_closing_signs_out_everywhere_and_no_one_signs_in_again(maya, record):
    laptop, phone = Client(), Client()
    laptop.force_login(maya)
    phone.force_login(maya)

    closed = close_on_the_page(laptop)

    assert "Your account is closed" in closed.content.decode()
    assert not signed_in(laptop)
    assert not signed_in(phone)
    login = Client().post(reverse("login"), {"username": "maya@example.com", "password": PASSWORD})
    assert login.status_code == 200  # the form again, not a redirect into the app
    maya.refresh_from_db()
    assert (maya.is_active, maya.email) == (False, f"closed-{maya.pk}@closed.invalid")
    assert not maya.has_usable_password()


def test_closing_keeps_what_was_shared_with_hr_and_strips_the_rest(maya, record):
    TOTPDevice.objects.create(user=maya, name="Phone", confirmed=True)
    evidence = Evidence.objects.get(promotion_request=record["private"])
    photo = evidence.file.path

    account_close(employee=maya)

    shared = PromotionRequest.objects.get(pk=record["shared"].pk)
    private = PromotionRequest.objects.get(pk=record["private"].pk)
    assert shared.words_used == SHARED_WORDS
    assert (private.words_used, private.requester_name, private.witnesses) == ("", "", "")
    assert private.decisions.get().message_to_requester == ""
    assert private.follow_ups.get().what_was_said == ""
    evidence.refresh_from_db()
    assert (evidence.file.name, evidence.original_name) == ("", "")
    assert evidence.sha256  # what the chain says the file was
    assert not os.path.exists(photo)
    assert SocialAccount.objects.get(pk=record["instagram"].pk).handle == "maya.makes"
    tiktok = SocialAccount.objects.get(pk=record["tiktok"].pk)
    assert (tiktok.handle, tiktok.archived_at is not None) == (f"closed-{tiktok.pk}", True)
    assert not Notification.objects.filter(user=maya).exists()
    assert not TOTPDevice.objects.filter(user=maya).exists()
    maya.refresh_from_db()
    assert maya.display_name == "Maya Okafor"  # HR reads the shared request by her name
    assert AccountClosure.objects.get(employee=maya).kept_request_ids == [record["shared"].pk]
    # The owner's step has not run: the chain is whole, and still holds the words.
    assert verify_chain(employee=maya).ok
    assert PRIVATE_WORDS in timeline_text(maya)


def test_closing_with_nothing_shared_leaves_no_name(maya):
    log_request(maya)

    account_close(employee=maya)

    maya.refresh_from_db()
    assert maya.display_name == "Closed account"
    assert AccountClosure.objects.get(employee=maya).kept_request_ids == []


def test_erasure_replaces_each_value_by_its_digest_and_the_chain_still_verifies(
    maya, record, erase
):
    account_close(employee=maya)

    said = erase()

    text = timeline_text(maya)
    for words in (PRIVATE_WORDS, "Priya Shah", "Not a team player.", "maya.dances"):
        assert words not in text
    assert SHARED_WORDS in text
    assert "maya.makes" in text
    report = verify_chain(employee=maya)
    assert (report.ok, report.drift) == (True, ())
    closure = AccountClosure.objects.get(employee=maya)
    assert closure.erased_at is not None
    assert f"{closure.fields_erased} values erased in {closure.events_erased} events" in said
    logged = TimelineEvent.objects.get(promotion_request=record["private"], kind="logged")
    assert chain.erased_digest(logged.payload["words_used"]) is not None


def test_each_erased_value_keeps_the_digest_of_what_it_was(maya, record, erase):
    event = TimelineEvent.objects.get(promotion_request=record["private"], kind="logged")
    salts = chain.field_salts(event.salt, event.payload)
    digests_before = chain.field_digests(salts, event.payload)
    account_close(employee=maya)

    erase()

    event = TimelineEvent.objects.get(pk=event.pk)
    assert event.payload["words_used"] == {chain.ERASED: digests_before["words_used"]}
    assert chain.field_digests(chain.field_salts(event.salt, event.payload), event.payload) == (
        digests_before
    )


@pytest.mark.parametrize("make", [make_json, make_csv])
def test_an_export_after_erasure_verifies_with_the_erased_values_withheld(
    maya, record, erase, make
):
    account_close(employee=maya)
    erase()
    maya.refresh_from_db()

    data = make(maya)

    result = check(data, {signing.signing_key().fingerprint})
    assert result.verdict == verifier.INTACT
    assert result.chain.fields_withheld > 0
    assert PRIVATE_WORDS.encode() not in data
    assert SHARED_WORDS.encode() in data


def test_erasing_again_changes_nothing(maya, record, erase, connected_as_owner):
    account_close(employee=maya)
    erase()
    closure = AccountClosure.objects.get(employee=maya)
    text = timeline_text(maya)

    with connected_as_owner():
        again = account_erase(closure)

    assert "0 closed account(s) erased." in erase()
    assert again.erased_at == closure.erased_at
    assert timeline_text(maya) == text


def test_the_apps_database_role_may_not_erase(maya, record):
    account_close(employee=maya)

    with pytest.raises(CommandError, match="run erase_closed_accounts as the database's owner"):
        call_command("erase_closed_accounts", stdout=io.StringIO())
    assert PRIVATE_WORDS in timeline_text(maya)


def test_a_legal_hold_keeps_the_whole_record_until_it_is_released(maya, record, erase):
    call_command("legal_hold", "place", "maya@example.com", "--reason", "Claim 2026-118")

    account_close(employee=maya)
    erase()

    assert PromotionRequest.objects.get(pk=record["private"].pk).words_used == PRIVATE_WORDS
    assert PRIVATE_WORDS in timeline_text(maya)
    assert AccountClosure.objects.get(employee=maya).erased_at is None
    assert verify_chain(employee=maya).ok

    # Her address is gone: the operator names her by id.
    call_command("legal_hold", "release", str(maya.pk))
    erase()

    assert PromotionRequest.objects.get(pk=record["private"].pk).words_used == ""
    assert PRIVATE_WORDS not in timeline_text(maya)
    assert SHARED_WORDS in timeline_text(maya)
    assert verify_chain(employee=maya).ok


def test_legal_hold_refuses_a_second_hold_and_an_unknown_person(maya):
    call_command("legal_hold", "place", "maya@example.com", "--reason", "Claim")

    with pytest.raises(CommandError, match="in force already"):
        call_command("legal_hold", "place", "maya@example.com", "--reason", "Again")
    with pytest.raises(CommandError, match="No one is"):
        call_command("legal_hold", "release", "nobody@example.com")


def test_a_closed_account_cannot_be_closed_again_or_reached(client, maya, record):
    account_close(employee=maya)

    with pytest.raises(AccountClosed):
        account_close(employee=maya)
    client.force_login(User.objects.get(pk=maya.pk))
    assert client.get(reverse("requests_log:account-close")).status_code == 302


def test_a_new_event_cannot_carry_an_erased_value(maya):
    with pytest.raises(ValueError, match="erased value"):
        chained_event(
            employee=maya,
            seq=1,
            prev_hash=chain.GENESIS_HASH,
            kind=TimelineEvent.Kind.FOLLOW_UP,
            actor=None,
            payload={"what_was_said": {chain.ERASED: "0" * 64}},
            promotion_request=None,
            occurred_at=timezone.now() - timedelta(minutes=1),
            recorded_at=timezone.now(),
        )
