import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from requests_log.exports import services, signing, verifier
from requests_log.models import Verification

EXIT_CODES = {verifier.INTACT: 0, verifier.ALTERED: 1, verifier.UNKNOWN_KEY: 2}


class Command(BaseCommand):
    help = (
        "Check an exported record (PDF, CSV, JSON or ZIP) against this instance's key; "
        "with --earlier, also check that it contains an earlier export unchanged."
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
        trusted = signing.trusted_fingerprints()
        limits = verifier.Limits(
            max_unpacked=settings.EXPORT_VERIFY_MAX_UNPACKED, jobs=max(1, jobs)
        )
        try:
            older = None
            earlier_sha = ""
            if earlier:
                with open(earlier, "rb") as handle:
                    earlier_sha = services.sha256_of_file(handle)
                    older = verifier.verify_file(handle, trusted=trusted, limits=limits)
            with open(file, "rb") as handle:
                probe = older.chain.head_seq if older and older.chain else None
                result = verifier.verify_file(
                    handle, trusted=trusted, limits=limits, probe_seq=probe
                )
                size = verifier.file_size(handle)
                file_sha = services.sha256_of_file(handle)
        except OSError as error:
            raise CommandError(str(error)) from error
        if older is not None:
            result.prefix = verifier.compare(older, result)
        services.verification_record(
            result=result,
            source=Verification.Source.COMMAND,
            file_name=file,
            file_size=size,
            file_sha256=file_sha,
            earlier_sha256=earlier_sha,
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2, sort_keys=True))
        else:
            self.stdout.write(f"{result.label}: {result.reason}")
            if result.where:
                self.stdout.write(f"First failure: {result.where}")
            if result.chain is not None:
                self.stdout.write(f"Chain head: #{result.chain.head_seq} {result.chain.head_hash}")
            if result.prefix is not None:
                answer = "contains" if result.prefix.contained else "does NOT contain"
                self.stdout.write(
                    f"Earlier export: this one {answer} it unchanged: {result.prefix.reason}"
                )
        if result.verdict != verifier.INTACT:
            raise CommandError(result.label, returncode=EXIT_CODES.get(result.verdict, 3))
        if result.prefix is not None and not result.prefix.contained:
            raise CommandError("The earlier export is not contained unchanged.", returncode=4)
