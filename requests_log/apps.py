from django.apps import AppConfig


class RequestsLogConfig(AppConfig):
    name = "requests_log"
    verbose_name = "Promotion requests"
    default_auto_field = "django.db.models.BigAutoField"
