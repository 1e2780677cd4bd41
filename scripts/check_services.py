"""Check that the test suite's PostgreSQL and Redis answer, before pytest starts.

Reads DATABASE_URL and CELERY_BROKER_URL like the settings do. Exits 1 with a message
naming the service that is down, instead of a page of tracebacks from every worker.
"""

import os
import sys
from urllib.parse import urlsplit

import psycopg2
import redis

TIMEOUT_SECONDS = 3


def where(url: str, default_port: int) -> str:
    parts = urlsplit(url)
    if not parts.hostname:
        return "the local socket"
    return f"{parts.hostname}:{parts.port or default_port}"


def check_postgres(url: str) -> str | None:
    if not url.startswith(("postgres://", "postgresql://")):
        return f"DATABASE_URL must point to PostgreSQL for the tests, not {urlsplit(url).scheme}://"
    try:
        # The maintenance database: the configured one may not exist yet, and
        # pytest-django connects there to create the test database anyway.
        connection = psycopg2.connect(url, dbname="postgres", connect_timeout=TIMEOUT_SECONDS)
    except psycopg2.OperationalError as error:
        detail = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        if "FATAL:" in detail:  # the server answered: it is up, but refused this login
            return (
                f"PostgreSQL at {where(url, 5432)} refused the connection: check the user "
                f"and password in DATABASE_URL\n  ({detail})"
            )
        return (
            f"PostgreSQL is not reachable at {where(url, 5432)} — start it (see README)\n"
            f"  ({detail})"
        )
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolcreatedb OR rolsuper, rolcreaterole OR rolsuper"
            " FROM pg_roles WHERE rolname = current_user"
        )
        can_create_databases, can_create_roles = cursor.fetchone()
    connection.close()
    if not can_create_databases:
        return (
            f"PostgreSQL at {where(url, 5432)} is up, but the role in DATABASE_URL cannot "
            "create databases (pytest-django needs CREATEDB)"
        )
    if not can_create_roles:
        return (
            f"PostgreSQL at {where(url, 5432)} is up, but the role in DATABASE_URL cannot "
            "create roles (the tests connect as an app role they create: CREATEROLE)"
        )
    return None


def check_redis(url: str) -> str | None:
    if not url.startswith(("redis://", "rediss://")):
        return None  # another broker (the embedded SQLite one): nothing to reach
    try:
        redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        ).ping()
    except redis.RedisError as error:
        return f"Redis is not reachable at {where(url, 6379)} — start it (see README)\n  ({error})"
    return None


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url or not broker_url:
        print("Set DATABASE_URL and CELERY_BROKER_URL (`make test` sets both).", file=sys.stderr)
        return 1
    problems = [p for p in (check_postgres(database_url), check_redis(broker_url)) if p]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
