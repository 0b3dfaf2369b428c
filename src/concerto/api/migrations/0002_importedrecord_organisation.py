"""Imported-record identifiers belong to the sending organisation (review finding 4).

Existing rows take the organisation their row was recorded by (the API's record actions store the
caller's organisation as `source_organisation`); a row whose event is gone or has no organisation
cannot be attributed and is dropped (a resend then records it again). The column becomes required
in 0003: PostgreSQL cannot alter a table with row updates pending in the same transaction."""

import django.db.models.deletion
from django.db import migrations, models


def attribute_to_sender(apps, schema_editor):
    ImportedRecord = apps.get_model("api", "ImportedRecord")
    sources = {
        "MedicationStatement": apps.get_model("records", "MedicationIssue"),
        "Observation": apps.get_model("records", "ClinicalEvent"),
        "Condition": apps.get_model("records", "ClinicalEvent"),
    }
    for record in ImportedRecord.objects.all():
        model = sources.get(record.resource_type)
        row = model.objects.filter(pk=record.object_id).first() if model else None
        if row is None or row.source_organisation_id is None:
            record.delete()
            continue
        record.organisation_id = row.source_organisation_id
        record.save(update_fields=["organisation"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("organisations", "0001_initial"),
        ("records", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="importedrecord", name="imported_record_unique"),
        migrations.AddField(
            model_name="importedrecord",
            name="organisation",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.organisation",
            ),
        ),
        migrations.RunPython(attribute_to_sender, migrations.RunPython.noop),
    ]
