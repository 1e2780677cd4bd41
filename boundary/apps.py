from django.apps import AppConfig


class BoundaryConfig(AppConfig):
    name = "boundary"
    verbose_name = "People and accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from boundary import checks  # noqa: F401 - registers the system checks
