"""A version of what HR's dashboard counts, for its cache (hr_selectors.hr_dashboard).

Every statement that writes a table the dashboard reads (requests, decisions, follow-ups,
targets, a person's department) takes the next value of a sequence, holding a shared
advisory lock until its transaction ends. A sequence never goes back, not even on a
rollback, so a version names one state of those tables at most.

`requests_log_hr_counts_version()` returns the sequence's value only when no such write is
in progress (it tries the same lock, exclusively, and lets it go at once), else NULL. A
value it returns therefore covers every write that took one up to it, all committed, and
nothing committed since: numbers computed after reading it may be cached under it. Writers
only ever share the lock, and the reader never waits for it, so nothing here blocks or
deadlocks anyone.
"""

from django.db import migrations

WATCHED = {
    "requests_log_promotionrequest": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "requests_log_decision": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "requests_log_followup": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "requests_log_requesttarget": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "boundary_user": "UPDATE OF department",
}

# 7301014: the advisory lock's key, a constant no other code uses.
FUNCTIONS = """
CREATE SEQUENCE requests_log_hr_counts_changes;

CREATE FUNCTION requests_log_hr_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7301014);
    PERFORM nextval('requests_log_hr_counts_changes');
    RETURN NULL;
END $$;

CREATE FUNCTION requests_log_hr_counts_version() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    version bigint;
BEGIN
    IF NOT pg_try_advisory_lock(7301014) THEN
        RETURN NULL;
    END IF;
    -- 0 until the first write (a new sequence's last_value is already 1)
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO version
        FROM requests_log_hr_counts_changes;
    PERFORM pg_advisory_unlock(7301014);
    RETURN version;
END $$;
"""

TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_hr_counts AFTER {events} ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION requests_log_hr_counts_changed();"
    for table, events in WATCHED.items()
)
DROP = "\n".join(
    [
        *(f"DROP TRIGGER {table}_hr_counts ON {table};" for table in WATCHED),
        "DROP FUNCTION requests_log_hr_counts_version();",
        "DROP FUNCTION requests_log_hr_counts_changed();",
        "DROP SEQUENCE requests_log_hr_counts_changes;",
    ]
)


def on_postgresql(sql: str):
    """Run `sql` on PostgreSQL only: SQLite (`make run`) has no sequences, functions or
    statement triggers, and its dashboard is never cached (hr_selectors.hr_counts_version)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("requests_log", "0016_legal_holds_account_closures"),
        ("boundary", "0001_initial"),
    ]

    operations = [migrations.RunPython(on_postgresql(FUNCTIONS + TRIGGERS), on_postgresql(DROP))]
