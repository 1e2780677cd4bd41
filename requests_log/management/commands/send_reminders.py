import time

from django.core.management.base import BaseCommand

from requests_log import reminders


class Command(BaseCommand):
    help = (
        "Send due reminders without Celery: claim them and send each here. "
        "Safe to run beside Celery workers or another copy of itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sweeping until stopped.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between sweeps with --loop."
        )

    def handle(self, *args, loop: bool = False, interval: float = 60.0, **options):
        while True:
            outcomes = self.sweep_once()
            if outcomes or not loop:
                summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
                self.stdout.write(summary or "No reminders due.")
            if not loop:
                return
            time.sleep(interval)

    def sweep_once(self) -> dict[str, int]:
        outcomes: dict[str, int] = {}

        def send_here(reminder_ids):
            for reminder_id in reminder_ids:
                try:
                    outcome = reminders.reminder_send(reminder_id=reminder_id)
                except reminders.TransientDeliveryError as error:
                    # Released: a sweep after REMINDER_QUEUE_TIMEOUT tries it again.
                    self.stderr.write(f"Reminder {reminder_id}: {error}")
                    outcome = "retry later"
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

        reminders.reminders_sweep(dispatch=send_here)
        return outcomes
