"""The second step of closing an account (requests_log.closing): erase the values in each
closed account's timeline that closing did not keep, each replaced by its digest. Run it
daily as the database's owner, as migrate is run (README, "Closing an account"): the
app's own role may not rewrite the append-only timeline, and is refused here."""

from django.core.management.base import BaseCommand, CommandError

from requests_log.closing import account_erase, closures_to_erase, timeline_rewritable


class Command(BaseCommand):
    help = "Erase the timelines of closed accounts that no legal hold keeps (run as the owner)."

    def handle(self, *args, **options):
        if not timeline_rewritable():
            raise CommandError(
                "This database role may not rewrite the timeline: run erase_closed_accounts "
                "as the database's owner (the role that runs migrate)."
            )
        erased = 0
        for closure in closures_to_erase():
            closure = account_erase(closure)
            erased += 1
            self.stdout.write(
                f"User {closure.employee_id}: {closure.fields_erased} values erased "
                f"in {closure.events_erased} events; the chain still verifies."
            )
        self.stdout.write(f"{erased} closed account(s) erased.")
