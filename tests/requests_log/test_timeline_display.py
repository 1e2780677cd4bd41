import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

from boundary.models import User
from requests_log.models import TimelineEvent
from requests_log.timeline_display import event_html, moment_text, timeline_html

OCCURRED_AT = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)
SHA256 = "ab12" * 16


def event(kind, payload, **fields):
    defaults = {
        "seq": 7,
        "occurred_at": OCCURRED_AT,
        "recorded_at": OCCURRED_AT + timedelta(seconds=20),
        "hash": "f00d" * 16,
    }
    return TimelineEvent(kind=kind, payload=payload, **{**defaults, **fields})


def html(timeline_event, *, after_decline=False, requester_name="Dana Reyes"):
    with timezone.override("Europe/Paris"):
        return event_html(
            timeline_event, after_decline=after_decline, requester_name=requester_name
        )


@pytest.mark.parametrize("pattern", ["D j M Y", "j M", "j M Y"])
def test_a_moment_reads_as_django_formats_it_whole(pattern):
    moments = [
        datetime(2026, month, day, hour, minute, tzinfo=UTC)
        for month, day, hour, minute in ((3, 2, 9, 5), (3, 2, 23, 59), (12, 31, 0, 0))
    ]
    with timezone.override("Europe/Paris"), translation.override("en"):
        local = [timezone.localtime(moment) for moment in moments]
        texts = [moment_text(moment, pattern) for moment in local]

        assert texts == [date_format(moment, f"{pattern}, H:i") for moment in local]
    assert texts[0].endswith(", 10:05")  # in Paris, an hour after UTC
    assert texts[1].endswith(", 00:59")  # the next day there
    assert texts[1].split(",")[0] != texts[0].split(",")[0]  # 23:59 UTC: 3 March there


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Asia/Kolkata"])
def test_the_moment_filter_writes_what_the_date_filter_writes(zone):
    """{{ when|moment:"D j M Y" }} (lists of dates: HR's reads, notifications) against
    Django's {{ when|date:"D j M Y, H:i" }}, each in the viewer's time zone."""
    template = Template(
        '{% load record %}{% for when in moments %}{{ when|moment:"D j M Y" }}|'
        '{{ when|date:"D j M Y, H:i" }};{% endfor %}'
    )
    moments = [
        datetime(2026, month, day, hour, minute, tzinfo=UTC)
        for month, day, hour, minute in ((3, 8, 6, 59), (3, 29, 1, 30), (11, 1, 5, 45))
    ]
    with timezone.override(zone), translation.override("en"):
        pairs = [
            line.split("|")
            for line in template.render(Context({"moments": moments}))[:-1].split(";")
        ]

    assert len(pairs) == 3
    assert all(ours == django for ours, django in pairs)


def test_an_entry_shows_its_time_in_the_active_zone_its_heading_and_its_hash():
    follow_up = event(
        "follow_up",
        {"kind": "asked_again", "who": "Dana", "what_was_said": "Any news?", "quoted": True},
    )

    entry = html(follow_up)

    assert entry == (
        '<li class="timeline-event timeline-follow_up" id="event-7">'
        '<div class="small text-body-secondary">'
        '<time datetime="2026-03-02T10:30:15+01:00">Mon 2 Mar 2026, 10:30</time></div>'
        '<div class="fw-semibold">Follow-up: Asked again</div>'
        "<div><bdi>Dana</bdi>: “<bdi>Any news?</bdi>”</div>"
        '<div class="small text-body-secondary hash" title="SHA-256 of this entry">'
        "#7 · f00df00df00d…</div>"
        "</li>"
    )


def test_an_entry_stored_in_a_later_minute_says_when():
    logged_late = event("withdrawn", {}, recorded_at=OCCURRED_AT + timedelta(days=1, hours=2))

    entry = html(logged_late)

    assert "Mon 2 Mar 2026, 10:30</time> · recorded 3 Mar, 12:30</div>" in entry


def test_a_follow_up_after_a_decline_is_flagged():
    follow_up = event("follow_up", {"kind": "pressure", "who": "Dana", "what_was_said": "Again?"})

    entry = html(follow_up, after_decline=True)

    assert 'class="timeline-event timeline-follow_up timeline-after-decline"' in entry
    assert '<div class="flag flag-danger small">Repeated pressure after a decline</div>' in entry


@pytest.mark.parametrize(
    ("kind", "payload", "shown"),
    [
        (
            "follow_up",
            {"kind": "other", "who": "Dana", "what_was_said": "the gist", "quoted": False},
            "<div><bdi>Dana</bdi>: <bdi>the gist</bdi></div>",
        ),
        (
            "follow_up",
            {"kind": "other", "who": "Dana", "what_was_said": "x", "witnesses": "Lee"},
            '<div class="small">Witnesses: Lee</div>',
        ),
        (
            "decision",
            {"kind": "decline", "revises": True, "decline_reasons": ["no_time", "not_paid"]},
            "Decision: Decline (revised)</div><div>I do not have the time; It is unpaid work</div>",
        ),
        (
            "decision",
            {"kind": "decline", "decline_reason": "content_fit"},
            "<div>It does not fit my content</div>",
        ),
        (
            "decision",
            {
                "kind": "accept",
                "pay": "€400",
                "disclosure_required": True,
                "content_approval_required": True,
                "ends_on": "2026-06-30",
                "details": "Two posts\nat most",
                "message_to_requester": "Happy to",
            },
            "Decision: Accept with conditions</div>"
            "<div>Pay: €400</div>"
            "<div>Posts must disclose the connection</div>"
            "<div>Content approved by me before publishing</div>"
            "<div>Ends on 2026-06-30</div>"
            "<div>Two posts<br>at most</div>"
            '<div class="small">Message to Dana Reyes: “<bdi>Happy to</bdi>”</div>',
        ),
        (
            "seen_by_requester",
            {"actor_name": "Dana"},
            "<div>Seen by <bdi>Dana</bdi> at 10:30: proof the answer arrived</div>",
        ),
        (
            "viewed_by_hr",
            {"actor_name": "Hana", "export": True},
            '<div class="hr-read">In an export by <bdi>Hana</bdi> (HR) at 10:30</div>',
        ),
        (
            "viewed_by_hr",
            {"actor_name": "Hana"},
            '<div class="hr-read">Opened by <bdi>Hana</bdi> (HR) at 10:30</div>',
        ),
        (
            "shared_with_hr",
            {"numbers": [3], "all": False},
            '<div class="small">Request #3: HR sees it until sharing stops</div>',
        ),
        (
            "shared_with_hr",
            {"numbers": [3, 5], "all": True},
            '<div class="small">Every request logged by the employee: HR sees them until sharing'
            " stops</div>",
        ),
        (
            "sharing_withdrawn",
            {"numbers": [3, 5], "all": False},
            '<div class="small">Requests #3, #5: nothing recorded from now on reaches HR</div>',
        ),
        (
            "acknowledged",
            {},
            "<div>The requester confirmed receiving your answer through the link in your reply"
            "</div>",
        ),
        (
            "corrected",
            {
                "changes": {
                    "channel": {"old": "email", "new": "chat"},
                    "occurred_at": {"old": "2026-03-01T08:00:00.000000Z", "new": ""},
                },
                "reason": "Misremembered",
            },
            '<ul class="small mb-0 correction-list">'
            "<li>Channel: <del>Email</del> → <ins>Chat</ins></li>"
            "<li>When it happened: <del>1 Mar 2026, 09:00</del> → <ins>—</ins></li>"
            '</ul><div class="small">Why: Misremembered</div>',
        ),
        (
            "evidence_added",
            {"name": "screenshot.png", "sha256": SHA256},
            '<div>screenshot.png <code class="small sha">ab12ab12ab12ab12ab1…</code></div>',
        ),
        (
            "disclosure_proof_added",
            {"account_label": "@maya", "post_url": "https://example.com/p/1", "sha256": SHA256},
            '<div><bdi>@maya</bdi>: <span class="text-break">https://example.com/p/1</span></div>'
            '<div><code class="small sha">screenshot ab12ab12ab12ab12ab1…</code></div>',
        ),
        ("withdrawn", {"note": "They dropped it"}, "<div>They dropped it</div>"),
        (
            "logged",
            {"requester_name": "Dana", "framing": "asked", "no_penalty_notice_shown": True},
            '<div class="small"><bdi>Dana</bdi>, asked (free to say no)</div>'
            '<div class="small">They were told that declining carries no penalty.</div>',
        ),
        ("reminder_sent", {}, '<div class="fw-semibold">Reminder sent</div><div class="small'),
    ],
)
def test_each_kind_of_event_shows_what_it_recorded(kind, payload, shown):
    entry = html(event(kind, payload))

    assert shown in entry


def test_a_filed_request_names_who_filed_it():
    filed = event(
        "filed",
        {"requester_name": "Dana", "framing": "expected"},
        actor=User(display_name="Daniel Brooks"),
    )

    entry = html(filed)

    assert '<div class="small"><bdi>Dana</bdi>, expected · by Daniel Brooks</div>' in entry


def test_a_message_to_a_requester_without_a_name_is_to_the_requester():
    decision = event("decision", {"kind": "decline", "message_to_requester": "No, thanks"})

    entry = html(decision, requester_name="")

    assert "Message to the requester: “<bdi>No, thanks</bdi>”" in entry


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("follow_up", {"kind": "<i>k</i>", "who": "<i>w</i>", "what_was_said": "<i>s</i>"}),
        ("decision", {"kind": "accept", "pay": "<i>p</i>", "details": "<i>d</i>\n<i>e</i>"}),
        ("decision", {"kind": "decline", "decline_reasons": ["<i>r</i>"]}),
        ("corrected", {"changes": {"<i>f</i>": {"old": "<i>o</i>", "new": "<i>n</i>"}}}),
        ("evidence_added", {"name": "<i>n</i>", "sha256": "<i>s</i>"}),
        ("disclosure_proof_added", {"account_label": "<i>a</i>", "post_url": "<i>u</i>"}),
        ("logged", {"requester_name": "<i>r</i>", "framing": "<i>f</i>"}),
        ("viewed_by_hr", {"actor_name": "<i>a</i>"}),
        ("withdrawn", {"note": "<i>n</i>"}),
    ],
)
def test_html_in_what_was_recorded_is_escaped(kind, payload):
    entry = html(event(kind, payload), requester_name="<i>r</i>")

    assert "<i>" not in entry
    assert "&lt;i&gt;" in entry


def test_the_timeline_is_each_event_in_order():
    events = [event("withdrawn", {}, seq=1), event("follow_up", {}, seq=2)]

    with timezone.override("UTC"):
        entries = timeline_html([(events[0], False), (events[1], True)], requester_name="")

    assert re.findall(r'<li class="([^"]*)" id="event-(\d+)">', entries) == [
        ("timeline-event timeline-withdrawn", "1"),
        ("timeline-event timeline-follow_up timeline-after-decline", "2"),
    ]
