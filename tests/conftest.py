"""Test-only settings and database set-up. Run against PostgreSQL (see DATABASE_URL):
the append-only triggers exist only there."""

import pgtrigger
import pytest
from django.db import connection

from boundary.models import User
from tests.factories import UserFactory

TRUNCATE_TRIGGER = "requests_log.TimelineEvent:timelineevent_no_truncate"


def _truncate_trigger_sql(action: str) -> str:
    model, trigger = pgtrigger.registry.registered(TRUNCATE_TRIGGER)[0]
    return f'ALTER TABLE "{model._meta.db_table}" {action} TRIGGER "{trigger.get_pgid(model)}"'


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Disable the TRUNCATE-refusing trigger in the test database.

    Transactional tests (and live_server) are cleaned up by a flush, which TRUNCATEs
    every table. pgtrigger.ignore() does let a TRUNCATE through, but a fixture's
    ignore() has already ended when pytest-django flushes after the test, so the
    trigger has to be off for the whole session. `truncate_trigger_enabled` turns it
    back on for the test that proves it works.
    """
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(_truncate_trigger_sql("DISABLE"))


def _switch_truncate_trigger(action: str) -> None:
    with connection.cursor() as cursor:
        # ALTER TABLE refuses to run while deferred foreign-key checks are pending,
        # as they are in a test's transaction after any insert: run them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(_truncate_trigger_sql(action))
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def truncate_trigger_enabled(db):
    """The TRUNCATE trigger switched on, as in production, for this test only."""
    _switch_truncate_trigger("ENABLE")
    yield
    _switch_truncate_trigger("DISABLE")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _axes_disabled(settings):
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def evidence_root(settings, tmp_path, monkeypatch):
    """Evidence files go to a fresh folder per test, never to var/evidence."""
    from django.core.files.storage import storages

    from requests_log.models import Evidence

    root = tmp_path / "evidence"
    settings.EVIDENCE_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    # Changing STORAGES resets `storages`, but Django calls a FileField's storage
    # callable once, when the model class is built: point the field at the new one.
    monkeypatch.setattr(Evidence._meta.get_field("file"), "storage", storages["evidence"])
    return root


@pytest.fixture(autouse=True)
def export_files(settings, tmp_path_factory, monkeypatch):
    """Exports and the signing key go to temporary folders, never to var/. The key is
    made once per session (one per xdist worker), as an instance keeps one key."""
    from django.core.files.storage import storages

    from requests_log.models import Export

    keys = tmp_path_factory.getbasetemp() / "signing-key"
    settings.EXPORT_SIGNING_KEY = keys / "export-signing-key.pem"
    root = tmp_path_factory.mktemp("exports")
    settings.EXPORTS_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    monkeypatch.setattr(Export._meta.get_field("file"), "storage", storages["exports"])
    return root


@pytest.fixture
def subprocesses(tmp_path):
    """Every subprocess a test starts (tests/requests_log/reminder_support.Processes); all
    are SIGKILLed, whole process groups, when the test ends. Their logs go to captured
    output, which pytest shows when the test fails."""
    from tests.requests_log.reminder_support import Processes

    started = Processes(tmp_path)
    yield started
    try:
        print(started.logs())
    finally:
        started.kill_all()


@pytest.fixture
def processes(transactional_db, subprocesses):
    """`subprocesses`, all killed before the test database is flushed (set up after the
    database, so torn down before it)."""
    return subprocesses


# --- The cast -----------------------------------------------------------------------------
# One set of people for every test (and the access matrix): Maya and Sam report to Daniel;
# Omar manages another team; Hana is HR; Alex administers the instance. Maya is "the
# employee" of design.md's stories; a test that needs her in a time zone or signed in
# overrides `maya` with a fixture that takes this one.


@pytest.fixture
def manager(db) -> User:
    return UserFactory(
        display_name="Daniel Reyes",
        email="daniel@example.com",
        job_title="Head of Marketing",
        department="Marketing",
        role=User.Role.MANAGER,
    )


@pytest.fixture
def employee(manager) -> User:
    return UserFactory(
        display_name="Maya Okafor",
        email="maya@example.com",
        job_title="Product designer",
        department="Design",
        time_zone="Europe/London",
        manager=manager,
    )


@pytest.fixture
def maya(employee) -> User:
    return employee


@pytest.fixture
def second_employee(manager) -> User:
    return UserFactory(
        display_name="Sam Ortiz",
        email="sam@example.com",
        job_title="Copywriter",
        department="Marketing",
        manager=manager,
    )


@pytest.fixture
def other_manager(db) -> User:
    return UserFactory(
        display_name="Omar Haddad",
        email="omar@example.com",
        job_title="Head of Sales",
        department="Sales",
        role=User.Role.MANAGER,
    )


@pytest.fixture
def hr(db) -> User:
    return UserFactory(
        display_name="Hana Kim", email="hana@example.com", department="People", role=User.Role.HR
    )


@pytest.fixture
def administrator(db) -> User:
    return UserFactory(
        display_name="Alex Morgan",
        email="alex@example.com",
        role=User.Role.ADMIN,
        is_staff=True,
        is_superuser=True,
    )
