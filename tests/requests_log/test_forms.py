import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import CheckboxInput, HiddenInput
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from boundary.models import SocialAccount
from requests_log import services
from requests_log.forms import DecisionForm, EvidenceForm, PromotionRequestForm
from requests_log.models import Decision, FollowUp
from tests.factories import SocialAccountFactory, UserFactory, log_request
from tests.support import plain

pytestmark = pytest.mark.django_db


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
ELF_BINARY = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100


# --- PromotionRequestForm ---------------------------------------------------------------


def request_form(employee, **data):
    return PromotionRequestForm(
        data={
            "requester_name": "Daniel Reyes",
            "requester_title": "Head of Marketing",
            "occurred_at": local(timezone.now() - timedelta(hours=1)),
            "channel": "meeting",
            "setting": "Marketing meeting",
            "framing": "expected",
            "promoted_item": "The new product line",
            "content_format": "videos",
            "quantity": "3",
            **data,
        },
        employee=employee,
    )


def test_request_form_valid_gives_details_for_the_service(employee):
    UserFactory(role="manager")
    account = SocialAccountFactory(owner=employee)
    deadline = timezone.now() + timedelta(days=4)

    form = request_form(employee, target_accounts=[account.pk], deadline=local(deadline))

    assert form.errors == {}
    assert list(form.cleaned_data["target_accounts"]) == [account]
    assert set(form.request_details()) == {
        "requester_user",
        "requester_name",
        "requester_title",
        "occurred_at",
        "channel",
        "setting",
        "framing",
        "promoted_item",
        "content_format",
        "quantity",
        "deadline",
        "compensation_offered",
        "words_used",
        "witnesses",
        "notes",
    }


def test_request_form_requires_who_asked(employee):
    UserFactory(role="manager")

    form = request_form(employee, requester_name="", requester_user="")

    assert form.errors == {"requester_name": ["Say who asked: a name, or pick them from the list."]}


def test_request_form_takes_name_and_title_from_requester_user(employee):
    manager = UserFactory(role="manager", display_name="Daniel Reyes", job_title="Head of Mkt")
    employee.manager = manager
    employee.save(update_fields=["manager"])

    form = request_form(
        employee, requester_name="", requester_title="", requester_user=str(manager.pk)
    )

    assert form.errors == {}
    assert (form.cleaned_data["requester_name"], form.cleaned_data["requester_title"]) == (
        "Daniel Reyes",
        "Head of Mkt",
    )


def test_request_form_picks_nobody_until_she_does(employee, manager):
    form = PromotionRequestForm(employee=employee)

    assert employee.manager == manager
    assert form["requester_user"].value() is None


@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        ("Daniel Reyes", {}),
        ("daniel", {}),
        (
            "Priya Nair",
            {
                "requester_user": [
                    "You typed “Priya Nair” but picked Daniel Reyes: clear one of them, so "
                    "the request names one person."
                ]
            },
        ),
    ],
)
def test_request_form_refuses_a_typed_name_that_is_not_the_person_picked(employee, typed, errors):
    manager = UserFactory(role="manager", display_name="Daniel Reyes")
    employee.manager = manager
    employee.save(update_fields=["manager"])

    form = request_form(employee, requester_name=typed, requester_user=str(manager.pk))

    assert form.errors == errors


def test_request_form_without_colleagues_in_boundary_asks_for_a_name(db):
    alone = UserFactory(display_name="The first person on this instance")

    form = request_form(alone, requester_name="", requester_user="")

    assert "requester_user" not in form.fields
    assert form.errors == {"requester_name": ["Say who asked."]}


def test_request_form_requester_user_must_be_manager_or_hr(employee):
    UserFactory(role="hr")
    colleague = UserFactory(role="employee")

    form = request_form(employee, requester_user=str(colleague.pk))

    assert form.errors == {
        "requester_user": [
            "Select a valid choice. That choice is not one of the available choices."
        ]
    }


def test_request_form_refuses_deadline_before_request(employee):
    asked = timezone.now() - timedelta(days=1)

    form = request_form(
        employee, occurred_at=local(asked), deadline=local(asked - timedelta(hours=2))
    )

    assert form.errors == {"deadline": ["The deadline cannot be before the request was made."]}


def test_request_form_refuses_future_occurred_at(employee):
    form = request_form(employee, occurred_at=local(timezone.now() + timedelta(hours=1)))

    assert form.errors == {"occurred_at": ["This cannot be in the future."]}


def test_request_form_accepts_occurred_at_within_clock_skew(employee):
    form = request_form(employee, occurred_at=local(timezone.now() + timedelta(minutes=2)))

    assert form.errors == {}


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("requester_name", 120),
        ("requester_title", 120),
        ("setting", 200),
        ("promoted_item", 300),
        ("compensation_offered", 300),
        ("witnesses", 500),
        ("words_used", 5000),
        ("notes", 5000),
    ],
)
def test_request_form_refuses_over_long_values(employee, field, limit):
    form = request_form(employee, **{field: "x" * (limit + 1)})

    assert form.errors == {
        field: [f"Ensure this value has at most {limit} characters (it has {limit + 1})."]
    }


@pytest.mark.parametrize("quantity", ["0", "1001", "-3"])
def test_request_form_refuses_quantity_out_of_range(employee, quantity):
    form = request_form(employee, quantity=quantity)

    assert list(form.errors) == ["quantity"]


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2025-13-01T10:00", "2025-02-30T10:00", "2025-06-30T25:00", "30.06.2025", "1"],
)
def test_request_form_refuses_bad_date_strings_with_field_error(employee, value):
    form = request_form(employee, occurred_at=value, deadline=value)

    assert form.errors == {
        "occurred_at": ["Enter a valid date/time."],
        "deadline": ["Enter a valid date/time."],
    }


@pytest.mark.parametrize(
    ("zone", "field", "value"),
    [
        ("Asia/Tokyo", "occurred_at", "0001-01-01T00:00"),
        ("America/Los_Angeles", "deadline", "9999-12-31T23:59"),
    ],
)
def test_request_form_refuses_dates_that_cannot_be_stored_in_utc(employee, zone, field, value):
    # The chain stores UTC: 0001-01-01 in Tokyo and 9999-12-31 in Los Angeles fall
    # outside what Python's datetime can hold in UTC, so the service would crash.
    with timezone.override(zone):
        form = request_form(employee, **{field: value})

        errors = form.errors

    assert list(errors) == [field]


def test_request_form_refuses_someone_elses_account(employee):
    foreign = SocialAccountFactory()

    form = request_form(employee, target_accounts=[foreign.pk])

    assert form.errors == {
        "target_accounts": [
            f"Select a valid choice. {foreign.pk} is not one of the available choices."
        ]
    }


def test_request_form_refuses_archived_account(employee):
    archived = SocialAccountFactory(owner=employee, archived_at=timezone.now())

    form = request_form(employee, target_accounts=[archived.pk])

    assert list(form.errors) == ["target_accounts"]


def test_request_form_refuses_non_numeric_account_id(employee):
    form = request_form(employee, target_accounts=["1 OR 1=1"])

    assert form.errors == {"target_accounts": ["“1 OR 1=1” is not a valid value."]}


# --- DecisionForm -----------------------------------------------------------------------


@pytest.fixture
def targeted(employee):
    """A request targeting one account, and an own account it does not target."""
    target = SocialAccountFactory(owner=employee, boundary=SocialAccount.Boundary.ASK_FIRST)
    untargeted = SocialAccountFactory(owner=employee)
    return log_request(employee, target_accounts=[target]), target, untargeted


def decision_form(promotion_request, **data):
    return DecisionForm(
        data={"decided_at": local(timezone.now() - timedelta(minutes=1)), **data},
        promotion_request=promotion_request,
    )


def test_decision_form_decline_needs_a_reason(targeted):
    promotion_request, _, _ = targeted

    form = decision_form(promotion_request, kind="decline", details="No thanks")

    assert form.errors == {
        "decline_reasons": ["Tick at least one reason; add more in Details if you like."]
    }


def test_decision_form_decline_drops_accept_terms(targeted):
    promotion_request, target, _ = targeted

    form = decision_form(
        promotion_request,
        kind="decline",
        decline_reasons=["content_fit"],
        pay="€400",
        disclosure_required="on",
        accounts=[target.pk],
    )

    assert form.errors == {}
    assert (
        form.cleaned_data["pay"],
        form.cleaned_data["disclosure_required"],
        form.cleaned_data["accounts"],
    ) == ("", False, [])


@pytest.mark.parametrize("details", ["", "   "])
def test_decision_form_counter_needs_details(targeted, details):
    promotion_request, _, _ = targeted

    form = decision_form(promotion_request, kind="counter", details=details)

    assert form.errors == {"details": ["Say what you propose instead."]}


def test_decision_form_accept_with_targeted_account(targeted):
    promotion_request, target, _ = targeted

    form = decision_form(promotion_request, kind="accept", pay="€400", accounts=[target.pk])

    assert form.errors == {}
    assert list(form.cleaned_data["accounts"]) == [target]


def test_decision_form_accept_refuses_own_account_the_request_does_not_target(targeted):
    promotion_request, _, untargeted = targeted

    form = decision_form(promotion_request, kind="accept", accounts=[untargeted.pk])

    assert form.errors == {
        "accounts": [f"Select a valid choice. {untargeted.pk} is not one of the available choices."]
    }


def test_decision_form_accept_refuses_someone_elses_account(targeted):
    promotion_request, _, _ = targeted
    foreign = SocialAccountFactory()

    form = decision_form(promotion_request, kind="accept", accounts=[foreign.pk])

    assert list(form.errors) == ["accounts"]


def test_decision_form_refuses_answer_before_the_ask(targeted):
    promotion_request, _, _ = targeted
    before = promotion_request.occurred_at - timedelta(days=1)

    form = decision_form(
        promotion_request, kind="decline", decline_reasons=["no_time"], decided_at=local(before)
    )

    assert form.errors == {"decided_at": ["You cannot have answered before you were asked."]}


def test_decision_form_refuses_end_date_in_the_past(targeted):
    promotion_request, _, _ = targeted
    yesterday = timezone.localdate() - timedelta(days=1)

    form = decision_form(promotion_request, kind="accept", ends_on=yesterday.isoformat())

    assert form.errors == {"ends_on": ["The end date cannot be in the past."]}


def test_decision_form_refuses_unknown_kind(targeted):
    promotion_request, _, _ = targeted

    form = decision_form(promotion_request, kind="maybe")

    assert list(form.errors) == ["kind"]
    assert Decision.objects.count() == 0


# --- Evidence ---------------------------------------------------------------------------


def evidence_form(*files):
    return EvidenceForm(data={}, files=MultiValueDict({"evidence": list(files)}))


REFUSED_TYPE = "is not a file type Boundary keeps"


def test_evidence_refuses_empty_file():
    form = evidence_form(SimpleUploadedFile("notes.txt", b""))

    assert form.errors == {"evidence": ["“notes.txt”: The submitted file is empty."]}


def test_evidence_refuses_file_over_the_limit(settings):
    settings.EVIDENCE_MAX_BYTES = 1024

    form = evidence_form(SimpleUploadedFile("big.txt", b"a" * 2048))

    assert form.errors == {"evidence": ["“big.txt” is 2.0\xa0KB; the limit is 1.0\xa0KB."]}


def test_evidence_accepts_file_at_the_limit(settings):
    settings.EVIDENCE_MAX_BYTES = 1024

    form = evidence_form(SimpleUploadedFile("exact.txt", b"a" * 1024))

    assert form.errors == {}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tool", ELF_BINARY),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100),
        ("blob.bin", bytes(range(256)) * 4),
        ("report.pdf", ELF_BINARY),
        ("notes.txt", "Grüße".encode("latin-1")),
    ],
    ids=["elf", "windows-exe", "unknown-binary", "elf-named-pdf", "not-utf8-text"],
)
def test_evidence_refuses_executables_and_unknown_binaries(name, content):
    form = evidence_form(SimpleUploadedFile(name, content, content_type="application/pdf"))

    assert form.errors == {
        "evidence": [
            f"“{name}” {REFUSED_TYPE}. Use a PDF, an image, a video, an audio recording or a "
            "plain-text file."
        ]
    }


def test_evidence_refuses_short_file_ending_in_a_cut_utf8_character():
    # Only a cut at the 8 KiB read boundary is excusable; a whole file that ends
    # mid-character is not UTF-8 text.
    form = evidence_form(SimpleUploadedFile("notes.txt", "Grüße €".encode()[:-1]))

    assert list(form.errors) == ["evidence"]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("screenshot.png", tiny_png(), "image/png"),
        ("invitation.pdf", TINY_PDF, "application/pdf"),
        ("notes.txt", "Daniel: „not a team player“ — Grüße\n".encode(), "text/plain"),
        ("long.txt", ("x" * 8191 + "€" * 10).encode(), "text/plain"),
    ],
    ids=["png", "pdf", "utf8-text", "utf8-cut-at-8kib"],
)
def test_evidence_accepts_allowed_files_with_detected_type(name, content, content_type):
    uploaded = SimpleUploadedFile(name, content, content_type="application/octet-stream")

    form = evidence_form(uploaded)

    assert form.errors == {}
    assert [f.content_type for f in form.cleaned_data["evidence"]] == [content_type]


def test_evidence_type_comes_from_content_not_name_or_browser():
    uploaded = SimpleUploadedFile("photo.png", b"just some words\n", content_type="image/png")

    form = evidence_form(uploaded)

    assert form.errors == {}
    assert form.cleaned_data["evidence"][0].content_type == "text/plain"


def test_evidence_refuses_more_than_ten_files():
    files = [SimpleUploadedFile(f"{i}.txt", b"note") for i in range(11)]

    form = evidence_form(*files)

    assert form.errors == {"evidence": ["Attach at most 10 files at a time."]}


def test_evidence_form_requires_a_file():
    form = EvidenceForm(data={}, files=MultiValueDict())

    assert form.errors == {"evidence": ["Choose at least one file to attach."]}


def test_evidence_optional_on_request_form(employee):
    form = request_form(employee)

    assert form.errors == {}
    assert form.cleaned_data["evidence"] == []


def pressed_after_the_ask(employee, *, asked_hours_ago=48, pressed_hours_ago=24):
    """A request, and pressure from the same person a day after it."""
    promotion_request = log_request(
        employee, occurred_at=timezone.now() - timedelta(hours=asked_hours_ago)
    )
    services.follow_up_add(
        promotion_request=promotion_request,
        actor=employee,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=timezone.now() - timedelta(hours=pressed_hours_ago),
        who="Daniel Reyes",
        what_was_said="Not a team player.",
    )
    return promotion_request


def test_decline_dated_after_the_pressure_asks_her_to_confirm_or_correct(employee):
    promotion_request = pressed_after_the_ask(employee)

    form = decision_form(promotion_request, kind="decline", decline_reasons=["no_time"])

    assert list(form.errors) == ["decided_at"]
    assert "This time is after “Not a team player.”" in plain(form.errors["decided_at"][0])
    assert isinstance(form.fields["time_confirmed"].widget, CheckboxInput)


def test_decline_dated_after_the_pressure_is_taken_once_confirmed(employee):
    promotion_request = pressed_after_the_ask(employee)

    form = decision_form(
        promotion_request, kind="decline", decline_reasons=["no_time"], time_confirmed="on"
    )

    assert form.errors == {}


def test_decline_dated_before_the_pressure_needs_no_confirmation(employee):
    promotion_request = pressed_after_the_ask(employee)
    before = timezone.now() - timedelta(hours=30)

    form = decision_form(
        promotion_request, kind="decline", decline_reasons=["no_time"], decided_at=local(before)
    )

    assert form.errors == {}
    assert isinstance(form.fields["time_confirmed"].widget, HiddenInput)


def test_decline_dated_after_a_new_ask_from_the_same_person_warns_too(employee):
    first = log_request(employee, occurred_at=timezone.now() - timedelta(days=3))
    log_request(employee, occurred_at=timezone.now() - timedelta(days=1), promoted_item="Reels")

    form = decision_form(first, kind="decline", decline_reasons=["no_time"])

    assert "This time is after the request “Reels”" in plain(form.errors["decided_at"][0])


def test_acceptance_after_the_pressure_needs_no_confirmation(employee):
    promotion_request = pressed_after_the_ask(employee)

    form = decision_form(promotion_request, kind="accept")

    assert form.errors == {}


def test_counter_proposal_always_puts_its_details_in_the_reply(targeted):
    promotion_request, _, _ = targeted

    form = decision_form(promotion_request, kind="counter", details="One story instead")

    assert form.is_valid()
    assert form.decision_terms()["details_in_reply"] is True


def test_request_form_marks_who_asked_as_required_when_a_pick_may_do_instead(employee):
    form = PromotionRequestForm(employee=employee)  # her manager is in Boundary

    assert 'Who asked<span class="asteriskField">*</span>' in str(form["requester_name"].label)
    assert form.fields["requester_name"].required is False
