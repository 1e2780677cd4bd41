"""Refusing breached passwords (ASVS 6.2.4, 6.2.12): pwned-passwords-django's validator,
asking the Pwned Passwords range API at settings.PWNED_PASSWORDS_URL. Only the first
five hex digits of the password's SHA-1 leave the server (k-anonymity), padded.

The address is a setting so that an instance without internet access can ask its own
mirror of the list (the same /range/<prefix> API). When neither answers within
PWNED_PASSWORDS["API_TIMEOUT"], the validator falls back to Django's list of 20,000
common passwords, which is drawn from the same breaches, and logs that it did.
"""

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from pwned_passwords_django.api import PwnedPasswords
from pwned_passwords_django.validators import PwnedPasswordsValidator


class _ConfiguredRangeApi(PwnedPasswords):
    @property
    def api_endpoint(self) -> str:
        # Read at each check, not once: the setting may change after start-up (tests).
        return settings.PWNED_PASSWORDS_URL


class BreachedPasswordValidator(PwnedPasswordsValidator):
    """Refuse one of Django's common passwords, and any other found in the Pwned
    Passwords list."""

    default_error_message = "This password is too common: it appears in known data breaches."

    def __init__(self, **options):
        super().__init__(api_client=_ConfiguredRangeApi(), **options)

    @sensitive_variables()
    def validate(self, password: str, user=None) -> None:
        # Django's list first: the 20,000 most common need no request, and get one message.
        self.fallback_validator.validate(password, user)
        super().validate(password, user)
