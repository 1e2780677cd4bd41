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
        "contains it unchanged; with --receipt, check it against each receipt. Exits 0 "
        "intact, 1 altered, 2 unknown key, 3 not an export, 4 rewritten or cut since the "
        "earlier export or a receipt, 5 an earlier file or receipt was not compared."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--earlier", metavar="FILE", help="An earlier export to compare.")
        parser.add_argument(
            "--receipt",
            action="append",
            default=[],
            metavar="FILE",
            help="A receipt to check the export against (give it once per receipt).",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes that check a long JSON record (default: one per CPU).",
        )

    def handle(
        self,
        *args,
        file: str,
        earlier: str | None = None,
        receipt: list[str],
        jobs: int,
        **options,
    ):
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
                    receipts=verifier.read_receipt_files(receipt),
                    source=Verification.Source.COMMAND,
                    limits=limits,
                )
        except OSError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(verifier.report(result, as_json=options["json"]))
        code = verifier.exit_code(result)
        if code:
            raise CommandError(failure(result, code), returncode=code)


def failure(result: verifier.Result, code: int) -> str:
    """One line on why the check exits `code`."""
    prefix = result.prefix
    if code == 4 and prefix is not None and prefix.compared and not prefix.contained:
        return "The earlier export is not contained unchanged."
    if code == 4:
        return "A receipt shows the record was rewritten or cut after it was issued."
    if code == 5 and prefix is not None and not prefix.compared:
        return "The earlier file did not pass its own check, so it was not compared."
    if code == 5:
        return "A receipt could not be compared with this export."
    return result.label
