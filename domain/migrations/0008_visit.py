"""R29, R30: the therapist's own video link for each booking (an unguessable key of its own,
made for every booking already there), her notification setting and how clients reach her."""

from django.db import migrations, models

import domain.models


def give_each_booking_a_therapist_link(apps, schema_editor):
    """One statement, from the database's own strong random source (a big table must not
    take a round trip per booking): 244 random bits on PostgreSQL, 192 on SQLite."""
    if schema_editor.connection.vendor == "postgresql":
        value = "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')"
    else:
        value = "lower(hex(randomblob(24)))"
    schema_editor.execute(
        f"UPDATE domain_booking SET therapist_video_token = {value} WHERE therapist_video_token IS NULL"
    )


class Migration(migrations.Migration):
    dependencies = [("domain", "0007_account_request_source")]

    operations = [
        migrations.AddField(
            model_name="therapist", name="notify_by_email", field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="therapist", name="contact_email", field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name="therapist", name="contact_phone", field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="booking", name="therapist_video_token", field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(give_each_booking_a_therapist_link, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="booking",
            name="therapist_video_token",
            field=models.CharField(default=domain.models.new_token, editable=False, max_length=64, unique=True),
        ),
    ]
