"""The needs and life-course vocabularies exist in every database (search filters rely on them)."""

from django.db import migrations


def create_terms(apps, schema_editor):
    from concerto.directory.taxonomy import ensure_terms

    ensure_terms(apps.get_model("directory", "TaxonomyTerm"))


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_service_search_index")]

    operations = [migrations.RunPython(create_terms, migrations.RunPython.noop)]
