"""Rights and disclosure notes as dated, cited data, and who each one is for.

Each note says where it comes from (citation, source link) and as of when, because rules
change: a note is general information, never legal advice. Which notes
a person sees follows from facts she gave or the chain holds (where she works, how a
request was framed, the platforms she accepted for), by the pure functions below; pages
and the PDF both ask them. No Django, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

NOT_LEGAL_ADVICE = "Not legal advice"
# The date of the facts the notes state (Boundary's design research; they could not be
# re-checked against the sources from where they were written). Pages say "as of" this
# date; change it when someone re-checks the notes against their sources.
CHECKED = date(2026, 11, 24)

EU_COUNTRIES = frozenset(
    {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"}
    | {"IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
)
# Framings under which consent is doubtful (GDPR Art. 7(4)): not a free "asked".
PRESSED_FRAMINGS = frozenset({"expected", "required", "consequences"})
FORCED_FRAMINGS = frozenset({"required", "consequences"})


@dataclass(frozen=True)
class Note:
    id: str
    jurisdiction: str  # "US", "US-OR", "GB", "EU", or "platform:instagram"
    title: str
    text: str
    citation: str
    source_url: str
    last_checked: date = CHECKED
    not_legal_advice: str = NOT_LEGAL_ADVICE


NOTES: dict[str, Note] = {
    note.id: note
    for note in (
        Note(
            id="us-ftc-endorsements",
            jurisdiction="US",
            title="Say you work there, in the post itself",
            text=(
                "An employee's connection to the company must be disclosed clearly and "
                "conspicuously in the post itself, not only in the bio; in a video it should "
                "be on screen and spoken."
            ),
            citation="FTC Endorsement Guides, 16 CFR 255.5",
            source_url=(
                "https://www.ecfr.gov/current/title-16/chapter-I/subchapter-B/part-255/section-255.5"
            ),
        ),
        Note(
            id="us-ftc-testimonials",
            jurisdiction="US",
            title="Employee testimonials need disclosure",
            text=(
                "A business may not spread testimonials by its employees without disclosing "
                "the connection."
            ),
            citation="FTC rule on consumer reviews and testimonials, 16 CFR 465.5 (2024)",
            source_url=(
                "https://www.ecfr.gov/current/title-16/chapter-I/subchapter-D/part-465/section-465.5"
            ),
        ),
        Note(
            id="us-or-personal-accounts",
            jurisdiction="US-OR",
            title="In Oregon, advertising on your account cannot be required",
            text=(
                "An employer may not require an employee to authorise it to advertise on a "
                "personal social media account."
            ),
            citation="Oregon ORS 659A.330(1)(b)",
            source_url="https://www.oregonlegislature.gov/bills_laws/ors/ors659A.html",
        ),
        Note(
            id="us-ca-personal-accounts",
            jurisdiction="US-CA",
            title="In California, your personal accounts are protected",
            text=(
                "California restricts what an employer may demand about an employee's "
                "personal social media; about 26 states restrict employer access to personal "
                "accounts."
            ),
            citation="California Labor Code 980",
            source_url=(
                "https://leginfo.legislature.ca.gov/faces/"
                "codes_displaySection.xhtml?lawCode=LAB&sectionNum=980"
            ),
        ),
        Note(
            id="gb-ad-label",
            jurisdiction="GB",
            title="In the UK, an upfront “#ad”",
            text=(
                "Posts made at the employer's direction are ads: an upfront “#ad” is "
                "expected. ASA rulings found “#iworkwith…” or “#BrandAmbassador” alone "
                "insufficient."
            ),
            citation="UK CAP Code and ASA rulings on influencer marketing",
            source_url="https://www.asa.org.uk/resource/influencers-guide.html",
        ),
        Note(
            id="eu-consent",
            jurisdiction="EU",
            title="Consent from an employee is rarely freely given",
            text=(
                "Because of the imbalance of power between employer and employee, consent "
                "given to an employer is rarely free; a request framed as expected, "
                "required or with consequences makes that plainer."
            ),
            citation="GDPR Art. 7(4); EDPB Guidelines 05/2020 on consent",
            source_url=(
                "https://www.edpb.europa.eu/our-work-tools/our-documents/guidelines/"
                "guidelines-052020-consent-under-regulation-2016679_en"
            ),
        ),
        Note(
            id="platform-instagram",
            jurisdiction="platform:instagram",
            title="Instagram: the “Paid partnership” label",
            text="Turn on Instagram's “Paid partnership” label on the post, as well as saying it.",
            citation="Instagram branded content policies",
            source_url="https://www.facebook.com/policies/brandedcontent/",
        ),
        Note(
            id="platform-tiktok",
            jurisdiction="platform:tiktok",
            title="TikTok: the content-disclosure setting",
            text="Turn on TikTok's content-disclosure setting when you post, as well as saying it.",
            citation="TikTok branded content policy",
            source_url="https://www.tiktok.com/legal/page/global/bc-policy/en",
        ),
        Note(
            id="platform-youtube",
            jurisdiction="platform:youtube",
            title="YouTube: “includes paid promotion”",
            text=(
                "Tick “My video contains paid promotion” so YouTube shows “Includes paid "
                "promotion”, as well as saying it in the video."
            ),
            citation="YouTube Help: paid product placements, sponsorships and endorsements",
            source_url="https://support.google.com/youtube/answer/154235",
        ),
    )
}
PLATFORM_LABEL_NOTES = {
    "instagram": "platform-instagram",
    "tiktok": "platform-tiktok",
    "youtube": "platform-youtube",
}


def is_eu(work_country: str) -> bool:
    return work_country in EU_COUNTRIES


def notes_for_request(
    *,
    work_country: str,
    work_state: str,
    framing: str,
    platforms: Iterable[str] = (),
    accepted: bool = False,
) -> list[Note]:
    """The notes that matter for this request and this person, most pressing first.

    Where she works is what she told Boundary ("" when she did not say: then nothing is
    assumed). Rights against the ask come first (Oregon and California when it was
    pressed on her, EU consent when it was not a free ask); disclosure rules apply once
    she accepts (US, UK), and each accepted platform's own label."""
    chosen = []
    in_us = work_country == "US"
    if in_us and work_state == "OR" and framing in FORCED_FRAMINGS:
        chosen.append("us-or-personal-accounts")
    if in_us and work_state == "CA":
        chosen.append("us-ca-personal-accounts")
    if is_eu(work_country) and framing in PRESSED_FRAMINGS:
        chosen.append("eu-consent")
    if accepted:
        if in_us:
            chosen += ["us-ftc-endorsements", "us-ftc-testimonials"]
        if work_country == "GB":
            chosen.append("gb-ad-label")
        for platform in sorted(set(platforms)):
            if platform in PLATFORM_LABEL_NOTES:
                chosen.append(PLATFORM_LABEL_NOTES[platform])
    return [NOTES[note_id] for note_id in chosen]


def notes_for_person(*, work_country: str, work_state: str) -> list[Note]:
    """Every note that could apply where she works (the PDF's closing pages): the notes of
    her country and state, and the platforms' labels. All of them when she has not said
    where she works."""
    if not work_country:
        return list(NOTES.values())
    jurisdictions = {"US"} if work_country == "US" else {work_country}
    if work_country == "US" and work_state:
        jurisdictions.add(f"US-{work_state}")
    if is_eu(work_country):
        jurisdictions.add("EU")
    return [
        note
        for note in NOTES.values()
        if note.jurisdiction in jurisdictions or note.jurisdiction.startswith("platform:")
    ]
