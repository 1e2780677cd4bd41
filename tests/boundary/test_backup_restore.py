"""Backup and restore, run the way README's "Backup and restore" says: pg_dump as the
owner, pg_restore into a fresh database, grant_app_role, then the app on the copy. The
copy's chains and checkpoints verify, every table holds what it held, and no reminder
already sent goes out again."""

import os
import subprocess
import time

import pytest
from psycopg2 import sql

from tests.boundary.test_dbroles import manage, production  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration


def row_counts(db) -> dict[str, int]:
    """Every table of the public schema, with its number of rows."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    return counts


def pg_tool(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - a fixed command line
        list(args), env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_restored_copy_verifies_holds_the_same_rows_and_sends_nothing_twice(
    production,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    cluster, name, owner, app, app_env, owner_env = production
    restored = f"{name}_restored"
    cluster.drop(restored)
    for step in (("migrate",), ("grant_app_role", app)):
        assert manage(*step, env=owner_env).returncode == 0
    assert manage("load_demo", env=app_env).returncode == 0
    # A reminder due now (whatever the demo people's quiet hours), sent before the backup.
    assert manage("demo_reminder", "--in", "1", env=app_env).returncode == 0
    time.sleep(1.5)
    first_sweep = manage("send_reminders", env=app_env)
    dump = tmp_path / "boundary.dump"

    backup = pg_tool(
        "pg_dump", "--format=custom", f"--file={dump}", owner_env["DATABASE_URL"], env=os.environ
    )
    with cluster.connect("postgres").cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(restored), sql.Identifier(owner)
            )
        )
    restored_owner_env = {**owner_env, "DATABASE_URL": cluster.url(owner, restored)}
    restored_app_env = {**app_env, "DATABASE_URL": cluster.url(app, restored)}
    try:
        restore = pg_tool(
            "pg_restore",
            "--no-owner",
            "--no-acl",
            f"--dbname={restored_owner_env['DATABASE_URL']}",
            str(dump),
            env=os.environ,
        )
        granted = manage("grant_app_role", app, env=restored_owner_env)
        verified = manage("verify_chain", env=restored_app_env)
        second_sweep = manage("send_reminders", env=restored_app_env)
        counts = [row_counts(cluster.connect(db)) for db in (name, restored)]
        with cluster.connect(name).cursor() as cursor:
            cursor.execute("SELECT count(DISTINCT employee_id) FROM requests_log_timelineevent")
            employees_with_a_record = cursor.fetchone()[0]
    finally:
        cluster.drop(restored)

    assert backup.returncode == 0, backup.stderr
    assert restore.returncode == 0, restore.stderr
    assert granted.returncode == 0, granted.stderr
    # Every employee with a record, each chain checked against its checkpoints.
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.count("OK ") == employees_with_a_record >= 1
    assert "sent" in first_sweep.stdout
    assert second_sweep.stdout.strip() == "No reminders due."
    original, copy = counts
    assert copy == original
    assert original["requests_log_timelineevent"] > 10
    assert original["requests_log_checkpoint"] >= 1
