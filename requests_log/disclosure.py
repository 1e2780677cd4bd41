"""What a post should carry once the employee accepts: a checklist per chosen account.

Pure functions over the platform, the content's format and where she works, so a test can
say which items apply to whom. Whether proof is still missing is decided from the chain
(flags.disclosure_pending_accounts), not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rights import PLATFORM_LABEL_NOTES, is_eu

VIDEO_PLATFORMS = frozenset({"tiktok", "youtube", "twitch", "snapchat"})
PLATFORM_LABELS = {
    "instagram": "Turn on Instagram's “Paid partnership” label",
    "tiktok": "Turn on TikTok's content-disclosure setting",
    "youtube": "Tick “My video contains paid promotion” (YouTube shows “Includes paid promotion”)",
}


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    text: str
    note: str = ""  # the rights note (rights.NOTES) it follows from, if one


def checklist_for(*, platform: str, content_format: str, work_country: str) -> list[ChecklistItem]:
    """The disclosure checklist for one account: the connection in the post itself; said
    and shown in a video; an upfront "#ad" where the country expects it (the UK, and the
    EU, whose advertising rules ask for the same); the platform's own label."""
    items = [
        ChecklistItem(
            "in_post",
            "State your connection to the company in the post itself, not only in your bio",
            "us-ftc-endorsements" if work_country == "US" else "",
        )
    ]
    if content_format == "videos" or platform in VIDEO_PLATFORMS:
        items.append(
            ChecklistItem(
                "video_said_and_shown", "In a video, say it and show it on screen, early on"
            )
        )
    if work_country == "GB" or is_eu(work_country):
        items.append(
            ChecklistItem(
                "upfront_ad",
                "Start with “#ad” (a “#BrandAmbassador” or “#iworkwith…” tag alone is not enough)",
                "gb-ad-label" if work_country == "GB" else "",
            )
        )
    if platform in PLATFORM_LABELS:
        items.append(
            ChecklistItem(
                "platform_label", PLATFORM_LABELS[platform], PLATFORM_LABEL_NOTES[platform]
            )
        )
    return items
