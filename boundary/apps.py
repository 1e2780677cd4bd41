from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BoundaryConfig(AppConfig):
    name = "boundary"
    verbose_name = "People and accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the system checks, connects session_start to user_logged_in, and
        # the security log to django-axes' lock-out signal.
        from boundary import checks, middleware, security_log  # noqa: F401

        security_log.connect_lockout()


class BoundaryAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Boundary's site: a verified second factor for everyone."""

    default = False  # "boundary" means BoundaryConfig
    default_site = "boundary.admin_site.BoundaryAdminSite"
