"""Store each timeline event's field salts beside its salt (see TimelineEvent.field_salts).

Existing events get theirs computed from their own salt and payload; nothing they hashed
changes. PostgreSQL's append-only trigger is set aside for these updates only.
"""

from contextlib import nullcontext

import pgtrigger
from django.db import migrations, models

from requests_log import chain

BATCH = 1000


def store_field_salts(apps, schema_editor):
    TimelineEvent = apps.get_model("requests_log", "TimelineEvent")
    events = TimelineEvent.objects.order_by("pk").only("pk", "salt", "payload")
    allowed = (
        pgtrigger.ignore("requests_log.TimelineEvent:timelineevent_append_only")
        if schema_editor.connection.vendor == "postgresql"
        else nullcontext()  # `make run`'s SQLite has no trigger
    )
    with allowed:
        batch = []
        for event in events.iterator(chunk_size=BATCH):
            event.field_salts = chain.canonical_text(chain.field_salts(event.salt, event.payload))
            batch.append(event)
            if len(batch) == BATCH:
                TimelineEvent.objects.bulk_update(batch, ["field_salts"])
                batch = []
        TimelineEvent.objects.bulk_update(batch, ["field_salts"])


class Migration(migrations.Migration):
    dependencies = [
        ("requests_log", "0004_employee_level_events_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="timelineevent",
            name="field_salts",
            field=models.TextField(editable=False, null=True),
        ),
        migrations.RunPython(store_field_salts, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="timelineevent",
            name="field_salts",
            field=models.TextField(editable=False),
        ),
    ]
