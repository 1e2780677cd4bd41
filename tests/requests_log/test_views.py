from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from requests_log import services
from requests_log.models import Decision, PromotionRequest, TimelineEvent
from requests_log.views import PENDING_SHOWN
from tests.factories import SocialAccountFactory, UserFactory, log_request, pending_requests
from tests.support import plain

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def local_minute(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def maya(maya, client):
    """Maya, signed in."""
    client.force_login(maya)
    return maya


@pytest.fixture
def closed_instagram(maya):
    return SocialAccountFactory(owner=maya, handle="maya.makes", boundary="closed")


def request_form_data(**overrides):
    return {
        "requester_name": "Daniel Reyes",
        "requester_title": "Head of Marketing",
        "occurred_at": local_minute(timezone.now() - timedelta(hours=2)),
        "channel": "meeting",
        "setting": "marketing meeting",
        "framing": "expected",
        "promoted_item": "the new product line",
        "content_format": "videos",
        "quantity": "3",
        "deadline": local_minute(timezone.now() + timedelta(days=4)),
        "words_used": "You're expected to post three videos by Friday.",
        **overrides,
    }


def test_log_request_stores_it_and_shows_its_flags(client, maya, closed_instagram):
    response = client.post(
        reverse("requests_log:request-create"),
        request_form_data(target_accounts=[closed_instagram.pk]),
        follow=True,
    )

    promotion_request = PromotionRequest.objects.get(employee=maya)
    assert response.redirect_chain == [(promotion_request.get_absolute_url(), 302)]
    assert [flag.code for flag in response.context["flags"]] == [
        "closed_account",
        "framing",
        "no_compensation",
    ]
    assert "Targets an account closed to employer content: Instagram @maya.makes" in plain(
        response.content.decode()
    )
    assert list(promotion_request.events.values_list("kind", flat=True)) == ["logged"]


def test_log_request_with_evidence_hashes_the_file(client, maya, evidence_root):
    upload = SimpleUploadedFile("whiteboard.png", PNG, content_type="application/octet-stream")

    client.post(reverse("requests_log:request-create"), request_form_data(evidence=[upload]))

    evidence = PromotionRequest.objects.get(employee=maya).evidence.get()
    assert (evidence.original_name, evidence.content_type, evidence.size) == (
        "whiteboard.png",
        "image/png",
        len(PNG),
    )
    assert (evidence_root / evidence.file.name).read_bytes() == PNG


def test_a_refused_request_with_files_asks_for_them_again(client, maya):
    upload = SimpleUploadedFile("whiteboard.png", PNG, content_type="image/png")
    bad_deadline = {"deadline": "2001-01-01T10:00"}

    with_file = client.post(
        reverse("requests_log:request-create"), request_form_data(evidence=[upload], **bad_deadline)
    )
    without = client.post(reverse("requests_log:request-create"), request_form_data(**bad_deadline))

    assert (with_file.status_code, without.status_code) == (200, 200)
    assert "attach whiteboard.png again" in plain(with_file.content.decode())
    assert "not kept" not in plain(without.content.decode())
    assert not PromotionRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("occurred_at", "yesterday-ish", "Enter a valid date/time."),
        ("occurred_at", "2099-01-01T10:00", "This cannot be in the future."),
        ("occurred_at", "0001-01-01T00:00", "Enter a date between 1970 and 2100."),
        ("deadline", "2001-01-01T10:00", "The deadline cannot be before the request was made."),
        ("promoted_item", "x" * 301, "Ensure this value has at most 300 characters"),
        ("quantity", "99999999999999999999", "Enter a number from 1 to 1000."),
        ("quantity", "three", "Enter a whole number."),
        ("framing", "ordered", "Select a valid choice."),
        ("channel", "", "This field is required."),
        ("requester_name", "", "Say who asked"),
    ],
)
def test_log_request_bad_input_explains_and_keeps_what_was_typed(
    client, maya, field, value, message
):
    data = request_form_data(**{field: value})

    response = client.post(reverse("requests_log:request-create"), data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field])
    assert response.context["form"]["words_used"].value() == data["words_used"]
    assert not PromotionRequest.objects.exists()


def test_log_request_refuses_someone_elses_account(client, maya):
    stranger_account = SocialAccountFactory()

    response = client.post(
        reverse("requests_log:request-create"),
        request_form_data(target_accounts=[stranger_account.pk]),
    )

    assert response.status_code == 200
    assert "target_accounts" in response.context["form"].errors
    assert not PromotionRequest.objects.exists()


def test_log_request_refuses_a_disallowed_upload(client, maya):
    upload = SimpleUploadedFile("invoice.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 64)

    response = client.post(
        reverse("requests_log:request-create"), request_form_data(evidence=[upload])
    )

    assert response.status_code == 200
    assert "not a file type Boundary keeps" in response.context["form"].errors["evidence"][0]
    assert not PromotionRequest.objects.exists()


def test_decline_then_reply_sent_then_pressure_is_flagged(client, maya, closed_instagram):
    promotion_request = log_request(maya, target_accounts=[closed_instagram])
    decide_url = reverse("requests_log:decision-create", args=[promotion_request.pk])

    client.post(
        decide_url,
        {
            "kind": "decline",
            "decided_at": local_minute(timezone.now()),
            "decline_reasons": ["personal_separate"],
            "details": "The products do not fit my content.",
        },
    )
    decision = Decision.objects.get()
    first = client.post(
        reverse("requests_log:reply-sent", args=[promotion_request.pk, decision.pk])
    )
    second = client.post(
        reverse("requests_log:reply-sent", args=[promotion_request.pk, decision.pk])
    )
    client.post(
        reverse("requests_log:follow-up-create", args=[promotion_request.pk]),
        {
            "kind": "pressure",
            "occurred_at": local_minute(timezone.now()),
            "who": "Daniel Reyes",
            "what_was_said": "You're not a team player.",
        },
    )
    page = client.get(promotion_request.get_absolute_url())

    assert (first.status_code, second.status_code) == (302, 302)
    promotion_request.refresh_from_db()
    assert promotion_request.status == PromotionRequest.Status.DECLINED
    assert list(promotion_request.events.values_list("kind", flat=True)) == [
        "logged",
        "decision",
        "reply_sent",
        "follow_up",
    ]
    assert "asked_after_decline" in [flag.code for flag in page.context["flags"]]
    assert "Repeated pressure after a decline" in page.content.decode()


def test_decision_without_reason_is_refused(client, maya):
    promotion_request = log_request(maya)

    response = client.post(
        reverse("requests_log:decision-create", args=[promotion_request.pk]),
        {"kind": "decline", "decided_at": local_minute(timezone.now())},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["decline_reasons"]
    assert not Decision.objects.exists()


def test_decision_on_withdrawn_request_is_refused_with_a_message(client, maya):
    promotion_request = log_request(maya)
    services.promotion_request_withdraw(promotion_request=promotion_request, actor=maya)

    response = client.post(
        reverse("requests_log:decision-create", args=[promotion_request.pk]),
        {"kind": "counter", "decided_at": local_minute(timezone.now()), "details": "One story."},
    )

    assert response.status_code == 200
    assert "withdrawn" in str(response.context["form"].non_field_errors())


def test_correction_keeps_the_original_on_the_timeline(client, maya):
    promotion_request = log_request(maya, promoted_item="Spring line")
    data = request_form_data(promoted_item="Autumn line", reason="I misheard")
    for key in ("evidence", "target_accounts", "requester_user"):
        data.pop(key, None)

    client.post(reverse("requests_log:request-correct", args=[promotion_request.pk]), data)

    page = client.get(promotion_request.get_absolute_url()).content.decode()
    logged, corrected = promotion_request.events.filter(kind__in=["logged", "corrected"])
    assert logged.payload["promoted_item"] == "Spring line"
    assert corrected.payload["changes"]["promoted_item"] == {
        "old": "Spring line",
        "new": "Autumn line",
    }
    assert "<del>Spring line</del> → <ins>Autumn line</ins>" in page


def correction_data(promotion_request, **overrides):
    """The correction form as it comes filled in, with `overrides` typed over it."""
    return request_form_data(
        **{
            "requester_name": promotion_request.requester_name,
            "requester_title": promotion_request.requester_title,
            "occurred_at": local_minute(promotion_request.occurred_at),
            "channel": promotion_request.channel,
            "setting": promotion_request.setting,
            "framing": promotion_request.framing,
            "promoted_item": promotion_request.promoted_item,
            "content_format": promotion_request.content_format,
            "quantity": str(promotion_request.quantity),
            "deadline": "",
            "words_used": promotion_request.words_used,
            "compensation_offered": promotion_request.compensation_offered,
            "requester_user": promotion_request.requester_user_id or "",
            **overrides,
        }
    )


def test_correction_links_a_mislinked_request_to_the_person_named(client, maya):
    daniel = UserFactory(display_name="Daniel Reyes")
    priya = UserFactory(display_name="Priya Nair")
    log_request(maya, requester_user=priya, requester_name="Priya Nair")
    mislinked = log_request(maya, requester_user=daniel, requester_name="Priya Nair")
    url = reverse("requests_log:request-correct", args=[mislinked.pk])

    # Anything corrected with the pick left as it is: the form names the mismatch.
    refused = client.post(url, correction_data(mislinked, setting="The launch meeting"))
    assert refused.status_code == 200
    assert "You typed “Priya Nair” but picked Daniel Reyes" in plain(refused.content.decode())

    client.post(url, correction_data(mislinked, requester_user=priya.pk, reason="Wrong pick"))

    mislinked.refresh_from_db()
    assert (mislinked.requester_user, mislinked.setting) == (priya, "Marketing meeting")
    page = client.get(mislinked.get_absolute_url()).content.decode()
    assert "Person picked in Boundary: <del>Daniel Reyes</del> → <ins>Priya Nair</ins>" in page


def test_correction_cannot_pick_someone_with_no_tie_to_her(client, maya):
    stranger = UserFactory(display_name="Sam Stranger")
    promotion_request = log_request(maya)

    response = client.post(
        reverse("requests_log:request-correct", args=[promotion_request.pk]),
        correction_data(promotion_request, requester_name="", requester_user=stranger.pk),
    )

    assert response.status_code == 200
    assert "requester_user" in response.context["form"].errors
    promotion_request.refresh_from_db()
    assert (promotion_request.requester_user, promotion_request.requester_name) == (
        None,
        "Daniel Reyes",
    )
    assert list(promotion_request.events.values_list("kind", flat=True)) == ["logged"]


def test_evidence_download_is_an_attachment_for_the_owner(client, maya):
    promotion_request = log_request(maya)
    evidence = services.evidence_add(
        promotion_request=promotion_request,
        uploaded_file=SimpleUploadedFile("shot.png", PNG, content_type="image/png"),
        uploaded_by=maya,
    )

    response = client.get(reverse("requests_log:evidence-download", args=[evidence.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="shot.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG


def test_evidence_upload_without_file_reports_error_at_the_field(client, maya):
    promotion_request = log_request(maya)

    response = client.post(reverse("requests_log:evidence-create", args=[promotion_request.pk]))

    assert response.status_code == 400
    assert response.context["evidence_form"].errors == {
        "evidence": ["Choose at least one file to attach."]
    }
    assert not promotion_request.evidence.exists()


def test_refused_evidence_files_are_each_named_at_the_field_and_none_is_kept(client, maya):
    promotion_request = log_request(maya)
    files = [
        SimpleUploadedFile("empty.pdf", b"", "application/pdf"),
        SimpleUploadedFile("setup.pdf", b"MZ\x90\x00" + bytes(range(256)) * 4, "application/pdf"),
        SimpleUploadedFile("fine.png", PNG, "image/png"),
    ]

    response = client.post(
        reverse("requests_log:evidence-create", args=[promotion_request.pk]), {"evidence": files}
    )

    errors = response.context["evidence_form"].errors["evidence"]
    page = response.content.decode()
    assert response.status_code == 400
    assert [error.split("”")[0] for error in errors] == ["“empty.pdf", "“setup.pdf"]
    assert 'id="error_1_id_evidence"' in page  # crispy's error text, under the field
    assert not promotion_request.evidence.exists()


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=99999",
        "?date_from=not-a-date",
        "?status=bogus&platform=myspace",
        "?q=" + "x" * 5000,
        "?date_from=2026-05-01&date_to=2026-01-01",
    ],
)
def test_dashboard_survives_malformed_filters(client, maya, query):
    log_request(maya)

    response = client.get(reverse("requests_log:my-record") + query)

    assert response.status_code == 200


def test_dashboard_filters_and_search(client, maya):
    instagram = SocialAccountFactory(owner=maya, platform="instagram", handle="maya.makes")
    tiktok = SocialAccountFactory(owner=maya, platform="tiktok", handle="mayamakes")
    videos = log_request(maya, promoted_item="Videos of the new line", target_accounts=[tiktok])
    review = log_request(
        maya,
        promoted_item="A review",
        requester_name="Priya Nair",
        framing="required",
        target_accounts=[instagram],
    )
    url = reverse("requests_log:my-record")

    def shown(query):
        return [item for item, _flags in client.get(url + query).context["requests"]]

    assert shown("") == [review, videos]
    assert shown("?q=videos+of") == [videos]
    assert shown("?platform=instagram") == [review]
    assert shown("?framing=required") == [review]
    assert shown("?requester=name%3Apriya+nair") == [review]
    assert shown("?status=declined") == []


def test_dashboard_lists_pending_by_deadline(client, maya):
    later = log_request(maya, promoted_item="Later", deadline=timezone.now() + timedelta(days=9))
    sooner = log_request(maya, promoted_item="Sooner", deadline=timezone.now() + timedelta(days=2))
    decided = log_request(maya, promoted_item="Decided")
    services.decision_record(
        promotion_request=decided, decided_by=maya, kind="decline", decline_reasons=["no_time"]
    )

    response = client.get(reverse("requests_log:my-record"))

    assert [item for item, _flags in response.context["pending"]] == [sooner, later]


def test_dashboard_shows_the_pending_due_soonest_and_links_them_all(client, maya):
    waiting = pending_requests(maya, PENDING_SHOWN + 5)
    # A counter-proposal keeps it waiting (negotiating): still in the list and the count.
    services.decision_record(promotion_request=waiting[-1], decided_by=maya, kind="counter")
    decided = log_request(maya, promoted_item="Decided")
    services.decision_record(
        promotion_request=decided, decided_by=maya, kind="decline", decline_reasons=["no_time"]
    )
    by_deadline = sorted(waiting, key=lambda item: item.deadline)

    response = client.get(reverse("requests_log:my-record"))
    everything = client.get(reverse("requests_log:my-record"), {"status": "open"})

    assert [item for item, _flags in response.context["pending"]] == by_deadline[:PENDING_SHOWN]
    assert all(flags for _item, flags in response.context["pending"])
    assert response.context["pending_total"] == PENDING_SHOWN + 5
    assert f"{PENDING_SHOWN + 5} open — showing the {PENDING_SHOWN} due soonest" in (
        response.content.decode()
    )
    assert 'href="?status=open#all-heading"' in response.content.decode()
    assert {item for item, _flags in everything.context["requests"]} == set(waiting)


def populate(employee, count):
    account = SocialAccountFactory(owner=employee, boundary="closed")
    for number in range(count):
        promotion_request = log_request(
            employee,
            promoted_item=f"Item {number}",
            target_accounts=[account],
            deadline=timezone.now() + timedelta(days=number + 1),
        )
        services.follow_up_add(
            promotion_request=promotion_request,
            actor=employee,
            kind="asked_again",
            occurred_at=timezone.now(),
            who="Daniel",
            what_was_said="Any news?",
        )


@pytest.mark.parametrize("rows", [1, 30])
def test_dashboard_query_count_is_constant(client, maya, django_assert_num_queries, rows):
    populate(maya, rows)

    # session, user, requester choices, count, page (with its targets, follow-ups and
    # decisions), pending (with the same and their total), both lists' requesters'
    # declines, their accounts' declarations, recent and sharing events, has accounts,
    # unread notifications
    with django_assert_num_queries(11):
        response = client.get(reverse("requests_log:my-record"))

    assert len(response.context["pending"]) == min(rows, PENDING_SHOWN)
    assert response.context["pending_total"] == rows


@pytest.mark.parametrize("follow_ups", [1, 30])
def test_request_detail_query_count_is_constant(
    client, maya, django_assert_num_queries, follow_ups
):
    account = SocialAccountFactory(owner=maya, boundary="closed")
    promotion_request = log_request(maya, target_accounts=[account])
    services.decision_record(
        promotion_request=promotion_request,
        decided_by=maya,
        kind="decline",
        decline_reasons=["no_time"],
    )
    for _ in range(follow_ups):
        services.follow_up_add(
            promotion_request=promotion_request,
            actor=maya,
            kind="pressure",
            occurred_at=timezone.now(),
            who="Daniel",
            what_was_said="Come on.",
        )

    # session, user, request (with the requester's declines), targets, follow-ups,
    # decisions, their accounts, evidence, reminders, events (with their actors, its
    # shares with HR and the accounts' declarations), unread notifications
    with django_assert_num_queries(11):
        response = client.get(promotion_request.get_absolute_url())

    assert len(response.context["timeline"]) == follow_ups + 2


def test_pages_need_login(client):
    promotion_request = log_request(UserFactory())

    responses = [
        client.get(reverse("requests_log:my-record")),
        client.get(promotion_request.get_absolute_url()),
        client.get(reverse("requests_log:request-create")),
    ]

    assert [r.status_code for r in responses] == [302, 302, 302]
    assert all(r["Location"].startswith("/login/?next=") for r in responses)


def id_urls(promotion_request, decision, evidence):
    pk = promotion_request.pk
    return [
        reverse("requests_log:request-detail", args=[pk]),
        reverse("requests_log:request-correct", args=[pk]),
        reverse("requests_log:decision-create", args=[pk]),
        reverse("requests_log:reply-sent", args=[pk, decision.pk]),
        reverse("requests_log:follow-up-create", args=[pk]),
        reverse("requests_log:request-withdraw", args=[pk]),
        reverse("requests_log:evidence-create", args=[pk]),
        reverse("requests_log:evidence-download", args=[evidence.pk]),
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_elses_request_is_not_found(client, maya, method):
    owner = UserFactory()
    promotion_request = log_request(owner)
    decision = services.decision_record(
        promotion_request=promotion_request,
        decided_by=owner,
        kind="decline",
        decline_reasons=["no_time"],
    )
    evidence = services.evidence_add(
        promotion_request=promotion_request,
        uploaded_file=SimpleUploadedFile("a.png", PNG),
        uploaded_by=owner,
    )
    events_before = TimelineEvent.objects.count()

    urls = id_urls(promotion_request, decision, evidence)
    post_only = {urls[3], urls[6]}  # reply sent, attach evidence
    read_only = {urls[0], urls[7]}  # the request's page, an evidence download

    statuses = {
        url: getattr(client, method)(url, {"kind": "pressure", "note": "x"}).status_code
        for url in urls
    }

    # The wrong method is refused before any lookup, mine or not.
    wrong_method = post_only if method == "get" else read_only
    expected = {url: 405 if url in wrong_method else 404 for url in urls}
    assert statuses == expected
    assert TimelineEvent.objects.count() == events_before
    promotion_request.refresh_from_db()
    assert promotion_request.status == PromotionRequest.Status.DECLINED


def test_reply_sent_for_a_decision_of_another_request_is_not_found(client, maya):
    mine = log_request(maya)
    other = log_request(maya)
    decision = services.decision_record(
        promotion_request=other, decided_by=maya, kind="decline", decline_reasons=["no_time"]
    )

    response = client.post(reverse("requests_log:reply-sent", args=[mine.pk, decision.pk]))

    assert response.status_code == 404


def test_evidence_missing_from_storage_is_not_found(client, maya, evidence_root):
    promotion_request = log_request(maya)
    evidence = services.evidence_add(
        promotion_request=promotion_request,
        uploaded_file=SimpleUploadedFile("shot.png", PNG),
        uploaded_by=maya,
    )
    (evidence_root / evidence.file.name).unlink()

    response = client.get(reverse("requests_log:evidence-download", args=[evidence.pk]))

    assert response.status_code == 404


def test_dashboard_pages_keep_the_filters(client, maya):
    for number in range(26):
        log_request(maya, promoted_item=f"Item {number}", framing="expected")

    first = client.get(reverse("requests_log:my-record") + "?framing=expected")
    second = client.get(reverse("requests_log:my-record") + "?framing=expected&page=2")

    assert 'href="?framing=expected&amp;page=2"' in first.content.decode()
    assert len(second.context["requests"]) == 1


def test_start_page_sends_a_signed_in_person_to_her_record(client, maya):
    response = client.get("/")

    assert response["Location"] == reverse("requests_log:my-record")


def test_timeline_entries_in_the_same_minute_keep_chain_order(client, maya):
    minute = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    promotion_request = log_request(maya, occurred_at=minute + timedelta(seconds=50))
    for seconds in (40, 30, 20):  # told in this order, each a little earlier
        services.follow_up_add(
            promotion_request=promotion_request,
            actor=maya,
            kind="other",
            occurred_at=minute + timedelta(seconds=seconds),
            who="Daniel Reyes",
            what_was_said=f"At :{seconds}",
        )

    page = client.get(promotion_request.get_absolute_url())

    assert [event.seq for event, _ in page.context["timeline"]] == [1, 2, 3, 4]


def test_a_right_to_left_override_in_a_name_is_isolated_on_the_request_page(client, maya):
    promotion_request = log_request(maya, requester_name="Daniel \u202eReyes")

    page = client.get(promotion_request.get_absolute_url()).content.decode()

    assert "asked by <bdi>Daniel \u202eReyes (Head of Marketing)</bdi> ·" in page
