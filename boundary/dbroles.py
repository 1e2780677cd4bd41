"""Least privilege in PostgreSQL: what the app's database role may do.

Two roles (README, "Running in production"). The owner owns every table and runs the
migrations. The app connects as a role that owns nothing and may SELECT, INSERT, UPDATE
and DELETE on the ordinary tables, but only SELECT and INSERT on the append-only ones
(settings.APPEND_ONLY_MODELS). A missing privilege is not something a session setting can
switch off, as `SET pgtrigger.ignore` switches off the append-only triggers; the
triggers stay, against the owner and as a second line of defence.

`grant_app_role` (`manage.py grant_app_role ROLE`, run as the owner after every
migrate) sets the app role's privileges to exactly these, whatever they were, so running
it again changes nothing. `app_role_problems` says what would still let a role change an
append-only table; `check --deploy --database default` (boundary.checks) asks it about
the role the app connects as.
"""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from psycopg2 import sql

ORDINARY_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY_TABLE_PRIVILEGES = ("SELECT", "INSERT")
# nextval() for inserts; not UPDATE, which only setval() needs.
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
REFUSED_ON_APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE")


class RoleError(Exception):
    """The app role cannot be given (or does not have) least privilege, and why."""


@dataclass(frozen=True)
class Grant:
    role: str
    ordinary_tables: list[str]
    append_only_tables: list[str]


def append_only_tables() -> list[str]:
    """The tables of settings.APPEND_ONLY_MODELS."""
    return sorted({apps.get_model(label)._meta.db_table for label in settings.APPEND_ONLY_MODELS})


def grant_app_role(cursor, role: str) -> Grant:
    """Give `role` exactly the app's privileges on the tables and sequences of the current
    schema. Run as their owner, inside a transaction: raises RoleError (and grants
    nothing, once the transaction rolls back) if `role` could still change an
    append-only table afterwards."""
    _refuse_unsuitable_role(cursor, role)
    cursor.execute("SELECT current_database(), current_schema()")
    database, schema = cursor.fetchone()
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
    tables = sorted(name for (name,) in cursor.fetchall())
    append_only = append_only_tables()
    missing = [table for table in append_only if table not in tables]
    if missing:
        raise RoleError(f"No table {', '.join(missing)} in {schema}: run migrate first.")
    ordinary = [table for table in tables if table not in append_only]
    grantee = sql.Identifier(role)
    in_schema = sql.Identifier(schema)
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), grantee),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(in_schema, grantee),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(in_schema, grantee),
        sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(in_schema, grantee),
        sql.SQL("GRANT {} ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
            _privileges(SEQUENCE_PRIVILEGES), in_schema, grantee
        ),
    ]
    if ordinary:
        statements.append(
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                _privileges(ORDINARY_TABLE_PRIVILEGES), _tables(schema, ordinary), grantee
            )
        )
    if append_only:
        statements += [
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                _privileges(APPEND_ONLY_TABLE_PRIVILEGES), _tables(schema, append_only), grantee
            ),
            sql.SQL("REVOKE ALL ON TABLE {} FROM PUBLIC").format(_tables(schema, append_only)),
        ]
    for statement in statements:
        cursor.execute(statement)
    problems = app_role_problems(cursor, role)
    if problems:
        raise RoleError("\n".join(problems))
    return Grant(role=role, ordinary_tables=ordinary, append_only_tables=append_only)


def app_role_problems(cursor, role: str) -> list[str]:
    """What lets `role` UPDATE, DELETE or TRUNCATE an append-only table, or alter its
    triggers: being a superuser, being (or being able to SET ROLE to) its owner, or holding
    one of those privileges itself, through PUBLIC or through a role it may become. Also
    an append-only table it may not SELECT from or INSERT into. Empty when all is well."""
    problem = _missing_or_superuser(cursor, role)
    if problem:
        return [problem]
    problems = []
    for table in append_only_tables():
        cursor.execute(
            "SELECT oid, pg_get_userbyid(relowner) FROM pg_class"
            " WHERE oid = to_regclass(quote_ident(%s))",
            [table],
        )
        found = cursor.fetchone()
        if found is None:
            problems.append(f"The append-only table {table} does not exist: run migrate first.")
            continue
        oid, owner = found
        cursor.execute("SELECT pg_has_role(%s::name, %s::name, 'MEMBER')", [role, owner])
        if cursor.fetchone()[0]:
            problems.append(
                f"The role {role} owns {table} or may SET ROLE to its owner {owner}:"
                " it may alter or disable the table's triggers and grant itself anything."
            )
            continue
        for privilege in REFUSED_ON_APPEND_ONLY:
            cursor.execute(
                "SELECT rolname FROM pg_roles WHERE pg_has_role(%s::name, oid, 'MEMBER')"
                " AND has_table_privilege(oid, %s::oid, %s) ORDER BY rolname",
                [role, oid, privilege],
            )
            holders = [name for (name,) in cursor.fetchall()]
            others = [name for name in holders if name != role]
            if holders:
                through = f" (through {', '.join(others)})" if others else ""
                problems.append(f"The role {role} may {privilege} {table}{through}.")
        for privilege in APPEND_ONLY_TABLE_PRIVILEGES:
            cursor.execute(
                "SELECT has_table_privilege(%s::name, %s::oid, %s)", [role, oid, privilege]
            )
            if not cursor.fetchone()[0]:
                problems.append(f"The role {role} may not {privilege} on {table}.")
    return problems


def _missing_or_superuser(cursor, role: str) -> str | None:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        return f"There is no database role {role}: create it first."
    if row[0]:
        return f"The role {role} is a superuser: no privilege can be withheld from it."
    return None


def _refuse_unsuitable_role(cursor, role: str) -> None:
    cursor.execute("SELECT current_user")
    (current,) = cursor.fetchone()
    if role == current:
        raise RoleError(
            f"{role} is the role this connection uses: run grant_app_role with the URL of"
            " the role that owns the tables as DATABASE_URL, naming the role the app"
            " connects as."
        )
    problem = _missing_or_superuser(cursor, role)
    if problem:
        raise RoleError(problem)
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " AND NOT pg_has_role(current_user, tableowner, 'USAGE') ORDER BY tablename"
    )
    not_owned = [name for (name,) in cursor.fetchall()]
    if not_owned:
        others = " and others" if len(not_owned) > 3 else ""
        raise RoleError(
            f"The role {current} does not own {', '.join(not_owned[:3])}{others}: run"
            " grant_app_role with the URL of the role that owns the tables and ran the"
            " migrations as DATABASE_URL."
        )


def _privileges(privileges: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.SQL, privileges))


def _tables(schema: str, tables: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(schema, table) for table in tables)
