"""Demo data for `make run`: Maya's record from the design's main flows, written
through the services so the timeline chain is real."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from boundary.demo import demo_admin_and_hr_create, demo_logins_note
from boundary.models import SocialAccount, User
from boundary.services import social_account_link, user_register
from requests_log.exports.receipts import checkpoint_issue
from requests_log.models import Checkpoint, Decision, FollowUp, PromotionRequest
from requests_log.services import (
    decision_mark_seen,
    decision_record,
    disclosure_proof_add,
    follow_up_add,
    promotion_request_file,
    promotion_request_log,
    promotion_request_withdraw,
    reply_mark_sent,
)
from requests_log.sharing import hr_view_record, promotion_requests_share

DEMO_EMAIL = "maya@example.com"
DEMO_PASSWORD = "boundary-demo"  # noqa: S105 - a published demo login, refused in production
MANAGER_EMAIL = "daniel@example.com"
DEMO_TIME_ZONE = "America/Los_Angeles"  # Maya works in Oregon

Platform = SocialAccount.Platform
Boundary = SocialAccount.Boundary
Channel = PromotionRequest.Channel
Framing = PromotionRequest.Framing
ContentFormat = PromotionRequest.ContentFormat


class Command(BaseCommand):
    help = "Load the demo users and Maya's requests (does nothing if they already exist)."

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "load_demo creates a login with a published password: not in production."
            )
        if User.objects.filter(email__iexact=DEMO_EMAIL).exists():
            self.stdout.write(
                f"Demo data already loaded (user {DEMO_EMAIL} exists); nothing to do."
            )
        else:
            with transaction.atomic():
                DemoStory(now=timezone.now()).load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(
            f"Her manager (his requests filed in Boundary under My team): "
            f"{MANAGER_EMAIL} / {DEMO_PASSWORD}"
        )
        if note := demo_logins_note(DEMO_PASSWORD):
            self.stdout.write(note)


class DemoStory:
    def __init__(self, *, now: datetime):
        self.now = now
        self.zone = ZoneInfo(DEMO_TIME_ZONE)
        self.today = now.astimezone(self.zone).date()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)

    def days_ago(self, days: int, hour: int, minute: int = 0) -> datetime:
        return self.at(self.today - timedelta(days=days), hour, minute)

    def load(self) -> None:
        self.people()
        self.accounts()
        # Oldest first, so the timeline's order follows the story.
        self.withdrawn_request()
        self.accepted_request()
        self.counter_proposal()
        self.the_meeting()
        self.pending_request()
        # Filed in Boundary today, so they come last on the chain.
        self.filed_and_answered()
        self.filed_and_pending()
        self.disclosure_proven()
        # What HR sees: Maya shares the meeting; colleagues in other departments share
        # (or keep private) what they logged, and a sales manager files in Boundary.
        self.maya_shares_the_meeting()
        self.colleagues()
        # Her first receipt now, rather than at the sweep's next minute.
        checkpoint_issue(employee=self.maya, reason=Checkpoint.Reason.CHANGED)

    def people(self) -> None:
        profile = {
            "time_zone": DEMO_TIME_ZONE,
            "work_country": "US",
            "work_state": "OR",
        }
        self.daniel = user_register(
            email=MANAGER_EMAIL,
            password=DEMO_PASSWORD,
            display_name="Daniel Reyes",
            job_title="Head of Marketing",
            department="Marketing",
            role=User.Role.MANAGER,
            **profile,
        )
        self.maya = user_register(
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            display_name="Maya Chen",
            job_title="Product designer",
            department="Design",
            manager=self.daniel,
            **profile,
        )
        demo_admin_and_hr_create(
            password=DEMO_PASSWORD, verified_emails=(DEMO_EMAIL, MANAGER_EMAIL)
        )

    def accounts(self) -> None:
        as_of = self.today - timedelta(days=3)
        self.instagram = social_account_link(
            owner=self.maya,
            platform=Platform.INSTAGRAM,
            handle="maya.makes",
            follower_count=31_200,
            followers_as_of=as_of,
            about="Ceramics and small-space making, from my kitchen table",
            boundary=Boundary.CLOSED,
            boundary_note="My personal creative work. No employer content, paid or not.",
        )
        self.tiktok = social_account_link(
            owner=self.maya,
            platform=Platform.TIKTOK,
            handle="mayamakes",
            follower_count=29_800,
            followers_as_of=as_of,
            about="One-minute pottery tutorials",
            boundary=Boundary.CLOSED,
        )
        self.youtube = social_account_link(
            owner=self.maya,
            platform=Platform.YOUTUBE,
            handle="mayamakes",
            follower_count=4_150,
            followers_as_of=as_of,
            about="Long-form studio vlogs and design talks",
            boundary=Boundary.ASK_FIRST,
            boundary_note="Design-related and paid only, and clearly marked as an ad.",
        )

    def withdrawn_request(self) -> None:
        request = promotion_request_log(
            employee=self.maya,
            actor=self.maya,
            target_accounts=[self.instagram],
            requester_name="Tom Becker",
            requester_title="Sales Director",
            occurred_at=self.days_ago(95, 8, 40),
            channel=Channel.EMAIL,
            setting="All-staff email",
            words_used=(
                "All staff are required to share the Q2 launch post on their personal "
                "Instagram by end of day."
            ),
            promoted_item="the Q2 launch announcement",
            content_format=ContentFormat.POSTS,
            quantity=1,
            deadline=self.days_ago(95, 18),
            framing=Framing.REQUIRED,
        )
        promotion_request_withdraw(
            promotion_request=request,
            actor=self.maya,
            note="Tom wrote the next morning that sharing was never mandatory; request withdrawn.",
            occurred_at=self.days_ago(94, 9, 15),
        )

    def accepted_request(self) -> None:
        request = promotion_request_log(
            employee=self.maya,
            actor=self.maya,
            target_accounts=[self.youtube],
            requester_user=self.daniel,
            requester_name="Daniel Reyes",
            requester_title="Head of Marketing",
            occurred_at=self.days_ago(42, 15, 10),
            channel=Channel.EMAIL,
            setting="Email to me",
            words_used=(
                "Would you make one video about our design-system talk at the Portland meetup? "
                "Paid, and marked as an ad. No pressure if it is not for you."
            ),
            promoted_item="the design-system talk at the Portland meetup",
            content_format=ContentFormat.VIDEOS,
            quantity=1,
            deadline=self.days_ago(28, 17),
            framing=Framing.ASKED,
            compensation_offered="$250 per video",
        )
        self.talk_video = request
        decision_record(
            promotion_request=request,
            decided_by=self.maya,
            kind=Decision.Kind.ACCEPT,
            decided_at=self.days_ago(40, 9, 30),
            accounts=[self.youtube],
            pay="$250",
            disclosure_required=True,
            content_approval_required=True,
            ends_on=self.today + timedelta(days=20),
            details="YouTube only; nothing on Instagram or TikTok.",
        )

    def counter_proposal(self) -> None:
        request = promotion_request_log(
            employee=self.maya,
            actor=self.maya,
            target_accounts=[self.tiktok],
            requester_name="Lena Fischer",
            requester_title="Brand Partnerships Lead",
            occurred_at=self.days_ago(12, 16, 20),
            channel=Channel.CHAT,
            setting="Direct message on the company chat",
            words_used=(
                "Would you be up for a five-part TikTok series on the new studio space? "
                "We'd send you a gift box."
            ),
            promoted_item="the new studio space",
            content_format=ContentFormat.VIDEOS,
            quantity=5,
            deadline=self.at(self.today + timedelta(days=9), 17),
            framing=Framing.ASKED,
            compensation_offered="A gift box of products",
        )
        decision_record(
            promotion_request=request,
            decided_by=self.maya,
            kind=Decision.Kind.COUNTER,
            decided_at=self.days_ago(10, 9, 15),
            accounts=[self.youtube],
            details=(
                "My TikTok stays personal. I could make one video on my YouTube channel "
                "instead, marked as an ad, for $400, and I approve the final cut."
            ),
        )

    def the_meeting(self) -> None:
        # The most recent Monday whose follow-up, three days later, is already past.
        monday = self.today - timedelta(days=self.today.weekday())
        if self.at(monday + timedelta(days=3), 14, 15) > self.now:
            monday -= timedelta(days=7)
        request = promotion_request_log(
            employee=self.maya,
            actor=self.maya,
            target_accounts=[self.instagram, self.tiktok],
            requester_user=self.daniel,
            requester_name="Daniel Reyes",
            requester_title="Head of Marketing",
            occurred_at=self.at(monday, 10, 30),
            channel=Channel.MEETING,
            setting="Weekly marketing meeting",
            words_used=(
                "You're expected to post three videos about the new product line by Friday."
            ),
            promoted_item="the new product line",
            content_format=ContentFormat.VIDEOS,
            quantity=3,
            deadline=self.at(monday + timedelta(days=4), 17),
            framing=Framing.EXPECTED,
            compensation_offered="",
            witnesses="Jordan Lee and Sofia Martins (marketing team)",
            notes="No pay was mentioned. He said it in front of the whole team.",
        )
        decline = decision_record(
            promotion_request=request,
            decided_by=self.maya,
            kind=Decision.Kind.DECLINE,
            decided_at=self.at(monday + timedelta(days=1), 9, 40),
            decline_reasons=[Decision.DeclineReason.PERSONAL_SEPARATE],
            details=(
                "My accounts are about my own ceramics work, and the product line does not "
                "fit that content."
            ),
        )
        reply_mark_sent(
            decision=decline, actor=self.maya, sent_at=self.at(monday + timedelta(days=1), 9, 55)
        )
        follow_up_add(
            promotion_request=request,
            actor=self.maya,
            kind=FollowUp.Kind.PRESSURE,
            occurred_at=self.at(monday + timedelta(days=3), 14, 15),
            who="Daniel Reyes",
            what_was_said=(
                "Daniel brought the videos up again after stand-up and said I'm "
                "\u201cnot a team player\u201d for saying no."
            ),
            witnesses="Jordan Lee",
        )

    def pending_request(self) -> None:
        promotion_request_log(
            employee=self.maya,
            actor=self.maya,
            target_accounts=[self.instagram, self.youtube],
            requester_name="Priya Nair",
            requester_title="HR Business Partner",
            occurred_at=self.days_ago(1, 11, 5),
            channel=Channel.EMAIL,
            setting="Email to the design team",
            words_used=(
                "We're looking for a few volunteers to share a short 'life at the company' "
                "story for our careers campaign. Would you be interested? We can offer €300."
            ),
            promoted_item="the careers campaign",
            content_format=ContentFormat.STORIES,
            quantity=2,
            deadline=self.at(self.today + timedelta(days=2), 17),
            framing=Framing.ASKED,
            compensation_offered="€300",
        )

    def filed_and_answered(self) -> None:
        """Flow 6: Daniel files a paid, disclosed request in Boundary; Maya accepts with
        conditions and a message to him; he opens the answer, which proves it arrived."""
        request = promotion_request_file(
            manager=self.daniel,
            employee=self.maya,
            target_accounts=[self.youtube],
            promoted_item="the spring design-system release",
            content_format=ContentFormat.VIDEOS,
            quantity=1,
            deadline=self.at(self.today + timedelta(days=14), 17),
            compensation_offered="$300 per video",
            disclosure_terms="Say \u201cpaid partnership\u201d on screen and aloud.",
        )
        decision = decision_record(
            promotion_request=request,
            decided_by=self.maya,
            kind=Decision.Kind.ACCEPT,
            accounts=[self.youtube],
            pay="$300",
            disclosure_required=True,
            content_approval_required=True,
            ends_on=self.today + timedelta(days=30),
            details="YouTube only, one video; I choose the script.",
            message_to_requester="Happy to do this one on YouTube. I'll send you a draft first.",
        )
        decision_mark_seen(decision_id=decision.pk, viewer=self.daniel)

    def disclosure_proven(self) -> None:
        """The talk video is up and she recorded its link: that request's disclosure is
        proven, while the spring release she accepted today stays "disclosure pending"."""
        disclosure_proof_add(
            promotion_request=self.talk_video,
            account=self.youtube,
            recorded_by=self.maya,
            post_url="https://www.youtube.com/watch?v=boundary-demo-talk",
        )

    def filed_and_pending(self) -> None:
        promotion_request_file(
            manager=self.daniel,
            employee=self.maya,
            target_accounts=[self.instagram],
            promoted_item="the autumn launch",
            content_format=ContentFormat.POSTS,
            quantity=2,
            deadline=self.at(self.today + timedelta(days=5), 17),
            compensation_offered="",
            disclosure_terms="#ad at the start of the caption.",
        )

    def maya_shares_the_meeting(self) -> None:
        meeting = PromotionRequest.objects.get(
            employee=self.maya, promoted_item="the new product line"
        )
        promotion_requests_share(employee=self.maya, request_pks=[meeting.pk])
        # HR has read it: her page says who and when.
        hr = User.objects.filter(role=User.Role.HR).first()
        if hr is not None:
            hr_view_record(viewer=hr, promotion_request_id=meeting.pk)

    def colleagues(self) -> None:
        """Colleagues in Sales, Support and Engineering, with requests across six months:
        some shared with HR, some filed in Boundary by their manager, some kept private
        (which HR never sees, not even in a count)."""
        priya = user_register(
            email="priya@example.com",
            password=DEMO_PASSWORD,
            display_name="Priya Nair",
            job_title="Head of Sales",
            department="Sales",
            role=User.Role.MANAGER,
        )
        people = [
            ("Leo Martin", "Sales", priya),
            ("Aisha Bello", "Sales", priya),
            ("Tomás Ruiz", "Support", None),
            ("Hannah Berg", "Support", None),
            ("Kenji Sato", "Engineering", None),
            ("Sofia Martins", "Marketing", self.daniel),
        ]
        for index, (name, department, manager) in enumerate(people):
            person = user_register(
                email=f"{name.split()[0].lower()}@example.com".replace("á", "a"),
                password=DEMO_PASSWORD,
                display_name=name,
                job_title="Team member",
                department=department,
                manager=manager,
            )
            self.colleague_story(person, index, manager=manager)

    def colleague_story(self, person: User, index: int, *, manager: User | None) -> None:
        """Three requests logged over the months (the first declined, the second from the
        same person after it, the third private), shared all at once; and, with a manager
        in Boundary, one request filed there."""
        closed = social_account_link(
            owner=person,
            platform=Platform.INSTAGRAM,
            handle=f"{person.display_name.split()[0].lower()}.shoots",
            follower_count=5_000 + 3_100 * index,
            followers_as_of=self.today - timedelta(days=10),
            boundary=Boundary.CLOSED,
        )
        asked = self.days_ago(170 - 25 * index, 10)
        first = promotion_request_log(
            employee=person,
            actor=person,
            target_accounts=[closed] if index % 2 == 0 else [],
            requester_name="Chris Doyle",
            requester_title="Brand lead",
            occurred_at=asked,
            channel=Channel.CHAT,
            promoted_item="the brand ambassador programme",
            content_format=ContentFormat.POSTS,
            quantity=4,
            framing=Framing.REQUIRED if index % 3 == 0 else Framing.EXPECTED,
            compensation_offered="",
        )
        decision_record(
            promotion_request=first,
            decided_by=person,
            kind=Decision.Kind.DECLINE,
            decided_at=asked + timedelta(days=1),
            decline_reasons=[Decision.DeclineReason.NOT_PAID],
        )
        second = promotion_request_log(
            employee=person,
            actor=person,
            target_accounts=[],
            requester_name="Chris Doyle",
            requester_title="Brand lead",
            occurred_at=asked + timedelta(days=20 + index),
            channel=Channel.MEETING,
            promoted_item="the product launch",
            content_format=ContentFormat.STORIES,
            quantity=2,
            deadline=asked + timedelta(days=27 + index),
            framing=Framing.ASKED,
            compensation_offered="A gift card",
        )
        if index % 3 == 1:
            decision_record(
                promotion_request=second,
                decided_by=person,
                kind=Decision.Kind.ACCEPT,
                decided_at=asked + timedelta(days=22 + index),
                accounts=[],
                pay="A gift card",
            )
        elif index % 3 == 2:
            decision_record(
                promotion_request=second,
                decided_by=person,
                kind=Decision.Kind.COUNTER,
                decided_at=asked + timedelta(days=22 + index),
                details="Only with pay and an #ad label.",
            )
        promotion_requests_share(employee=person)
        # Logged after sharing all: private until shared, so HR never sees it.
        promotion_request_log(
            employee=person,
            actor=person,
            target_accounts=[closed],
            requester_name="Chris Doyle",
            occurred_at=self.days_ago(3, 15),
            channel=Channel.CALL,
            promoted_item="the holiday campaign",
            content_format=ContentFormat.VIDEOS,
            quantity=1,
            framing=Framing.CONSEQUENCES,
            compensation_offered="",
        )
        if manager is not None and manager != self.daniel:
            promotion_request_file(
                manager=manager,
                employee=person,
                target_accounts=[],
                promoted_item="the quarterly customer story",
                content_format=ContentFormat.REVIEWS,
                quantity=1,
                deadline=self.at(self.today + timedelta(days=10), 17),
                compensation_offered="$150",
                disclosure_terms="#ad at the start.",
            )
