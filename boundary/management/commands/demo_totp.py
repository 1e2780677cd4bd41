"""Print the current authenticator code of a demo login (`make run`'s admin and HR), for
trying Boundary without an authenticator app. Refused in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from boundary.demo import DEMO_ADMIN_EMAIL, DEMO_HR_EMAIL


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo admin or HR login (development only)."

    def add_arguments(self, parser):
        parser.add_argument("email", choices=[DEMO_ADMIN_EMAIL, DEMO_HR_EMAIL])

    def handle(self, *args, email: str, **options):
        if settings.PRODUCTION:
            raise CommandError("demo_totp prints a login code: not in production.")
        device = TOTPDevice.objects.filter(user__email=email, confirmed=True).first()
        if device is None:
            raise CommandError(f"{email} has no authenticator: run make run (load_demo) first.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
