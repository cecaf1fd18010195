"""A slot is at most MAX_DURATION_MINUTES long, in the database too, on PostgreSQL.

The services refuse longer slots already (R3); the calendar's query relies on the bound to
read only the index range of the week asked for (a slot overlapping the week starts at most
that long before it: `domain.selectors.calendar_for_therapist`). SQLite's CHECK cannot do
date arithmetic without Django's own SQL functions, so there the services hold it alone."""

from django.db import migrations

from ._postgres import postgres_only

CREATE = """
ALTER TABLE domain_slot ADD CONSTRAINT slot_at_most_12_hours
    CHECK (end_at - start_at <= interval '720 minutes');
"""
DROP = "ALTER TABLE domain_slot DROP CONSTRAINT IF EXISTS slot_at_most_12_hours;"


class Migration(migrations.Migration):
    dependencies = [("domain", "0003_profile_feed_reminders")]
    operations = [postgres_only(CREATE, DROP)]
