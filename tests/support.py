"""Small helpers shared by tests."""

from collections.abc import Sequence
from typing import Any

from django.db import connection

from requests_log.flags import FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE

# A SECURITY DEFINER function that tests/conftest.py creates in the test database only.
OWNER_FUNCTION = "boundary_test_as_owner"


def plain(text: str) -> str:
    """`text` without the directional isolates that set typed words apart
    (requests_log.flags.isolated), for comparing what a person reads."""
    return text.replace(FIRST_STRONG_ISOLATE, "").replace(POP_DIRECTIONAL_ISOLATE, "")


def as_owner(sql: str, params: Sequence[Any] | None = None) -> int:
    """Run one statement as the role that owns the tables, in the test's own transaction,
    and return how many rows it touched: what whoever runs the database can do, and the
    role the tests (like the app) connect as cannot. Combine with pgtrigger.ignore() to
    get past the append-only triggers as well."""
    with connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params).decode() if params is not None else sql
        cursor.execute(f"SELECT {OWNER_FUNCTION}(%s)", [statement])
        return cursor.fetchone()[0]


def login_with_otp(client, user):
    """Sign `user` in on the test client with a session verified by a second factor, as
    after the login's code step: gives the user a confirmed authenticator if they have
    none. HR and admins need this to reach any page but the two-factor set-up (and the
    Django admin needs it for everyone). Returns the device."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def totp_code(device, *, offset_steps: int = 0) -> str:
    """The code `device` shows now (or `offset_steps` steps from now)."""
    from django_otp.oath import totp

    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset_steps)
    return f"{code:0{device.digits}d}"
