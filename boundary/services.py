"""Writes to people and their linked accounts: roles, sign-up, invitations, two factors."""

import secrets
from datetime import timedelta
from typing import Any

import django_otp
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Invitation, SocialAccount, User, normalise_email
from .security_log import security_event

# What a person edits on their own profile. Not the role (admins set it) and not the
# manager (admin or HR set it): neither is the person's to choose.
PROFILE_FIELDS = (
    "display_name",
    "job_title",
    "department",
    "time_zone",
    "work_country",
    "work_state",
    "deadline_reminders",
    "no_decision_reminders",
    "reply_reminders",
    "quiet_hours_start",
    "quiet_hours_end",
)


def user_register(*, email: str, password: str, display_name: str, **profile: Any) -> User:
    return User.objects.create_user(
        email=email, password=password, display_name=display_name, **profile
    )


# --- Roles and managers ---------------------------------------------------------------------

MANAGER_ROLES = (User.Role.MANAGER, User.Role.HR, User.Role.ADMIN)


@transaction.atomic
def user_role_set(*, user: User, role: str, by: User) -> User:
    """Change a user's role, and with it Django's staff and superuser flags
    (User.apply_role). Only admins set roles."""
    if not (by.is_active and by.role == User.Role.ADMIN):
        raise PermissionDenied("Only admins set roles.")
    if role not in User.Role.values:
        raise ValidationError(f"Not a role: {role!r}.")
    before = user.role
    user.apply_role(role)
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    security_event("role.change", actor=by, obj=user, role_from=before, role_to=role)
    return user


def user_manager_set(*, user: User, manager: User | None, by: User) -> User:
    """Set who manages a person: admin or HR only, never the person themself."""
    if not (by.is_active and by.role in (User.Role.HR, User.Role.ADMIN)):
        raise PermissionDenied("Only HR and admins set managers.")
    if manager is not None and (manager.pk == user.pk or manager.role not in MANAGER_ROLES):
        raise ValidationError("A manager must be another person with a manager, HR or admin role.")
    user.manager = manager
    user.save(update_fields=["manager"])
    security_event("manager.change", actor=by, obj=user, manager=getattr(manager, "pk", None))
    return user


# --- Sign-up and verified addresses -------------------------------------------------------

VERIFICATION_SALT = "boundary.email-verification"


def _send(template: str, *, to: str, **context: Any) -> None:
    """One plain-text email from templates/emails/<template>-subject.txt and -body.txt,
    sent once the transaction commits."""
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    subject = render_to_string(f"emails/{template}-subject.txt", context).strip()
    body = render_to_string(f"emails/{template}-body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [to]))


@transaction.atomic
def user_signup(*, email: str, password: str, display_name: str, time_zone: str) -> User | None:
    """Open sign-up, revealing nothing about which addresses are registered: a new
    address gets an unverified account and a verification email; a registered one
    (in any case) creates nothing, and its owner is told someone tried. Returns the new
    user, or None. Either way the person is told to check their email."""
    email = normalise_email(email)
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        make_password(password)  # as long as creating an account takes: time tells nothing
        _send("signup-attempt", to=existing.email, user=existing)
        return None
    user = user_register(
        email=email, password=password, display_name=display_name, time_zone=time_zone
    )
    email_verification_send(user=user)
    return user


def email_verification_token(user: User) -> str:
    """Signed (user, address) pair: a changed address makes old links useless."""
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFICATION_SALT)


def email_verification_send(*, user: User) -> bool:
    """Send the verification link, at most once a minute per person (claimed in the
    database, so two clicks or two servers send one email). False when it was too soon
    or the address is already verified."""
    now = timezone.now()
    too_recent = now - timedelta(seconds=settings.EMAIL_VERIFICATION_RESEND_AFTER)
    claimed = (
        User.objects.filter(pk=user.pk, email_verified_at__isnull=True)
        .filter(
            Q(email_verification_sent_at__isnull=True)
            | Q(email_verification_sent_at__lte=too_recent)
        )
        .update(email_verification_sent_at=now)
    )
    if claimed != 1:
        return False
    user.email_verification_sent_at = now
    link = reverse("email-verify", args=[email_verification_token(user)])
    _send("verify-email", to=user.email, user=user, link=link, valid_for="3 days")
    return True


def email_verify(*, token: str) -> tuple[User, bool]:
    """Mark the address in a verification link as verified. Returns the user and
    whether this link verified it now (False: it was verified before). Raises
    ValidationError for a link that is forged, expired, or for an address since changed."""
    try:
        data = signing.loads(
            token, salt=VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise ValidationError("This link has expired. Log in to get a new one.") from None
    except signing.BadSignature:
        raise ValidationError("This link is not valid.") from None
    user = User.objects.filter(pk=data.get("u"), email=data.get("e"), is_active=True).first()
    if user is None:
        raise ValidationError("This link is not valid.")
    verified_now = bool(
        User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(
            email_verified_at=timezone.now()
        )
    )
    user.refresh_from_db(fields=["email_verified_at"])
    return user, verified_now


# --- Invitations ----------------------------------------------------------------------------


def invitable_roles(by: User) -> list[str]:
    """What a person may invite as: HR invites employees and managers; admins anyone."""
    if not by.is_active:
        return []
    if by.role == User.Role.ADMIN:
        return list(User.Role.values)
    if by.role == User.Role.HR:
        return [User.Role.EMPLOYEE, User.Role.MANAGER]
    return []


@transaction.atomic
def invitation_create(*, email: str, role: str, by: User) -> Invitation:
    """Invite an address to sign up with a role, by email with a one-time link valid for
    seven days. Earlier pending invitations to the address stop working. Raises
    PermissionDenied for a role the inviter may not give, ValidationError for an address
    that already has an account."""
    if role not in invitable_roles(by):
        raise PermissionDenied("You may not invite people with this role.")
    email = normalise_email(email)
    if User.objects.filter(email=email).exists():
        raise ValidationError("This address already has an account.")
    now = timezone.now()
    Invitation.objects.filter(email=email, accepted_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        invited_by=by,
        token_hash=Invitation.hash_token(token),
        expires_at=now + timedelta(days=Invitation.VALID_FOR_DAYS),
    )
    link = reverse("signup-invitation", args=[token])
    _send("invitation", to=email, invitation=invitation, link=link, valid_for="7 days")
    return invitation


def invitation_get_pending(*, token: str) -> Invitation | None:
    """The invitation a link's token opens, if it is unused and unexpired."""
    return (
        Invitation.objects.filter(
            token_hash=Invitation.hash_token(token),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .first()
    )


@transaction.atomic
def invitation_accept(
    *, token: str, password: str, display_name: str, time_zone: str = "UTC"
) -> User:
    """Create the invited person's account, with the invited role and the address
    verified (the link reached it). The invitation is claimed under a row lock, so it
    works once. Raises ValidationError for a used or expired link."""
    invitation = (
        Invitation.objects.select_for_update()
        .filter(
            token_hash=Invitation.hash_token(token),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if invitation is None:
        raise ValidationError("This invitation has been used or has expired.")
    if User.objects.filter(email=invitation.email).exists():
        raise ValidationError("This address already has an account: log in instead.")
    user = User.objects.create_user(
        email=invitation.email,
        password=password,
        display_name=display_name,
        time_zone=time_zone,
        role=invitation.role,
        email_verified_at=timezone.now(),
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return user


# --- Two factors ----------------------------------------------------------------------------

RECOVERY_CODE_COUNT = 10


def totp_device_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for the set-up page (an earlier unconfirmed one
    is replaced). It counts only once confirmed with a code."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a new authenticator with a code from it; it then replaces any earlier
    one. False for a wrong code (counted by the device's throttle)."""
    if not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    user_sessions_end_elsewhere(user=device.user)
    return True


def user_sessions_end_elsewhere(*, user: User) -> None:
    """End the person's other sessions at their next request (a new session_stamp): their
    second factors changed, and a session begun before may be someone else's. The view
    keeps its own session with boundary.middleware.session_keep."""
    user.session_stamp = secrets.token_hex(16)
    user.save(update_fields=["session_stamp"])


@transaction.atomic
def recovery_codes_generate(*, user: User) -> list[str]:
    """Ten new one-time recovery codes; earlier ones stop working. The codes are
    returned to be shown once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    user_sessions_end_elsewhere(user=user)
    return codes


@transaction.atomic
def two_factors_disable(*, user: User) -> None:
    """Remove the authenticator and recovery codes. Refused to HR and admins, for whom
    two factors are required."""
    if user.needs_two_factors:
        raise PermissionDenied("Two factors are required for your role.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user_sessions_end_elsewhere(user=user)


def profile_update(*, user: User, **changes: Any) -> User:
    """Save profile changes. What depends on them (when reminders fall due) is the
    caller's to update: requests_log.reminders.reminders_retime_after_profile_change."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not profile fields: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(user, field, value)
    user.save(update_fields=list(changes))
    return user


def social_account_link(*, owner: User, **details: Any) -> SocialAccount:
    return SocialAccount.objects.create(owner=owner, **details)


def social_account_update(*, account: SocialAccount, **changes: Any) -> SocialAccount:
    for field, value in changes.items():
        setattr(account, field, value)
    account.save(update_fields=[*changes, "updated_at"])
    return account


@transaction.atomic
def social_account_remove(*, account: SocialAccount) -> bool:
    """Delete an account nobody referenced; archive one a request targets, so the
    record keeps pointing at it. Returns True when it was archived."""
    referenced = account.request_targets.exists() or account.decisions.exists()
    if referenced:
        account.archived_at = timezone.now()
        account.save(update_fields=["archived_at", "updated_at"])
        return True
    account.delete()
    return False


def second_factor_verify(*, user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The confirmed device that accepts this code: six digits are checked against the
    authenticator, anything else against the recovery codes (a used one is spent).
    Wrong codes count towards each device's throttle (django-otp), so guessing slows
    down exponentially. None when no device accepted it."""
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    for device in model.objects.filter(user=user, confirmed=True):
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


THROTTLE_SHOWN_AFTER = 3  # wrong codes in a row; one typo waits a second, unsaid


def second_factor_throttled(*, user: User) -> bool:
    """True while repeated wrong codes make the authenticator refuse every code."""
    return any(
        device.throttling_failure_count >= THROTTLE_SHOWN_AFTER
        and not device.verify_is_allowed()[0]
        for device in TOTPDevice.objects.filter(user=user, confirmed=True)
    )
