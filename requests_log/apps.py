from django.apps import AppConfig


class RequestsLogConfig(AppConfig):
    name = "requests_log"
    verbose_name = "Promotion requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from requests_log import checks  # noqa: F401 - registers the system checks
        from requests_log import security  # noqa: F401 - connects the security log
