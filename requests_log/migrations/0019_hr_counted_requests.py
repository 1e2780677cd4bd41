"""HR's dashboard counts kept as they change (models/hr_counts.py, requests_log/hr_counts.py).

A row trigger on each table the dashboard counts (requests, decisions, follow-ups,
targets, a person's department) marks the employee whose requests it touched stale, in the
same transaction as the write. Marks are only inserted, never updated, so writers never
wait for one another or for a refresh here. Every employee with requests starts stale: the
first refresh (the dashboard's, or the minutely task's) counts them all, with the rules in
Python rather than copied here.
"""

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


FUNCTION = """
CREATE FUNCTION requests_log_hr_counts_stale() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    written record;
BEGIN
    IF TG_OP = 'DELETE' THEN written := OLD; ELSE written := NEW; END IF;
    IF TG_TABLE_NAME = 'requests_log_promotionrequest' THEN
        INSERT INTO requests_log_hrcountsstale (employee_id) VALUES (written.employee_id);
    ELSIF TG_TABLE_NAME = 'boundary_user' THEN
        INSERT INTO requests_log_hrcountsstale (employee_id) VALUES (written.id);
    ELSE
        INSERT INTO requests_log_hrcountsstale (employee_id)
            SELECT employee_id FROM requests_log_promotionrequest
            WHERE id = written.promotion_request_id;
    END IF;
    RETURN NULL;
END $$;
"""

WATCHED = {
    "requests_log_promotionrequest": "INSERT OR UPDATE OR DELETE",
    "requests_log_decision": "INSERT OR UPDATE OR DELETE",
    "requests_log_followup": "INSERT OR UPDATE OR DELETE",
    "requests_log_requesttarget": "INSERT OR UPDATE OR DELETE",
    "boundary_user": "UPDATE OF department",
}
# A department "changed" to itself changes no count.
WHEN = {"boundary_user": " WHEN (OLD.department IS DISTINCT FROM NEW.department)"}

TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_hr_counts_stale AFTER {events} ON {table} FOR EACH ROW"
    f"{WHEN.get(table, '')} EXECUTE FUNCTION requests_log_hr_counts_stale();"
    for table, events in WATCHED.items()
)
EVERYONE_STALE = """
INSERT INTO requests_log_hrcountsstale (employee_id)
    SELECT DISTINCT employee_id FROM requests_log_promotionrequest;
"""
DROP = "\n".join(
    [
        *(f"DROP TRIGGER {table}_hr_counts_stale ON {table};" for table in WATCHED),
        "DROP FUNCTION requests_log_hr_counts_stale();",
    ]
)

# PostgreSQL only, as 0017's triggers: SQLite (`make run`) counts HR's dashboard afresh.
on_postgresql = import_module("requests_log.migrations.0017_hr_counts_version").on_postgresql


class Migration(migrations.Migration):

    dependencies = [
        ('requests_log', '0018_decision_decline_index'),
        ('boundary', '0004_user_closed_at_session_stamp'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HrCountsStale',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('employee_id', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='HrCountedRequest',
            fields=[
                ('promotion_request', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='requests_log.promotionrequest')),
                ('department', models.CharField(blank=True, max_length=120)),
                ('occurred_at', models.DateTimeField()),
                ('deadline', models.DateTimeField(blank=True, null=True)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('negotiating', 'Negotiating'), ('withdrawn', 'Withdrawn'), ('expired', 'Expired')], max_length=16)),
                ('asked_after_decline', models.BooleanField()),
                ('closed_account', models.BooleanField()),
                ('required', models.BooleanField()),
                ('disclosure_pending', models.BooleanField()),
                ('employee', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['department', 'occurred_at'], name='requests_lo_departm_b399e0_idx')],
            },
        ),
        migrations.RunPython(
            on_postgresql(FUNCTION + TRIGGERS + EVERYONE_STALE), on_postgresql(DROP)
        ),
    ]
