"""A migration step that runs SQL on PostgreSQL only (constraints SQLite cannot express).
Django's loader skips modules whose names start with an underscore, so this is no migration."""

from django.db import migrations


def postgres_only(create: str, drop: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop)

    return migrations.RunPython(forwards, backwards)
