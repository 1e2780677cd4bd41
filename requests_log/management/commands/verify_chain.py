from django.core.management.base import BaseCommand, CommandError

from boundary.models import User
from requests_log.timeline import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute every employee's timeline hash chain and report the first broken event; "
        "compare it with every checkpoint issued and every export made of it (a rewrite or "
        "a cut tail shows against them); replay the events and report every table row that "
        "says otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employee", metavar="EMAIL", help="Check only this employee.")

    def handle(self, *args, employee: str | None = None, **options):
        employees = User.objects.filter(timeline_events__isnull=False).distinct().order_by("pk")
        if employee:
            employees = User.objects.filter(email__iexact=employee)
            if not employees.exists():
                raise CommandError(f"No user with the email {employee}.")
        broken = 0
        for person in employees.iterator():
            report = verify_chain(employee=person)
            if report.ok:
                self.stdout.write(
                    f"OK     {person.email}: {report.events_checked} events, head {report.head}"
                )
            elif report.contradicted:
                broken += 1
                self.stdout.write(f"REWRITTEN {person.email}: {report.reason}")
                for line in (*report.contradicted, *report.drift):
                    self.stdout.write(f"         {line}")
            elif report.drift:
                broken += 1
                self.stdout.write(f"DRIFT  {person.email}: {report.reason}")
                for difference in report.drift:
                    self.stdout.write(f"         {difference}")
            else:
                broken += 1
                self.stdout.write(
                    f"BROKEN {person.email}: event #{report.broken_seq} {report.reason}"
                )
        if broken:
            raise CommandError(f"{broken} chain(s) broken, rewritten or drifted from their tables.")
