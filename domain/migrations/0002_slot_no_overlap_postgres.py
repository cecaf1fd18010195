"""R11 in the database, on PostgreSQL: no two slots of one therapist share a moment.

An exclusion constraint over (therapist, [start, end)) needs btree_gist and has no SQLite
counterpart, so it is not in the model's Meta (which would make SQLite try to build it); on
SQLite the services' check runs inside an IMMEDIATE transaction instead. Adjacent slots are
allowed: the range is half-open."""

from django.db import migrations

from ._postgres import postgres_only

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE domain_slot ADD CONSTRAINT slot_no_overlap
    EXCLUDE USING gist (therapist_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&);
"""
DROP = "ALTER TABLE domain_slot DROP CONSTRAINT IF EXISTS slot_no_overlap;"


class Migration(migrations.Migration):
    dependencies = [("domain", "0001_initial")]
    operations = [postgres_only(CREATE, DROP)]
