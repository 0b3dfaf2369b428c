"""Full-text search over services. SQLite: an FTS5 table (porter stemming), kept in step by the
directory actions. PostgreSQL ranks with to_tsvector/ts_rank at query time (a directory is small),
so it needs no table here."""

from django.db import migrations

CREATE = (
    "CREATE VIRTUAL TABLE directory_service_fts USING fts5(name, terms, description, tokenize = 'porter unicode61')"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS directory_service_fts")


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
