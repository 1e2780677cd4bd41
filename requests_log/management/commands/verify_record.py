import contextlib
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from requests_log.exports import fileformat, services, verifier
from requests_log.models import Verification


class Command(BaseCommand):
    help = (
        "Check an exported record (PDF, CSV, JSON or ZIP) against this instance's key; "
        "with --earlier, also check the earlier export and, if both pass, that this one "
        "contains it unchanged. Exits 0 intact, 1 altered, 2 unknown key, 3 not an export, "
        "4 the earlier export is not contained, 5 the earlier file was not compared."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--earlier", metavar="FILE", help="An earlier export to compare.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes that check a long JSON record (default: one per CPU).",
        )

    def handle(self, *args, file: str, earlier: str | None = None, jobs: int, **options):
        limits = fileformat.Limits(
            max_unpacked=settings.EXPORT_VERIFY_MAX_UNPACKED, jobs=max(1, jobs)
        )
        try:
            with contextlib.ExitStack() as files:
                older = files.enter_context(open(earlier, "rb")) if earlier else None
                result = services.verification_run(
                    export=files.enter_context(open(file, "rb")),
                    file_name=file,
                    earlier=older,
                    source=Verification.Source.COMMAND,
                    limits=limits,
                )
        except OSError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(verifier.report(result, as_json=options["json"]))
        code = verifier.exit_code(result)
        if code:
            message = {
                4: "The earlier export is not contained unchanged.",
                5: "The earlier file did not pass its own check, so it was not compared.",
            }
            raise CommandError(message.get(code, result.label), returncode=code)
