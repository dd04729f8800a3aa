from django.db import migrations, models


def mark_refunded(apps, schema_editor):
    """Fees refunded before fees had a status are REFUNDED."""
    ArbitrationFee = apps.get_model("arbitration", "ArbitrationFee")
    ArbitrationFee.objects.filter(refunded_at__isnull=False).update(status="REFUNDED")


class Migration(migrations.Migration):
    dependencies = [
        ("arbitration", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="arbitrationfee",
            name="status",
            field=models.CharField(
                choices=[("PAID", "Paid"), ("REFUNDED", "Refunded")], default="PAID", max_length=16
            ),
        ),
        migrations.RunPython(mark_refunded, migrations.RunPython.noop),
    ]
