import hashlib
import re
from dataclasses import dataclass
from datetime import time
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField
from localflavor.us.models import USStateField
from timezone_field import TimeZoneField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        # Staff and superuser follow from the role (User.apply_role), never from the caller.
        extra_fields.pop("is_staff", None)
        extra_fields.pop("is_superuser", None)
        user = self.model(email=normalise_email(email), **extra_fields)
        user.apply_role(user.role)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        """`manage.py createsuperuser`: an admin, whose flags follow from the role."""
        extra_fields["role"] = User.Role.ADMIN
        return self.create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None):
        """Sign-in by email in any case: addresses are stored lower-cased, and the
        alias matches the unique index on Lower("email")."""
        return self.alias(email_lower=Lower("email")).get(
            email_lower=normalise_email(username or "")
        )


def normalise_email(email: str) -> str:
    """The whole address lower-cased and trimmed: one person, one address, whatever
    case they type it in (mailboxes are case-insensitive in practice)."""
    return email.strip().lower()


class User(AbstractUser):
    """A person using Boundary: signs in with an email address.

    Everyone is an employee with a record of their own; the role adds what they may
    see of others (managers: requests they filed; HR: what was filed or shared).
    """

    class Role(models.TextChoices):
        EMPLOYEE = "employee", "Employee"
        MANAGER = "manager", "Manager"
        HR = "hr", "HR"
        ADMIN = "admin", "Admin"

    # Signed in by email, known by one display name: AbstractUser's fields go.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=120)
    job_title = models.CharField(max_length=120, blank=True)
    department = models.CharField(max_length=120, blank=True)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    time_zone = TimeZoneField(default="UTC", use_pytz=False)
    work_country = CountryField(blank=True)
    work_state = USStateField(blank=True, help_text="For work in the United States.")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EMPLOYEE)

    class ReminderChannels(models.TextChoices):
        EMAIL_AND_APP = "email_and_app", "By email and in Boundary"
        APP_ONLY = "app_only", "In Boundary only"
        OFF = "off", "Off"

    deadline_reminders = models.CharField(
        "before a deadline",
        max_length=16,
        choices=ReminderChannels.choices,
        default=ReminderChannels.EMAIL_AND_APP,
    )
    no_decision_reminders = models.CharField(
        "when nothing is decided",
        max_length=16,
        choices=ReminderChannels.choices,
        default=ReminderChannels.EMAIL_AND_APP,
    )
    reply_reminders = models.CharField(
        "to confirm my answer in writing",
        max_length=16,
        choices=ReminderChannels.choices,
        default=ReminderChannels.APP_ONLY,
    )
    quiet_hours_start = models.TimeField(default=time(21, 0))
    quiet_hours_end = models.TimeField(default=time(8, 0))
    # Proof the person reads this address: set by the verification link or an invitation.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The last verification email sent, so "send again" goes at most once a minute.
    email_verification_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the person closes their account (requests_log.closing); never reopened.
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Changes when the person's second factors change: sessions begun under another
    # stamp end at their next request (boundary.middleware.SessionTimeoutMiddleware).
    # A password change ends them already, through Django's session auth hash.
    session_stamp = models.CharField(max_length=32, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    # Django's own UserManager creates users by username; this one by email.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["display_name"]
        indexes = [models.Index(fields=["role"]), models.Index(fields=["department"])]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_unique_email_any_case",
                violation_error_message="A user with this email address already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    # Roles whose holders see others' records or the admin: a second factor is required.
    ROLES_NEEDING_TWO_FACTORS = frozenset({Role.HR, Role.ADMIN})

    def apply_role(self, role: str) -> None:
        """Set the role and what Django derives from it, unsaved: admins are staff and
        superusers (the Django admin is theirs alone); HR, managers and employees are
        neither (HR invites people on an app page). boundary.services.user_role_set is
        the one way to change a saved user's role."""
        self.role = role
        self.is_staff = self.is_superuser = role == self.Role.ADMIN

    @property
    def needs_two_factors(self) -> bool:
        return self.role in self.ROLES_NEEDING_TWO_FACTORS

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class Invitation(models.Model):
    """An invitation by HR or an admin to sign up with a given address and role. Only
    the hash of its token is kept: the link in the email is the one copy."""

    VALID_FOR_DAYS = 7

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=User.Role.choices, default=User.Role.EMPLOYEE)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="invitations_sent")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["accepted_at", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


@dataclass(frozen=True)
class PlatformRule:
    handle_pattern: str
    profile_url: str  # {handle} is replaced by the handle without its "@"
    allowed: str  # what the pattern allows, in words, for error messages


PLATFORM_RULES = {
    "instagram": PlatformRule(
        r"[A-Za-z0-9._]{1,30}",
        "https://www.instagram.com/{handle}/",
        "1 to 30 letters, digits, periods (.) and underscores (_)",
    ),
    "tiktok": PlatformRule(
        r"[A-Za-z0-9._]{2,24}",
        "https://www.tiktok.com/@{handle}",
        "2 to 24 letters, digits, periods (.) and underscores (_)",
    ),
    "youtube": PlatformRule(
        r"[A-Za-z0-9._-]{3,30}",
        "https://www.youtube.com/@{handle}",
        "3 to 30 letters, digits, periods (.), hyphens (-) and underscores (_)",
    ),
    "x": PlatformRule(
        r"[A-Za-z0-9_]{1,15}",
        "https://x.com/{handle}",
        "1 to 15 letters, digits and underscores (_)",
    ),
    "linkedin": PlatformRule(
        r"[A-Za-z0-9-]{3,100}",
        "https://www.linkedin.com/in/{handle}/",
        "3 to 100 letters, digits and hyphens (-), as in your profile's address",
    ),
    "facebook": PlatformRule(
        r"[A-Za-z0-9.]{5,50}",
        "https://www.facebook.com/{handle}",
        "5 to 50 letters, digits and periods (.)",
    ),
    "threads": PlatformRule(
        r"[A-Za-z0-9._]{1,30}",
        "https://www.threads.net/@{handle}",
        "1 to 30 letters, digits, periods (.) and underscores (_)",
    ),
    "bluesky": PlatformRule(
        r"(?=.{3,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+",
        "https://bsky.app/profile/{handle}",
        "a domain name such as name.bsky.social: letters, digits and hyphens (-) "
        "between periods (.)",
    ),
    "twitch": PlatformRule(
        r"[A-Za-z0-9_]{4,25}",
        "https://www.twitch.tv/{handle}",
        "4 to 25 letters, digits and underscores (_)",
    ),
    "snapchat": PlatformRule(
        r"[A-Za-z][A-Za-z0-9._-]{2,14}",
        "https://www.snapchat.com/add/{handle}",
        "3 to 15 letters, digits, periods (.), hyphens (-) and underscores (_), starting "
        "with a letter",
    ),
    "pinterest": PlatformRule(
        r"[A-Za-z0-9_]{3,30}",
        "https://www.pinterest.com/{handle}/",
        "3 to 30 letters, digits and underscores (_)",
    ),
    "other": PlatformRule(r"\S{1,100}", "", "up to 100 characters, without spaces"),
}


class SocialAccount(models.Model):
    """A personal account the employee links by hand (no OAuth, no scraping)."""

    class Platform(models.TextChoices):
        INSTAGRAM = "instagram", "Instagram"
        TIKTOK = "tiktok", "TikTok"
        YOUTUBE = "youtube", "YouTube"
        X = "x", "X"
        LINKEDIN = "linkedin", "LinkedIn"
        FACEBOOK = "facebook", "Facebook"
        THREADS = "threads", "Threads"
        BLUESKY = "bluesky", "Bluesky"
        TWITCH = "twitch", "Twitch"
        SNAPCHAT = "snapchat", "Snapchat"
        PINTEREST = "pinterest", "Pinterest"
        OTHER = "other", "Other"

    class Boundary(models.TextChoices):
        OPEN = "open", "Open to employer content"
        ASK_FIRST = "ask_first", "Ask me first"
        CLOSED = "closed", "Closed to employer content"

    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="social_accounts")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    handle = models.CharField(max_length=253, help_text="Without the leading @.")
    follower_count = models.PositiveIntegerField(null=True, blank=True)
    followers_as_of = models.DateField("followers as of", null=True, blank=True)
    about = models.CharField("what it is about", max_length=280, blank=True)
    boundary = models.CharField(max_length=16, choices=Boundary.choices, default=Boundary.ASK_FIRST)
    boundary_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [
            models.UniqueConstraint(
                "owner",
                "platform",
                Lower("handle"),
                condition=models.Q(archived_at__isnull=True),
                name="socialaccount_unique_active_handle",
            ),
        ]
        indexes = [models.Index(fields=["owner", "archived_at"])]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} @{self.handle}"

    def get_absolute_url(self) -> str:
        return reverse("boundary:account-edit", args=[self.pk])

    @property
    def profile_url(self) -> str:
        template = PLATFORM_RULES[self.platform].profile_url
        return template.format(handle=self.handle) if template else ""

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


def normalise_handle(platform: str, raw: str) -> str:
    """Strip whitespace and one leading "@"; raise ValueError if the platform would refuse it."""
    handle = raw.strip().removeprefix("@")
    rule = PLATFORM_RULES.get(platform)
    if rule is None or not re.fullmatch(rule.handle_pattern, handle):
        raise ValueError(handle)
    return handle
