"""Place, release or list legal holds (requests_log.models.LegalHold). A hold keeps a
person's whole record when they close their account, until it is released; run this on
the instruction of whoever may order one (README, "Closing an account")."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from boundary.models import User
from boundary.security_log import security_event
from requests_log.closing import legal_hold_in_force
from requests_log.models import LegalHold


class Command(BaseCommand):
    help = "Place (place PERSON --reason TEXT), release (release PERSON) or list legal holds."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        place = actions.add_parser("place", help="place a hold on a person's record")
        place.add_argument("person", help="an email address, or a user id (a closed account's)")
        place.add_argument("--reason", required=True, help="why, e.g. a claim's reference")
        release = actions.add_parser("release", help="release the hold in force")
        release.add_argument("person", help="an email address, or a user id")
        actions.add_parser("list", help="the holds in force")

    def handle(self, *args, action, **options):
        if action == "list":
            for hold in LegalHold.objects.filter(released_at__isnull=True).select_related(
                "employee"
            ):
                self.stdout.write(
                    f"{hold.employee.email}: since {hold.placed_at:%Y-%m-%d}, {hold.reason}"
                )
            return
        with transaction.atomic():
            employee = self._person(options["person"])
            if action == "place":
                hold = self._place(employee, options["reason"])
            else:
                hold = self._release(employee)
        security_event(f"legal_hold_{action}d", obj=employee, hold=hold.pk)
        self.stdout.write(f"Legal hold {action}d on the record of {employee.email}.")

    @staticmethod
    def _place(employee: User, reason: str) -> LegalHold:
        hold = legal_hold_in_force(employee)
        if hold is not None:
            raise CommandError(f"A hold is in force already, since {hold.placed_at}.")
        return LegalHold.objects.create(employee=employee, reason=reason, placed_at=timezone.now())

    @staticmethod
    def _release(employee: User) -> LegalHold:
        hold = legal_hold_in_force(employee)
        if hold is None:
            raise CommandError("No hold is in force on that person's record.")
        hold.released_at = timezone.now()
        hold.save(update_fields=["released_at"])
        return hold

    @staticmethod
    def _person(person: str) -> User:
        """By address, or by id: a closed account's address is gone."""
        match = {"pk": int(person)} if person.isdigit() else {"email__iexact": person}
        try:
            return User.objects.select_for_update().get(**match)
        except User.DoesNotExist:
            raise CommandError(f"No one is {person}.") from None
