import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from boundary.models import SocialAccount
from requests_log import chain, replies, selectors, services, timeline
from requests_log.models import (
    Decision,
    Evidence,
    FollowUp,
    PromotionRequest,
    RequestTarget,
    TimelineEvent,
)
from tests.factories import SocialAccountFactory, UserFactory, decline, log_request
from tests.support import plain

pytestmark = pytest.mark.django_db

Boundary = SocialAccount.Boundary
Framing = PromotionRequest.Framing
MONDAY = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)


def kinds(promotion_request):
    return list(promotion_request.events.order_by("seq").values_list("kind", flat=True))


def flag_codes(promotion_request):
    fresh = PromotionRequest.objects.get(pk=promotion_request.pk)
    return [(flag.code, flag.level) for flag in selectors.flags_of(fresh)]


# --- Logging ----------------------------------------------------------------------------


def test_log_appends_logged_event_with_snapshot_of_targets_and_boundaries(employee):
    instagram = SocialAccountFactory(
        owner=employee, platform="instagram", handle="maya.makes", boundary=Boundary.CLOSED
    )
    tiktok = SocialAccountFactory(
        owner=employee, platform="tiktok", handle="mayamakes", boundary=Boundary.ASK_FIRST
    )

    promotion_request = log_request(
        employee,
        target_accounts=[tiktok, instagram],
        occurred_at=MONDAY,
        deadline=MONDAY + timedelta(days=4),
        framing=Framing.EXPECTED,
        compensation_offered="",
        witnesses="Ana, Ben",
    )

    event = TimelineEvent.objects.get(promotion_request=promotion_request)
    assert (event.seq, event.kind, event.actor, event.occurred_at, event.prev_hash) == (
        1,
        TimelineEvent.Kind.LOGGED,
        employee,
        MONDAY,
        chain.GENESIS_HASH,
    )
    assert event.payload == {
        "actor_name": "Maya Okafor",
        "requester_name": "Daniel Reyes",
        "requester_title": "Head of Marketing",
        "occurred_at": "2025-06-30T09:00:00.000000Z",
        "channel": "meeting",
        "setting": "Marketing meeting",
        "words_used": "Would you post about the new line?",
        "promoted_item": "The new product line",
        "content_format": "videos",
        "quantity": 3,
        "deadline": "2025-07-04T09:00:00.000000Z",
        "framing": "expected",
        "compensation_offered": "",
        "witnesses": "Ana, Ben",
        "notes": "",
        "requester_user": None,
        "source": "employee",
        "number": 1,
        "targets": [
            {
                "account": instagram.pk,
                "platform": "instagram",
                "handle": "maya.makes",
                "boundary": "closed",
            },
            {
                "account": tiktok.pk,
                "platform": "tiktok",
                "handle": "mayamakes",
                "boundary": "ask_first",
            },
        ],
    }


def test_log_keeps_boundary_as_it_was_when_account_changes_later(employee):
    account = SocialAccountFactory(owner=employee, boundary=Boundary.CLOSED)
    promotion_request = log_request(employee, target_accounts=[account])

    account.boundary = Boundary.OPEN
    account.save(update_fields=["boundary"])

    target = RequestTarget.objects.get(promotion_request=promotion_request)
    assert target.boundary_at_request == Boundary.CLOSED
    assert flag_codes(promotion_request) == [("closed_account", "danger")]


def test_log_filed_in_app_appends_filed_event_and_records_who_filed(employee):
    manager = UserFactory(role="manager")

    promotion_request = log_request(
        employee,
        actor=manager,
        source=PromotionRequest.Source.FILED_IN_APP,
        requester_user=manager,
        requester_name=manager.display_name,
    )

    event = promotion_request.events.get()
    assert (promotion_request.filed_by, promotion_request.requester_key) == (
        manager,
        f"user:{manager.pk}",
    )
    assert (event.kind, event.actor, event.payload["requester_user"], event.payload["source"]) == (
        TimelineEvent.Kind.FILED,
        manager,
        manager.pk,
        "filed",
    )


def test_log_with_evidence_appends_logged_then_evidence_events(employee):
    files = [
        SimpleUploadedFile("a.txt", b"first", content_type="text/plain"),
        SimpleUploadedFile("b.txt", b"second", content_type="text/plain"),
    ]

    promotion_request = log_request(employee, evidence_files=files)

    assert kinds(promotion_request) == ["logged", "evidence_added", "evidence_added"]
    assert sorted(promotion_request.evidence.values_list("original_name", flat=True)) == [
        "a.txt",
        "b.txt",
    ]


def test_log_targeting_someone_elses_account_raises_and_stores_nothing(employee):
    foreign = SocialAccountFactory()

    with pytest.raises(ValidationError, match="only target your own accounts"):
        log_request(employee, target_accounts=[foreign])

    assert list(PromotionRequest.objects.all()) == []
    assert list(TimelineEvent.objects.all()) == []


def test_log_refuses_unknown_fields(employee):
    with pytest.raises(TypeError):
        log_request(employee, status=PromotionRequest.Status.ACCEPTED)


def test_log_appends_to_one_chain_per_employee(employee):
    other = UserFactory()

    log_request(employee)
    log_request(other)
    log_request(employee)

    assert list(TimelineEvent.objects.filter(employee=employee).values_list("seq", flat=True)) == [
        1,
        2,
    ]
    assert timeline.verify_chain(employee=employee).ok
    assert timeline.verify_chain(employee=other).events_checked == 1


def test_correct_appends_corrected_event_with_old_and_new_values(employee):
    promotion_request = log_request(employee, occurred_at=MONDAY, quantity=3)
    logged = promotion_request.events.get()

    event = services.promotion_request_correct(
        promotion_request=promotion_request,
        actor=employee,
        reason="It was Tuesday, and four videos",
        occurred_at=MONDAY + timedelta(days=1),
        quantity=4,
        promoted_item="The new product line",  # unchanged: not listed
    )

    promotion_request.refresh_from_db()
    assert (event.kind, event.seq, event.prev_hash) == ("corrected", 2, logged.hash)
    assert event.payload == {
        "actor_name": "Maya Okafor",
        "changes": {
            "occurred_at": {
                "old": "2025-06-30T09:00:00.000000Z",
                "new": "2025-07-01T09:00:00.000000Z",
            },
            "quantity": {"old": 3, "new": 4},
        },
        "reason": "It was Tuesday, and four videos",
    }
    assert (promotion_request.occurred_at, promotion_request.quantity) == (
        MONDAY + timedelta(days=1),
        4,
    )


def test_correct_leaves_logged_event_unchanged(employee):
    promotion_request = log_request(employee, promoted_item="The new line")
    logged = promotion_request.events.get()

    services.promotion_request_correct(
        promotion_request=promotion_request, actor=employee, promoted_item="The autumn line"
    )

    stored = TimelineEvent.objects.get(pk=logged.pk)
    assert (stored.payload, stored.hash, stored.salt) == (logged.payload, logged.hash, logged.salt)
    assert stored.payload["promoted_item"] == "The new line"
    assert kinds(promotion_request) == ["logged", "corrected"]
    assert timeline.verify_chain(employee=employee).ok


def test_correct_with_nothing_changed_returns_none_and_appends_nothing(employee):
    promotion_request = log_request(employee, quantity=3)

    event = services.promotion_request_correct(
        promotion_request=promotion_request,
        actor=employee,
        quantity=3,
        requester_name="Daniel Reyes",
    )

    assert event is None
    assert kinds(promotion_request) == ["logged"]


def test_correct_requester_name_updates_requester_key(employee):
    promotion_request = log_request(employee, requester_name="Dan")

    services.promotion_request_correct(
        promotion_request=promotion_request, actor=employee, requester_name="Daniel Reyes"
    )

    promotion_request.refresh_from_db()
    assert promotion_request.requester_key == "name:daniel reyes"


def test_correct_the_person_picked_moves_the_flags_and_keeps_the_chain_whole(employee):
    """A request mislinked to her manager (she typed Priya but the picker said Daniel) is
    linked to Priya: the "asked again after a decline" flag then follows Priya's decline."""
    daniel = UserFactory(display_name="Daniel Reyes")
    priya = UserFactory(display_name="Priya Nair")
    earlier = log_request(employee, requester_user=priya, requester_name="Priya Nair")
    decline(earlier, at=timezone.now() - timedelta(minutes=30))
    mislinked = log_request(
        employee,
        requester_user=daniel,
        requester_name="Priya Nair",
        occurred_at=timezone.now() - timedelta(minutes=10),
    )
    assert ("asked_after_decline", "danger") not in flag_codes(mislinked)

    event = services.promotion_request_correct(
        promotion_request=mislinked, actor=employee, requester_user=priya, reason="Wrong pick"
    )

    mislinked.refresh_from_db()
    assert (mislinked.requester_user, mislinked.requester_key) == (priya, f"user:{priya.pk}")
    assert event.payload["changes"] == {
        "requester_user": {
            "old": daniel.pk,
            "new": priya.pk,
            "old_name": "Daniel Reyes",
            "new_name": "Priya Nair",
        }
    }
    assert ("asked_after_decline", "danger") in flag_codes(mislinked)
    # The chain's replay follows the pick too: no table says other than the events.
    report = timeline.verify_chain(employee=employee)
    assert (report.ok, report.drift) == (True, ())


def test_correct_unpicking_the_person_keys_the_request_by_the_name_typed(employee):
    daniel = UserFactory(display_name="Daniel Reyes")
    promotion_request = log_request(employee, requester_user=daniel, requester_name="Dan")

    event = services.promotion_request_correct(
        promotion_request=promotion_request, actor=employee, requester_user=None
    )

    promotion_request.refresh_from_db()
    assert (promotion_request.requester_user, promotion_request.requester_key) == (
        None,
        "name:dan",
    )
    assert event.payload["changes"]["requester_user"]["new_name"] == ""
    report = timeline.verify_chain(employee=employee)
    assert (report.ok, report.drift) == (True, ())


def test_correct_refuses_fields_that_are_not_correctable(employee):
    promotion_request = log_request(employee)

    with pytest.raises(TypeError):
        services.promotion_request_correct(
            promotion_request=promotion_request, actor=employee, status="accepted"
        )

    assert kinds(promotion_request) == ["logged"]


# --- Decisions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "terms", "status"),
    [
        ("accept", {"pay": "€400 per video", "disclosure_required": True}, "accepted"),
        ("decline", {"decline_reasons": ["content_fit"]}, "declined"),
        ("counter", {"details": "One story, paid"}, "negotiating"),
    ],
)
def test_decision_sets_status_from_kind(employee, kind, terms, status):
    promotion_request = log_request(employee)

    decision = services.decision_record(
        promotion_request=promotion_request, decided_by=employee, kind=kind, **terms
    )

    promotion_request.refresh_from_db()
    event = promotion_request.events.get(kind="decision")
    assert promotion_request.status == status
    assert event.payload == {
        "actor_name": "Maya Okafor",
        "decision": decision.pk,
        "kind": kind,
        "revises": False,
        "accounts": [],
        **terms,
    }


def test_decision_revision_appends_event_and_keeps_earlier_decision(employee):
    account = SocialAccountFactory(owner=employee)
    promotion_request = log_request(employee, target_accounts=[account])
    first = decline(promotion_request, at=timezone.now() - timedelta(hours=1))

    second = services.decision_record(
        promotion_request=promotion_request,
        decided_by=employee,
        kind=Decision.Kind.ACCEPT,
        accounts=[account],
        pay="€400",
    )

    promotion_request.refresh_from_db()
    decision_events = list(promotion_request.events.filter(kind="decision").order_by("seq"))
    assert list(promotion_request.decisions.all()) == [first, second]
    assert promotion_request.status == PromotionRequest.Status.ACCEPTED
    assert [(e.payload["decision"], e.payload["revises"]) for e in decision_events] == [
        (first.pk, False),
        (second.pk, True),
    ]
    assert decision_events[1].payload["accounts"] == [account.pk]
    assert Decision.objects.get(pk=first.pk).kind == Decision.Kind.DECLINE


def test_decision_with_someone_elses_account_raises(employee):
    promotion_request = log_request(employee)
    foreign = SocialAccountFactory()

    with pytest.raises(ValidationError, match="only target your own accounts"):
        services.decision_record(
            promotion_request=promotion_request,
            decided_by=employee,
            kind=Decision.Kind.ACCEPT,
            accounts=[foreign],
        )

    assert list(promotion_request.decisions.all()) == []


def test_decision_on_withdrawn_request_raises(employee):
    promotion_request = log_request(employee)
    services.promotion_request_withdraw(promotion_request=promotion_request, actor=employee)

    with pytest.raises(ValidationError, match="withdrawn"):
        decline(promotion_request, at=timezone.now())

    assert kinds(promotion_request) == ["logged", "withdrawn"]


# --- Replies ----------------------------------------------------------------------------


def test_reply_mark_sent_once_only(employee):
    promotion_request = log_request(employee)
    decision = decline(promotion_request, at=timezone.now())

    first = services.reply_mark_sent(decision=decision, actor=employee)
    second = services.reply_mark_sent(decision=decision, actor=employee)

    decision.refresh_from_db()
    assert (first.kind, first.payload) == (
        "reply_sent",
        {
            "decision": decision.pk,
            "reply": replies.reply_text_for(decision),
            "actor_name": "Maya Okafor",
        },
    )
    assert second is None
    assert decision.reply_sent_at is not None
    assert kinds(promotion_request) == ["logged", "decision", "reply_sent"]


# --- Follow-ups and withdrawal ----------------------------------------------------------


def test_follow_up_add_appends_event_with_what_was_said(employee):
    promotion_request = log_request(employee)
    when = timezone.now() - timedelta(minutes=5)

    follow_up = services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        kind=FollowUp.Kind.ASKED_AGAIN,
        occurred_at=when,
        who="Daniel Reyes",
        what_was_said="Any news on the videos?",
        witnesses="Ana",
    )

    event = promotion_request.events.get(kind="follow_up")
    assert (event.occurred_at, event.payload) == (
        when,
        {
            "follow_up": follow_up.pk,
            "kind": "asked_again",
            "who": "Daniel Reyes",
            "what_was_said": "Any news on the videos?",
            "witnesses": "Ana",
            "quoted": True,
            "actor_name": "Maya Okafor",
        },
    )


def test_withdraw_sets_status_and_appends_event(employee):
    promotion_request = log_request(employee)

    event = services.promotion_request_withdraw(
        promotion_request=promotion_request, actor=employee, note="Daniel said to forget it."
    )

    promotion_request.refresh_from_db()
    assert promotion_request.status == PromotionRequest.Status.WITHDRAWN
    assert (event.kind, event.payload) == (
        "withdrawn",
        {"note": "Daniel said to forget it.", "actor_name": "Maya Okafor"},
    )


def test_withdraw_twice_raises(employee):
    promotion_request = log_request(employee)
    services.promotion_request_withdraw(promotion_request=promotion_request, actor=employee)

    with pytest.raises(ValidationError, match="already withdrawn"):
        services.promotion_request_withdraw(promotion_request=promotion_request, actor=employee)

    assert kinds(promotion_request) == ["logged", "withdrawn"]


# --- Evidence ---------------------------------------------------------------------------


def test_evidence_add_stores_hash_under_random_name_and_appends_event(employee, evidence_root):
    promotion_request = log_request(employee)
    content = b"%PDF-1.4\n% the invitation email\n"
    uploaded = SimpleUploadedFile(
        "Invitation from Daniel.pdf", content, content_type="application/pdf"
    )

    evidence = services.evidence_add(
        promotion_request=promotion_request, uploaded_file=uploaded, uploaded_by=employee
    )

    sha256 = hashlib.sha256(content).hexdigest()
    stored_path = evidence_root / evidence.file.name
    event = promotion_request.events.get(kind="evidence_added")
    assert (evidence.sha256, evidence.size, evidence.original_name) == (
        sha256,
        len(content),
        "Invitation from Daniel.pdf",
    )
    assert evidence.file.name.startswith(f"{employee.pk}/")
    assert "Invitation" not in evidence.file.name
    assert ".pdf" not in evidence.file.name
    assert stored_path.read_bytes() == content
    assert event.payload == {
        "actor_name": "Maya Okafor",
        "evidence": evidence.pk,
        "follow_up": None,
        "name": "Invitation from Daniel.pdf",
        "content_type": "application/pdf",
        "size": len(content),
        "sha256": sha256,
    }


def test_evidence_add_same_name_twice_gets_two_different_files(employee, evidence_root):
    promotion_request = log_request(employee)

    first, second = (
        services.evidence_add(
            promotion_request=promotion_request,
            uploaded_file=SimpleUploadedFile("screenshot.txt", content),
            uploaded_by=employee,
        )
        for content in (b"first", b"second")
    )

    assert first.file.name != second.file.name
    assert [
        (evidence_root / e.file.name).read_bytes() for e in Evidence.objects.order_by("id")
    ] == [b"first", b"second"]


def test_follow_up_add_with_evidence_links_file_to_follow_up(employee):
    promotion_request = log_request(employee)

    follow_up = services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        evidence_files=[SimpleUploadedFile("chat.txt", b"not a team player")],
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=timezone.now(),
        who="Daniel Reyes",
        what_was_said="Not a team player.",
    )

    evidence = Evidence.objects.get()
    assert evidence.follow_up == follow_up
    assert promotion_request.events.get(kind="evidence_added").payload["follow_up"] == follow_up.pk
    assert kinds(promotion_request) == ["logged", "follow_up", "evidence_added"]


# --- The whole story --------------------------------------------------------------------


def test_the_meeting_story_keeps_an_intact_chain(employee):
    now = timezone.now()
    accounts = [
        SocialAccountFactory(owner=employee, handle="maya.makes", boundary=Boundary.CLOSED),
        SocialAccountFactory(
            owner=employee, platform="tiktok", handle="mayamakes", boundary=Boundary.CLOSED
        ),
    ]
    promotion_request = log_request(
        employee,
        target_accounts=accounts,
        occurred_at=now - timedelta(days=3),
        deadline=now + timedelta(days=1),
        framing=Framing.EXPECTED,
        compensation_offered="",
    )
    decision = decline(promotion_request, at=now - timedelta(days=2))
    services.reply_mark_sent(decision=decision, actor=employee)
    services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=now - timedelta(hours=2),
        who="Daniel Reyes",
        what_was_said="Not a team player.",
    )

    report = timeline.verify_chain(employee=employee)

    head = TimelineEvent.objects.filter(employee=employee).order_by("-seq").first()
    assert report == timeline.ChainReport(ok=True, events_checked=4, head=head.hash)
    assert kinds(promotion_request) == ["logged", "decision", "reply_sent", "follow_up"]
    assert flag_codes(promotion_request) == [
        ("closed_account", "danger"),
        ("framing", "warning"),
        ("no_compensation", "warning"),
        ("asked_after_decline", "danger"),
    ]


@pytest.mark.parametrize(
    ("quantity", "content_format", "expected"),
    [
        (3, "videos", "3 videos about the new line"),
        (1, "posts", "1 post about the new line"),
        (1, "stories", "1 story about the new line"),
        (None, "reviews", "reviews or testimonials about the new line"),
    ],
)
def test_what_summary_counts_in_words(employee, quantity, content_format, expected):
    promotion_request = log_request(
        employee, quantity=quantity, content_format=content_format, promoted_item="the new line"
    )

    assert promotion_request.what_summary == expected


def test_requests_are_numbered_per_employee(employee, second_employee):
    mine = [log_request(employee) for _ in range(2)]
    theirs = log_request(second_employee)

    assert [item.number for item in mine] == [1, 2]
    assert theirs.number == 1
    assert [item.events.get().payload["number"] for item in mine] == [1, 2]


@pytest.mark.parametrize(("quoted", "summary"), [(True, "“He said so.”"), (False, "He said so.")])
def test_a_follow_up_is_summed_up_as_a_quote_only_when_it_is_one(employee, quoted, summary):
    from requests_log.exports.record import summarise

    promotion_request = log_request(employee)
    services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        kind=FollowUp.Kind.OTHER,
        occurred_at=timezone.now(),
        who="Daniel Reyes",
        what_was_said="He said so.",
        quoted=quoted,
    )
    event = promotion_request.events.get(kind="follow_up")

    assert event.payload["quoted"] is quoted
    assert plain(summarise("follow_up", event.payload)) == f"Other: Daniel Reyes: {summary}"


# --- Accounts on the record ---------------------------------------------------------------


def account_events(employee):
    return [
        (event.kind, {k: v for k, v in event.payload.items() if k != "actor_name"})
        for event in TimelineEvent.objects.filter(employee=employee).order_by("seq")
    ]


def test_linking_changing_and_removing_an_account_are_dated_declarations(employee):
    account = services.account_link(
        owner=employee, platform="instagram", handle="maya.makes", boundary="open"
    )
    pk = account.pk
    account.boundary = "closed"
    services.account_update(account=account, actor=employee, boundary="closed")
    services.account_remove(account=account, actor=employee)

    declared = {
        "account": pk,
        "platform": "instagram",
        "handle": "maya.makes",
        "follower_count": None,
        "followers_as_of": None,
        "about": "",
        "boundary_note": "",
    }
    assert account_events(employee) == [
        ("account_linked", {**declared, "boundary": "open"}),
        ("account_changed", {**declared, "boundary": "closed", "changed": ["boundary"]}),
        (
            "account_removed",
            {
                "account": pk,
                "platform": "instagram",
                "handle": "maya.makes",
                "archived": False,
            },
        ),
    ]
    assert timeline.verify_chain(employee=employee).ok


def test_saving_an_account_unchanged_declares_nothing(employee):
    account = services.account_link(owner=employee, platform="tiktok", handle="mayamakes")

    services.account_update(account=account, actor=employee)

    assert [kind for kind, _ in account_events(employee)] == ["account_linked"]
