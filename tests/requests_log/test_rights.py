"""Which rights notes and disclosure checklist items apply to whom (pure functions)."""

from datetime import date

import pytest

from requests_log import disclosure, flags, rights


def note_ids(**facts):
    defaults = {"work_country": "", "work_state": "", "framing": "asked", "platforms": ()}
    return [note.id for note in rights.notes_for_request(**{**defaults, **facts})]


def item_codes(**facts):
    return [item.code for item in disclosure.checklist_for(**facts)]


def test_every_note_is_cited_dated_linked_and_not_legal_advice():
    for note in rights.NOTES.values():
        assert note.citation
        assert note.source_url.startswith("https://")
        assert isinstance(note.last_checked, date)
        assert note.not_legal_advice == "Not legal advice"
        assert all((note.text, note.title, note.jurisdiction))


def test_the_notes_cover_the_citations_the_design_names():
    citations = " | ".join(note.citation for note in rights.NOTES.values())

    for cited in (
        "16 CFR 255.5",
        "16 CFR 465.5",
        "ORS 659A.330(1)(b)",
        "Labor Code 980",
        "CAP Code",
        "GDPR Art. 7(4)",
        "EDPB Guidelines 05/2020",
    ):
        assert cited in citations


@pytest.mark.parametrize(
    ("framing", "expected"),
    [
        ("required", ["us-or-personal-accounts"]),
        ("consequences", ["us-or-personal-accounts"]),
        ("expected", []),
        ("asked", []),
    ],
)
def test_oregon_note_on_a_request_framed_as_required(framing, expected):
    assert note_ids(work_country="US", work_state="OR", framing=framing) == expected


def test_oregon_note_not_for_someone_working_elsewhere():
    assert note_ids(work_country="US", work_state="WA", framing="required") == []
    assert note_ids(work_country="GB", work_state="", framing="required") == []


def test_california_note_for_someone_working_in_california():
    assert note_ids(work_country="US", work_state="CA", framing="asked") == [
        "us-ca-personal-accounts"
    ]


def test_ftc_notes_in_the_us_once_she_accepts():
    assert note_ids(work_country="US", work_state="TX", accepted=False) == []
    assert note_ids(work_country="US", work_state="TX", accepted=True) == [
        "us-ftc-endorsements",
        "us-ftc-testimonials",
    ]


def test_uk_ad_note_once_she_accepts():
    assert note_ids(work_country="GB", accepted=True) == ["gb-ad-label"]
    assert note_ids(work_country="GB", accepted=False) == []


@pytest.mark.parametrize(
    ("framing", "expected"),
    [("asked", []), ("expected", ["eu-consent"]), ("required", ["eu-consent"])],
)
def test_gdpr_consent_note_in_the_eu_when_the_ask_was_pressed(framing, expected):
    assert note_ids(work_country="DE", framing=framing) == expected


def test_platform_label_notes_per_accepted_platform_in_order():
    ids = note_ids(
        work_country="FR", accepted=True, platforms=["youtube", "instagram", "x", "instagram"]
    )

    assert ids == ["platform-instagram", "platform-youtube"]


def test_nothing_is_assumed_when_she_has_not_said_where_she_works():
    assert note_ids(framing="required", accepted=True, platforms=["tiktok"]) == ["platform-tiktok"]


def test_notes_for_person_are_her_country_and_states_and_the_platforms():
    us_or = [note.id for note in rights.notes_for_person(work_country="US", work_state="OR")]
    germany = [note.id for note in rights.notes_for_person(work_country="DE", work_state="")]
    unknown = rights.notes_for_person(work_country="", work_state="")

    platforms = ["platform-instagram", "platform-tiktok", "platform-youtube"]
    assert us_or == [
        "us-ftc-endorsements",
        "us-ftc-testimonials",
        "us-or-personal-accounts",
        *platforms,
    ]
    assert germany == ["eu-consent", *platforms]
    assert unknown == list(rights.NOTES.values())


def test_checklist_for_an_instagram_post_in_the_us():
    items = disclosure.checklist_for(
        platform="instagram", content_format="posts", work_country="US"
    )

    assert [(item.code, item.note) for item in items] == [
        ("in_post", "us-ftc-endorsements"),
        ("platform_label", "platform-instagram"),
    ]
    assert "Paid partnership" in items[1].text


def test_checklist_for_video_adds_said_and_shown():
    assert item_codes(platform="instagram", content_format="videos", work_country="US") == [
        "in_post",
        "video_said_and_shown",
        "platform_label",
    ]
    assert item_codes(platform="tiktok", content_format="posts", work_country="US") == [
        "in_post",
        "video_said_and_shown",
        "platform_label",
    ]


@pytest.mark.parametrize("country", ["GB", "IE", "DE"])
def test_checklist_asks_for_an_upfront_ad_in_the_uk_and_the_eu(country):
    assert item_codes(platform="linkedin", content_format="posts", work_country=country) == [
        "in_post",
        "upfront_ad",
    ]


def test_checklist_has_no_upfront_ad_or_label_where_neither_applies():
    assert item_codes(platform="linkedin", content_format="posts", work_country="US") == ["in_post"]


def facts(status, decisions, proofs=()):
    return {"status": status, "decisions": decisions, "disclosure_proofs": list(proofs)}


def test_disclosure_pending_until_every_accepted_account_has_proof():
    accepted = [{"kind": "accept", "accounts": [3, 5]}]

    assert flags.disclosure_pending_accounts(facts("accepted", accepted)) == [3, 5]
    assert flags.disclosure_pending_accounts(facts("accepted", accepted, [{"account": 5}])) == [3]
    assert (
        flags.disclosure_pending_accounts(
            facts("accepted", accepted, [{"account": 5}, {"account": 3}])
        )
        == []
    )


def test_disclosure_not_pending_after_a_later_decline_a_withdrawal_or_withheld_accounts():
    accept = {"kind": "accept", "accounts": [3]}

    assert flags.disclosure_pending_accounts(facts("declined", [accept, {"kind": "decline"}])) == []
    assert flags.disclosure_pending_accounts(facts("withdrawn", [accept])) == []
    withheld = {"kind": "accept", "accounts": "[withheld]"}
    assert flags.disclosure_pending_accounts(facts("accepted", [withheld])) == []
    assert flags.disclosure_pending_accounts(facts("pending", [])) == []
