"""Test-only settings and database set-up. Run against PostgreSQL (see DATABASE_URL):
the append-only triggers and the database roles exist only there."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO

import pgtrigger
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.db.backends.postgresql.operations import DatabaseOperations
from psycopg2 import sql

from boundary.models import User
from tests.breachlist import BreachList, breach_list
from tests.factories import UserFactory
from tests.support import OWNER_FUNCTION


@dataclass(frozen=True)
class DatabaseRoles:
    """Who connects to the test database: `owner` created and migrated it (DATABASE_URL's
    role); the tests connect as `app`, as the app does in production."""

    owner: dict[str, str]
    app: dict[str, str]


def _login(credentials: dict[str, str]) -> None:
    """Connect as these credentials from now on (this thread's next query, other
    threads' and subprocesses' first: they all read the same settings)."""
    connection.close()
    connection.settings_dict.update(credentials)


def _create_app_role(cursor, role: str, password: str) -> None:
    """A login role that owns nothing, made again if a crashed session left it behind."""
    name = sql.Identifier(role)
    cursor.execute(
        sql.SQL(
            "DO $$ BEGIN CREATE ROLE {}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ).format(name)
    )
    cursor.execute(
        sql.SQL("ALTER ROLE {} LOGIN PASSWORD %s").format(name),
        [password],
    )


def _create_owner_function(cursor, role: str) -> None:
    """tests.support.as_owner's way in: one statement run as the owner, in the calling
    test's transaction. Only in the test database, and only for the tests' app role."""
    function = sql.Identifier(OWNER_FUNCTION)
    cursor.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {}(statement text) RETURNS bigint"
            " LANGUAGE plpgsql SECURITY DEFINER AS $$"
            " DECLARE affected bigint;"
            " BEGIN EXECUTE statement; GET DIAGNOSTICS affected = ROW_COUNT; RETURN affected;"
            " END $$"
        ).format(function)
    )
    cursor.execute(sql.SQL("REVOKE ALL ON FUNCTION {}(text) FROM PUBLIC").format(function))
    cursor.execute(
        sql.SQL("GRANT EXECUTE ON FUNCTION {}(text) TO {}").format(function, sql.Identifier(role))
    )


def _execute_sql_flush_as_owner(self, sql_list):
    """DatabaseOperations.execute_sql_flush, as the owner and with the triggers ignored.
    The flush after a transactional (or live_server) test TRUNCATEs every table: the app
    role may not do that to the append-only ones, and their TRUNCATE triggers refuse it
    to anyone not ignoring them. So every trigger stays on, as in production, for the
    tests themselves."""
    with (
        transaction.atomic(
            using=self.connection.alias, savepoint=self.connection.features.can_rollback_ddl
        ),
        pgtrigger.ignore(databases=[self.connection.alias]),
        self.connection.cursor() as cursor,
    ):
        for statement in sql_list:
            cursor.execute(f"SELECT {OWNER_FUNCTION}(%s)", [statement])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as production runs it (README, "Running in production").

    pytest-django creates and migrates it as DATABASE_URL's role, its owner. A login role
    per test database (`test_<name>[_gwN]_app`, cluster-wide, made if missing) is then
    given the app's privileges by `grant_app_role`, and every connection the tests make,
    in threads and in subprocesses too, logs in as it. Tests act as the owner through
    tests.support.as_owner; the flush after transactional tests runs as the owner too.
    """
    settings_dict = connection.settings_dict
    owner = {"USER": settings_dict["USER"], "PASSWORD": settings_dict["PASSWORD"]}
    app = {"USER": f"{settings_dict['NAME'][:59]}_app", "PASSWORD": secrets.token_hex(16)}
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            _create_app_role(cursor, app["USER"], app["PASSWORD"])
            _create_owner_function(cursor, app["USER"])
        call_command("grant_app_role", app["USER"], database="default", stdout=StringIO())
        _login(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", _execute_sql_flush_as_owner)
        yield DatabaseRoles(owner=owner, app=app)
    with django_db_blocker.unblock():
        _login(owner)  # pytest-django drops the test database next


@pytest.fixture(scope="session")
def database_roles(django_db_setup) -> DatabaseRoles:
    return django_db_setup


@pytest.fixture
def connected_as_owner(transactional_db, database_roles):
    """A context manager: inside it, the test's connection logs in as the tables' owner
    (as an operator's command would), outside as the app. Needs committed rows, so the
    test is a transactional one."""

    @contextmanager
    def owner() -> Iterator[None]:
        _login(database_roles.owner)
        try:
            yield
        finally:
            _login(database_roles.app)

    return owner


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate limits live in the cache (per process): no test inherits another's counts."""
    cache.clear()


@pytest.fixture(scope="session")
def breached_passwords() -> Iterator[BreachList]:
    """The Pwned Passwords list, as a mirror on loopback (tests/breachlist.py)."""
    served = breach_list()
    yield next(served)
    served.close()


@pytest.fixture(autouse=True)
def _breach_list_on_loopback(settings, breached_passwords):
    """Every password check asks the loopback mirror, never the internet."""
    settings.PWNED_PASSWORDS_URL = breached_passwords.url


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


@pytest.fixture
def cast(employee, second_employee, manager, other_manager, hr, administrator) -> dict[str, User]:
    """The whole cast by role name, as the access matrix and the query budget walk it."""
    return {
        "employee": employee,
        "second_employee": second_employee,
        "manager": manager,
        "other_manager": other_manager,
        "hr": hr,
        "administrator": administrator,
    }
