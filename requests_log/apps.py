from django.apps import AppConfig


class RequestsLogConfig(AppConfig):
    name = "requests_log"
    verbose_name = "Promotion requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks, and connects the record's events to the security log.
        from requests_log import checks, security  # noqa: F401
