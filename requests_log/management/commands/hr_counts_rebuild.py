"""Recount what HR's dashboard counts, for every employee (requests_log/hr_counts.py).

Needed only after data was loaded with the database's triggers off, which marked nobody's
counts stale; the app keeps them up to date itself otherwise."""

import time

from django.core.management.base import BaseCommand

from requests_log import hr_counts


class Command(BaseCommand):
    help = "Recount HR's dashboard counts for every employee (after a load with triggers off)."

    def handle(self, *args, **options):
        if not hr_counts.counts_kept():
            self.stdout.write("This database counts HR's dashboard afresh: nothing to rebuild.")
            return
        started = time.monotonic()
        employees = hr_counts.counted_requests_rebuild()
        self.stdout.write(
            f"Recounted the requests of {employees} employees in "
            f"{time.monotonic() - started:.1f} s."
        )
