"""Several reasons for a decline, details kept out of a reply unless chosen, quoted or
narrated follow-ups, and requests numbered per employee (#1, #2…) instead of by table id."""

from django.db import migrations, models


def forwards(apps, schema_editor):
    Decision = apps.get_model("requests_log", "Decision")
    PromotionRequest = apps.get_model("requests_log", "PromotionRequest")
    for decision in Decision.objects.exclude(decline_reasons=[""]).only("pk", "decline_reason"):
        Decision.objects.filter(pk=decision.pk).update(decline_reasons=[decision.decline_reason])
    numbered, last_employee, number = [], None, 0
    for pk, employee_id in PromotionRequest.objects.order_by(
        "employee_id", "created_at", "id"
    ).values_list("pk", "employee_id"):
        number = number + 1 if employee_id == last_employee else 1
        last_employee = employee_id
        numbered.append(PromotionRequest(pk=pk, number=number))
    PromotionRequest.objects.bulk_update(numbered, ["number"], batch_size=2000)


def backwards(apps, schema_editor):
    Decision = apps.get_model("requests_log", "Decision")
    for decision in Decision.objects.exclude(decline_reasons=[]).only("pk", "decline_reasons"):
        Decision.objects.filter(pk=decision.pk).update(decline_reasons=[decision.decline_reasons][0])


class Migration(migrations.Migration):
    dependencies = [
        ("requests_log", "0006_flags_decided_when_read"),
    ]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="decline_reasons",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="decision",
            name="details_in_reply",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="followup",
            name="quoted",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="promotionrequest",
            name="number",
            field=models.PositiveIntegerField(null=True),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="decision", name="decline_reason"),
        migrations.AlterField(
            model_name="promotionrequest",
            name="number",
            field=models.PositiveIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="promotionrequest",
            constraint=models.UniqueConstraint(
                fields=("employee", "number"), name="promotionrequest_unique_number"
            ),
        ),
    ]
