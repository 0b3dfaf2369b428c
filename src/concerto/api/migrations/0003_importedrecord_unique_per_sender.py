"""Imported-record identifiers are unique per sending organisation (see 0002)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("api", "0002_importedrecord_organisation")]

    operations = [
        migrations.AlterField(
            model_name="importedrecord",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="organisations.organisation"
            ),
        ),
        migrations.AddConstraint(
            model_name="importedrecord",
            constraint=models.UniqueConstraint(
                fields=("organisation", "system", "value", "resource_type"), name="imported_record_unique_per_sender"
            ),
        ),
    ]
