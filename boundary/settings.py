"""Settings for Boundary, read from the environment (see the table in README.md).

DJANGO_ENV=development (the default) gives safe local defaults: an SQLite file and
a broker in a SQLite file under var/, so `make run` needs nothing but Python.
DJANGO_ENV=production has no defaults for secrets: a missing one fails at boot.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
import xstatic.pkg.bootstrap
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

ENVIRONMENT = env.str("DJANGO_ENV", default="development")
if ENVIRONMENT not in {"development", "production"}:
    raise environ.ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
    DATABASES = {"default": env.db("DATABASE_URL")}
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
    DEBUG = False
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-do-not-deploy")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
    CELERY_BROKER_URL = env.str(
        "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
    )
    DEBUG = env.bool("DJANGO_DEBUG", default=True)

DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat of `make run` share the file: take the write
    # lock at the start of each transaction and wait for it rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    # PostgreSQL's default cost of a random read (4) models a spinning disk. With it the
    # planner reads a heavy employee's decline history by scanning every decline in the
    # company (35 ms) rather than through decision_decline_idx (3 ms). 1.1 is the usual
    # setting for SSDs and for data that fits in memory (docs/performance.md).
    # Empty leaves the server's own setting (and sends no startup option, which a
    # connection pooler such as PgBouncer may refuse).
    random_page_cost = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
    if random_page_cost:
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "options", f"-c random_page_cost={float(random_page_cost)}"
        )
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Least privilege (README, "Running in production"). The app's DATABASE_URL names a role
# that owns nothing; `migrate` and `grant_app_role` run with the owning role's URL as
# DATABASE_URL, so that role's password stays out of the app's environment. On the tables
# of these models grant_app_role gives the app's role SELECT and INSERT only
# (boundary.dbroles): no session setting can give it UPDATE, DELETE or TRUNCATE there.
# The models refuse changes themselves too, and a pgtrigger Protect trigger refuses them
# to the owner.
APPEND_ONLY_MODELS = [
    "requests_log.TimelineEvent",
    "requests_log.Checkpoint",
    "requests_log.Timestamp",
]

INSTALLED_APPS = [
    # The Django admin, behind a second factor for everyone (boundary.admin_site).
    "boundary.apps.BoundaryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "pgtrigger",
    "django_countries",
    "localflavor",
    "timezone_field",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "boundary",
    "requests_log",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A request id, and one JSON line per security event (boundary/security_log.py).
    "boundary.security_log.SecurityContextMiddleware",
    "boundary.middleware.SessionTimeoutMiddleware",
    "boundary.middleware.SecurityHeadersMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "boundary.middleware.TwoFactorSetupRequiredMiddleware",
    "boundary.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "boundary.urls"
WSGI_APPLICATION = "boundary.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "boundary.context_processors.navigation",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "requests_log.context_processors.notifications",
            ],
        },
    },
]

# People
AUTH_USER_MODEL = "boundary.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    # Breached passwords (Pwned Passwords), or Django's common ones when that list cannot
    # be reached: boundary/passwords.py.
    {"NAME": "boundary.passwords.BreachedPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The Pwned Passwords range API, or a mirror of it for an instance without internet.
PWNED_PASSWORDS_URL = env.str(
    "PWNED_PASSWORDS_URL", default="https://api.pwnedpasswords.com/range/"
)
PWNED_PASSWORDS = {"API_TIMEOUT": env.float("PWNED_PASSWORDS_TIMEOUT", default=1.5)}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "requests_log:my-record"
LOGOUT_REDIRECT_URL = "login"
# Login lockout (boundary/lockout.py): AXES_FAILURE_LIMIT failures for one account, or
# AXES_IP_FAILURE_LIMIT from one client address, lock that login for AXES_COOLOFF_MINUTES
# after the failure that locked it (failures while locked neither count nor extend it).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=8)
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=50)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_HANDLER = "boundary.lockout.LoginAttemptHandler"
# Django's authenticate() and the login form both call the address `username`.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "boundary.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "boundary.lockout.login_client_ip"
AXES_LOCKOUT_CALLABLE = "boundary.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# How many proxies in front of Boundary append to X-Forwarded-For (boundary.http.client_ip):
# 0 trusts no header and uses the connection's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# "open": anyone may create an account; "invite": only with an invitation from HR or an
# admin (/people/invite/). Either way new addresses are verified by email.
SIGNUP_MODE = env.str("SIGNUP_MODE", default="open")
if SIGNUP_MODE not in {"open", "invite"}:
    raise environ.ImproperlyConfigured("SIGNUP_MODE must be 'open' or 'invite'.")
EMAIL_VERIFICATION_MAX_AGE = 3 * 24 * 60 * 60  # seconds a verification link works
# Two factors (django-otp): the name authenticator apps show beside the code.
OTP_TOTP_ISSUER = "Boundary"
# The admin lists devices (an admin deletes a lost phone's) but never shows their secrets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Seconds between "send the verification email again".
EMAIL_VERIFICATION_RESEND_AFTER = 60

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Files. Evidence lives outside static/ and is served only by a permission-checked view.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR),
]
EVIDENCE_ROOT = Path(env.str("EVIDENCE_ROOT", default=str(VAR_DIR / "evidence")))
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": EVIDENCE_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, serve static files straight from their folders (no collectstatic).
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_PERMISSIONS = 0o600

# Email: console in development; EMAIL_URL (smtp+tls://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A hung mail server must not hold a reminder's claim past REMINDER_CLAIM_TIMEOUT.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Boundary <boundary@localhost>")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Forms
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
CRISPY_FAIL_SILENTLY = not DEBUG

# Security
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
# Browser features no page of Boundary uses, turned off for every page (and anything a
# page might embed); copying a reply to the clipboard is kept, for the page itself.
# clipboard-read keeps the browser's default (this origin, after the person allows it):
# the browser tests read back what a page copied.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "browsing-topics": [],
    "camera": [],
    "clipboard-write": ["self"],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "publickey-credentials-get": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}
# The page for a refused form (an expired or missing CSRF token), within the CSP.
CSRF_FAILURE_VIEW = "boundary.views.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
# Sessions: signed out SESSION_IDLE_TIMEOUT seconds after the last request and
# SESSION_ABSOLUTE_TIMEOUT seconds after login (boundary.middleware.SessionTimeoutMiddleware);
# the cookie lives no longer than the second. The session key changes at login, logout
# flushes the session on the server, and a password change ends every other session.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host-: the browser keeps them only if Secure, for this host alone, for every path.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Celery. Without CELERY_BROKER_URL (development) the broker is a SQLite file under var/,
# through kombu's SQLAlchemy transport: a message becomes visible only when its
# transaction commits, so a worker never reads one half-written (kombu's filesystem://
# transport does, and the worker dies of it). Consumed rows are pruned by
# boundary.tasks.prune_broker (scheduled below). See boundary/broker.py.
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith(("sqla+sqlite:", "sqlalchemy+sqlite:")):
    from boundary.broker import sqlite_transport_options

    CELERY_BROKER_TRANSPORT_OPTIONS = sqlite_transport_options(CELERY_BROKER_URL)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than the longest task, so Redis never redelivers a message still being worked on.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# What tasks print (the console email backend's emails) is logged at INFO, not WARNING.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
CELERY_TIMEZONE = "UTC"
# Tests set REMINDER_SWEEP_SECONDS to sweep every few seconds instead.
REMINDER_SWEEP_SECONDS = env.int("REMINDER_SWEEP_SECONDS", default=0)
CELERY_BEAT_SCHEDULE = {
    "sweep-reminders": {
        "task": "requests_log.sweep_reminders",
        "schedule": (
            crontab()  # every minute
            if not REMINDER_SWEEP_SECONDS
            else timedelta(seconds=REMINDER_SWEEP_SECONDS)
        ),
        # A sweep that waited longer than a minute is superseded by the next one.
        "options": {"expires": 55},
    },
}
if CELERY_BROKER_URL.startswith(("sqla+", "sqlalchemy+")):
    CELERY_BEAT_SCHEDULE["prune-broker"] = {
        "task": "boundary.prune_broker",
        "schedule": timedelta(minutes=10),
        "options": {"expires": 5 * 60},
    }

# Reminders (seconds). See requests_log/reminders.py.
REMINDER_STALE_AFTER = env.int("REMINDER_STALE_AFTER", default=24 * 60 * 60)
REMINDER_QUEUE_TIMEOUT = env.int("REMINDER_QUEUE_TIMEOUT", default=10 * 60)
REMINDER_CLAIM_TIMEOUT = env.int("REMINDER_CLAIM_TIMEOUT", default=5 * 60)
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=6)
REMINDER_RETRY_BACKOFF = env.int("REMINDER_RETRY_BACKOFF", default=30)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django gives its logger a console handler of its own (in DEBUG) on top of
        # ours: every line twice. The root's handler is enough.
        "django": {"handlers": [], "level": "INFO"},
        # "AXES: BEGIN version …", once per process at every start.
        "axes.apps": {"level": "WARNING"},
        # One JSON line per security event, whatever LOG_LEVEL says of the rest.
        "boundary.security": {"level": "INFO"},
    },
}

ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")

# Exports. Signed with the instance's Ed25519 key, generated on first use into
# BOUNDARY_SIGNING_KEY (keep it outside the database and back it up: exports signed with a
# lost key can only be checked against its published fingerprint). Earlier keys the
# instance still vouches for go in BOUNDARY_TRUSTED_KEYS (fingerprints or base64 keys).
EXPORT_SIGNING_KEY = Path(
    env.str("BOUNDARY_SIGNING_KEY", default=str(VAR_DIR / "keys" / "export-signing-key.pem"))
)
EXPORT_TRUSTED_KEYS = env.list("BOUNDARY_TRUSTED_KEYS", default=[])
EXPORTS_ROOT = Path(env.str("EXPORTS_ROOT", default=str(VAR_DIR / "exports")))
STORAGES["exports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": EXPORTS_ROOT, "base_url": None},
}
# Built files are kept this long (seconds), then deleted by the purge task.
EXPORT_FILE_TTL = env.int("EXPORT_FILE_TTL", default=7 * 24 * 60 * 60)
# PDFs and ZIPs with more shown events than this are built by a worker, with progress.
EXPORT_DIRECT_MAX_EVENTS = env.int("EXPORT_DIRECT_MAX_EVENTS", default=400)
# A build still "running" after this long (seconds) is taken to have died.
EXPORT_BUILD_TIMEOUT = env.int("EXPORT_BUILD_TIMEOUT", default=30 * 60)
# "Verify a record": the largest upload, and how much a ZIP may unpack to.
EXPORT_VERIFY_MAX_BYTES = env.int("EXPORT_VERIFY_MAX_BYTES", default=100 * 1024 * 1024)
EXPORT_VERIFY_MAX_UNPACKED = env.int("EXPORT_VERIFY_MAX_UNPACKED", default=1024 * 1024 * 1024)
# Uploads larger than this are checked by a Celery worker, the page showing progress;
# each check there has EXPORT_VERIFY_JOB_SECONDS (soft limit, then killed 30 s later).
EXPORT_VERIFY_INLINE_MAX_BYTES = env.int("EXPORT_VERIFY_INLINE_MAX_BYTES", default=5 * 1024 * 1024)
EXPORT_VERIFY_JOB_SECONDS = env.int("EXPORT_VERIFY_JOB_SECONDS", default=120)
# Checks per client address per ten minutes on the public page.
EXPORT_VERIFY_RATE = env.int("EXPORT_VERIFY_RATE", default=30)

# The cache holds the verify page's rate limit (and the receipt-address link throttle):
# it must be shared by every web process, or each one counts on its own. CACHE_URL names a
# Redis (redis://host:6379/1); in production without it, the broker's Redis when the broker
# is Redis. Development without either keeps the per-process local-memory cache of `make run`.
CACHE_URL = env.str("CACHE_URL", default="")
if not CACHE_URL and PRODUCTION and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHE_URL = CELERY_BROKER_URL
if CACHE_URL:
    CACHES = {
        "default": {
            # Django's, keeping its Redis clients (boundary/cache.py).
            "BACKEND": "boundary.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "boundary",
        }
    }
    # Sessions are read from this shared cache and written through to the database: a
    # Redis read instead of an ORM query on every page (docs/performance.md). Nothing ends
    # a session by deleting its row behind the cache's back: logout flushes both, and
    # every other end (the timeouts, new second factors, a deactivated or closed account)
    # is decided on each request from the session's data and the person's row.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # A per-process cache would keep a session another process has ended.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_IMPORTS = ["requests_log.exports.tasks", "requests_log.hr.tasks"]
CELERY_BEAT_SCHEDULE["purge-verification-jobs"] = {
    "task": "requests_log.purge_verification_jobs",
    "schedule": crontab(minute=35),
    "options": {"expires": 30 * 60},
}
# HR's weekly digest: due Mondays at 07:00 UTC; the sweep runs hourly (at :05) so a
# missed hour is caught up, and each HR user's digest still goes once per week.
CELERY_BEAT_SCHEDULE["sweep-hr-digests"] = {
    "task": "requests_log.sweep_hr_digests",
    "schedule": crontab(minute=5),
    "options": {"expires": 30 * 60},
}
# HR's dashboard recounts the employees marked stale before counting; this keeps them few
# (requests_log/hr_counts.py).
CELERY_BEAT_SCHEDULE["refresh-hr-counts"] = {
    "task": "requests_log.refresh_hr_counts",
    "schedule": crontab(),  # every minute
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["purge-expired-exports"] = {
    "task": "requests_log.purge_expired_exports",
    "schedule": crontab(minute=17),  # hourly, at :17
    "options": {"expires": 30 * 60},
}
# Receipts (docs/receipts.md): signed checkpoints of each employee's chain, at most one per
# RECEIPT_INTERVAL seconds after changes (plus any she asks for), each timestamped by the
# RFC 3161 authorities in RFC3161_TSA_URLS (none by default; e.g. https://freetsa.org/tsr).
# RFC3161_TSA_ROOTS: PEM files of the authorities' root certificates, to check timestamps.
RECEIPT_INTERVAL = env.int("RECEIPT_INTERVAL", default=10 * 60)
RECEIPT_EMAIL_DELAY = env.int("RECEIPT_EMAIL_DELAY", default=60)
RECEIPT_CONFIRMATION_MAX_AGE = env.int("RECEIPT_CONFIRMATION_MAX_AGE", default=3 * 24 * 60 * 60)
RFC3161_TSA_URLS = env.list("RFC3161_TSA_URLS", default=[])
RFC3161_TSA_ROOTS = env.list("RFC3161_TSA_ROOTS", default=[])
RFC3161_TIMEOUT = env.int("RFC3161_TIMEOUT", default=10)
RFC3161_MAX_ATTEMPTS = env.int("RFC3161_MAX_ATTEMPTS", default=8)
CELERY_BEAT_SCHEDULE["issue-receipts"] = {
    "task": "requests_log.issue_receipts",
    "schedule": (
        crontab() if not REMINDER_SWEEP_SECONDS else timedelta(seconds=REMINDER_SWEEP_SECONDS)
    ),  # every minute
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["receipt-digests"] = {
    "task": "requests_log.send_receipt_digests",
    "schedule": crontab(hour=7, minute=0),  # daily, 07:00 UTC
    "options": {"expires": 60 * 60},
}
# WeasyPrint reports every layout step at INFO.
LOGGING.setdefault("loggers", {}).update(
    {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}}
)
