"""Least privilege in the database (boundary/dbroles.py, `manage.py grant_app_role`, the
boundary.W001 check) and the two-role set-up that README's "Running in production"
describes, run the way it says. The timeline's own refusals are in
tests/requests_log/test_timeline.py."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pgtrigger
import psycopg2
import pytest
from django.conf import settings
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import sql

from boundary import dbroles
from tests.support import as_owner

ROOT = Path(__file__).resolve().parents[2]
TIMELINE = "requests_log_timelineevent"
APPEND_ONLY = ["requests_log_checkpoint", TIMELINE, "requests_log_timestamp"]


def test_append_only_models_are_the_models_with_append_only_triggers():
    protected = {
        model._meta.label
        for model, trigger in pgtrigger.registry.registered()
        if isinstance(trigger, pgtrigger.Protect) and str(trigger.operation) == "UPDATE OR DELETE"
    }

    assert set(settings.APPEND_ONLY_MODELS) == protected
    assert dbroles.append_only_tables() == APPEND_ONLY


# --- What would let a role change the timeline -------------------------------------------


@pytest.fixture
def other_role(db):
    """A second role without privileges, created as the owner in the test's transaction
    (so it is gone when the test ends)."""
    name = f"{connection.settings_dict['NAME'][:50]}_other"
    as_owner(f'CREATE ROLE "{name}"')
    return name


def problems(role):
    with connection.cursor() as cursor:
        return dbroles.app_role_problems(cursor, role)


def test_app_role_problems_none_for_the_role_the_tests_connect_as(db, database_roles):
    assert problems(database_roles.app["USER"]) == []


def test_app_role_problems_names_missing_privileges(other_role):
    assert problems(other_role) == [
        f"The role {other_role} may not {privilege} on {table}."
        for table in APPEND_ONLY
        for privilege in ("SELECT", "INSERT")
    ]


def test_app_role_problems_names_privileges_held_through_another_role(database_roles, other_role):
    app = database_roles.app["USER"]
    as_owner(f'GRANT UPDATE, TRUNCATE ON {TIMELINE} TO "{other_role}"')
    as_owner(f'GRANT "{other_role}" TO "{app}"')

    assert problems(app) == [
        f"The role {app} may UPDATE {TIMELINE} (through {other_role}).",
        f"The role {app} may TRUNCATE {TIMELINE} (through {other_role}).",
    ]


def test_app_role_problems_names_privileges_held_through_public(db, database_roles):
    app = database_roles.app["USER"]
    as_owner(f"GRANT DELETE ON {TIMELINE} TO PUBLIC")

    assert problems(app) == [f"The role {app} may DELETE {TIMELINE}."]


def test_app_role_problems_names_a_role_that_may_become_the_owner(database_roles, other_role):
    as_owner(f'ALTER TABLE {TIMELINE} OWNER TO "{other_role}"')
    as_owner(f'GRANT "{other_role}" TO "{database_roles.app["USER"]}"')

    assert problems(database_roles.app["USER"]) == [
        f"The role {database_roles.app['USER']} owns {TIMELINE} or may SET ROLE to its owner"
        f" {other_role}: it may alter or disable the table's triggers and grant itself anything."
    ]


def test_app_role_problems_for_a_missing_role(db):
    assert problems("nobody-by-this-name") == [
        "There is no database role nobody-by-this-name: create it first."
    ]


def test_least_privilege_check_passes_for_the_role_the_tests_connect_as(db):
    found = checks.run_checks(
        include_deployment_checks=True, databases=["default"], tags=[checks.Tags.database]
    )

    assert [message for message in found if message.id == "boundary.W001"] == []


def test_least_privilege_check_needs_the_database_named(db):
    assert checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.database]) == []


# --- grant_app_role refuses what it cannot do ---------------------------------------------


def test_grant_app_role_refuses_to_run_as_a_role_that_owns_nothing(other_role):
    with pytest.raises(CommandError, match=r"does not own .*: run grant_app_role with the URL"):
        call_command("grant_app_role", other_role, database="default")


def test_grant_app_role_refuses_to_grant_to_the_role_it_connects_as(db, database_roles):
    with pytest.raises(CommandError, match="is the role this connection uses"):
        call_command("grant_app_role", database_roles.app["USER"], database="default")


def test_grant_app_role_refuses_a_missing_role(db):
    with pytest.raises(CommandError, match="There is no database role nobody-by-this-name"):
        call_command("grant_app_role", "nobody-by-this-name", database="default")


# --- The production guide, run as written -------------------------------------------------


def readme_role_sql() -> str:
    """The SQL block of README's "Running in production"."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Running in production") :]
    match = re.search(r"```sql\n(.*?)```", section, flags=re.DOTALL)
    assert match, "README's production section has no ```sql block"
    return match.group(1)


class Cluster:
    """Connections to the test server as the role that created the test database."""

    def __init__(self, database_roles):
        self.settings = {
            "host": connection.settings_dict["HOST"] or "127.0.0.1",
            "port": connection.settings_dict["PORT"] or 5432,
        }
        self.creator = database_roles.owner

    def connect(self, dbname: str, user: str | None = None):
        login = self.creator["USER"] if user is None else user
        password = self.creator["PASSWORD"] if user is None else None
        db = psycopg2.connect(dbname=dbname, user=login, password=password, **self.settings)
        db.autocommit = True
        return db

    def url(self, user: str, dbname: str) -> str:
        return f"postgres://{user}@{self.settings['host']}:{self.settings['port']}/{dbname}"

    def run_script(self, script: str) -> None:
        """psql's way with a script: statements one by one, `\\c` to change database."""
        db = self.connect("postgres")
        try:
            for line in script.splitlines():
                if line.startswith("\\c "):
                    db.close()
                    db = self.connect(line.split()[1])
                elif line.strip():
                    with db.cursor() as cursor:
                        cursor.execute(line)
        finally:
            db.close()

    def drop(self, database: str, *roles: str) -> None:
        db = self.connect("postgres")
        try:
            with db.cursor() as cursor:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
                for role in roles:
                    cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        finally:
            db.close()


@pytest.fixture
def production(db, database_roles, tmp_path):
    """README's database and roles, under names of this test database's own."""
    cluster = Cluster(database_roles)
    name = f"{connection.settings_dict['NAME'][:40]}_prod"
    owner, app = f"{name}_owner", f"{name}_app"
    script = readme_role_sql()
    script = re.sub(r"\bboundary_owner\b", owner, script)
    script = re.sub(r"\bboundary_app\b", app, script)
    script = re.sub(r"\bboundary\b", name, script)
    cluster.drop(name, app, owner)  # what an interrupted run left behind
    cluster.run_script(script)
    app_env = {
        **os.environ,
        "DJANGO_ENV": "development",
        "DATABASE_URL": cluster.url(app, name),
        "EVIDENCE_ROOT": str(tmp_path / "evidence"),
        "EXPORTS_ROOT": str(tmp_path / "exports"),
        "BOUNDARY_SIGNING_KEY": str(tmp_path / "keys" / "key.pem"),
    }
    owner_env = {**app_env, "DATABASE_URL": cluster.url(owner, name)}
    yield cluster, name, owner, app, app_env, owner_env
    cluster.drop(name, app, owner)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def table_privileges(cluster, name):
    db = cluster.connect(name)
    try:
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT relname, relacl::text FROM pg_class"
                " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S')"
                " ORDER BY relname"
            )
            return cursor.fetchall()
    finally:
        db.close()


def test_production_guide_two_roles(production):
    cluster, name, owner, app, app_env, owner_env = production
    check = ["check", "--deploy", "--database", "default", "--tag", "database"]

    migrate = manage("migrate", env=owner_env)
    granted = manage("grant_app_role", app, env=owner_env)
    first_privileges = table_privileges(cluster, name)
    granted_again = manage("grant_app_role", app, env=owner_env)
    demo = manage("load_demo", env=app_env)
    verified = manage("verify_chain", env=app_env)
    check_as_app = manage(*check, "--fail-level", "WARNING", env=app_env)
    check_as_owner = manage(*check, "--fail-level", "WARNING", env=owner_env)
    refusals = app_role_refusals(cluster.connect(name, user=app))

    assert migrate.returncode == 0, migrate.stderr
    assert granted.returncode == 0, granted.stderr
    assert re.fullmatch(
        rf"{app} may SELECT, INSERT, UPDATE and DELETE on \d+ tables,"
        rf" and only SELECT and INSERT on {', '.join(APPEND_ONLY)}\.\n",
        granted.stdout,
    )
    assert (granted_again.returncode, granted_again.stdout) == (0, granted.stdout)
    assert table_privileges(cluster, name) == first_privileges
    assert demo.returncode == 0, demo.stderr
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK ")
    assert check_as_app.returncode == 0, check_as_app.stderr
    assert check_as_owner.returncode == 1
    assert f"(boundary.W001) The role {owner} owns {TIMELINE}" in check_as_owner.stderr
    assert refusals == dict.fromkeys(REFUSED, "InsufficientPrivilege")


REFUSED = [
    f"UPDATE {TIMELINE} SET kind = kind",
    f"DELETE FROM {TIMELINE}",
    f"TRUNCATE {TIMELINE}",
    f"ALTER TABLE {TIMELINE} DISABLE TRIGGER ALL",
    "SET LOCAL session_replication_role = replica",
]


def app_role_refusals(db) -> dict[str, str]:
    """Each of REFUSED as the app role, with every trigger on the timeline ignored: the
    error it raised, by name."""
    db.autocommit = False
    refusals = {}
    try:
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', '{' || string_agg(tgname, ',') || '}',"
                " true) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TIMELINE],
            )
            for statement in REFUSED:
                cursor.execute("SAVEPOINT attempt")
                try:
                    cursor.execute(statement)
                    refusals[statement] = "allowed"
                except psycopg2.Error as error:
                    refusals[statement] = type(error).__name__
                cursor.execute("ROLLBACK TO SAVEPOINT attempt")
    finally:
        db.close()
    return refusals
