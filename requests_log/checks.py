"""System checks for the record's settings: the timestamp authorities' root certificates
must be readable PEM, or the verify page could not check any receipt's timestamps."""

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security)
def check_tsa_roots(app_configs=None, **kwargs):
    from cryptography import x509

    problems: list[CheckMessage] = []
    for path in settings.RFC3161_TSA_ROOTS:
        try:
            with open(path, "rb") as handle:
                x509.load_pem_x509_certificates(handle.read())
        except (OSError, ValueError) as error:
            problems.append(
                Error(
                    f"RFC3161_TSA_ROOTS: {path} is not a readable PEM certificate ({error}).",
                    hint="Give the path of each timestamp authority's root certificate, PEM.",
                    id="requests_log.E001",
                )
            )
    if settings.RFC3161_TSA_URLS and not settings.RFC3161_TSA_ROOTS:
        problems.append(
            Warning(
                "RFC3161_TSA_URLS is set but RFC3161_TSA_ROOTS is empty: receipts are "
                "timestamped, but the verify page cannot check those timestamps.",
                hint="Add the authorities' root certificates (PEM files) to RFC3161_TSA_ROOTS.",
                id="requests_log.W001",
            )
        )
    return problems
