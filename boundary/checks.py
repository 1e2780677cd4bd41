"""System checks. `manage.py check --deploy --database default` asks PostgreSQL whether
the role the app connects as could change an append-only table (boundary.dbroles)."""

from django.core.checks import Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, connections

from boundary import dbroles


@register(Tags.database, deploy=True)
def check_app_role_least_privilege(app_configs=None, databases=None, **kwargs):
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
        problems = dbroles.app_role_problems(cursor, role)
    return [
        Warning(
            problem,
            hint="Connect as a role that owns nothing and run grant_app_role as the owner"
            " (README, Running in production).",
            id="boundary.W001",
        )
        for problem in problems
    ]
