"""`make run`'s admin and HR logins (requests_log's load_demo calls this). Development
only: load_demo and demo_totp refuse to run in production."""

import base64
import secrets

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_HR_EMAIL = "hr@example.com"


def demo_admin_and_hr_create(*, password: str, verified_emails: tuple[str, ...] = ()) -> None:
    """An admin and an HR person with the demo password and one authenticator secret,
    made at random now (so no two demo databases share it) and printed by load_demo.
    The demo's other logins (verified_emails) count as verified."""
    key = secrets.token_hex(20)
    for email, name, role in (
        (DEMO_ADMIN_EMAIL, "Alex Morgan", User.Role.ADMIN),
        (DEMO_HR_EMAIL, "Hana Kim", User.Role.HR),
    ):
        user = User.objects.create_user(
            email=email,
            password=password,
            display_name=name,
            department="People",
            role=role,
            email_verified_at=timezone.now(),
        )
        TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key, confirmed=True)
    User.objects.filter(email__in=verified_emails, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )


def demo_totp_secret() -> str | None:
    """The demo admin's authenticator secret in base32 (what apps take), if there is one."""
    device = TOTPDevice.objects.filter(user__email=DEMO_ADMIN_EMAIL, confirmed=True).first()
    return base64.b32encode(device.bin_key).decode() if device else None


def demo_logins_note(password: str) -> str:
    secret = demo_totp_secret()
    if secret is None:
        return ""
    return (
        f"Admin and HR: {DEMO_ADMIN_EMAIL} and {DEMO_HR_EMAIL} / {password}, then a code from an "
        f"authenticator app set up with the key {secret} (or run "
        f".venv/bin/python manage.py demo_totp {DEMO_ADMIN_EMAIL} to print the current code)"
    )
