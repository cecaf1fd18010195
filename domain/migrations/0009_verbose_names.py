"""Labels only (the admin in Swedish, issue 10): every model and field of ours gets a
translatable verbose name. No SQL on either database (`sqlmigrate domain 0009` is empty)."""

import django.db.models.deletion
import django.utils.timezone
import domain.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('domain', '0008_visit'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='accountrequest',
            options={'verbose_name': 'account request', 'verbose_name_plural': 'account requests'},
        ),
        migrations.AlterModelOptions(
            name='apitoken',
            options={'verbose_name': 'API key', 'verbose_name_plural': 'API keys'},
        ),
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['-at', '-id'], 'verbose_name': 'audit entry', 'verbose_name_plural': 'audit entries'},
        ),
        migrations.AlterModelOptions(
            name='booking',
            options={'verbose_name': 'booking', 'verbose_name_plural': 'bookings'},
        ),
        migrations.AlterModelOptions(
            name='client',
            options={'verbose_name': 'client', 'verbose_name_plural': 'clients'},
        ),
        migrations.AlterModelOptions(
            name='clientlink',
            options={'verbose_name': 'client on a list', 'verbose_name_plural': 'clients on lists'},
        ),
        migrations.AlterModelOptions(
            name='outboundemail',
            options={'verbose_name': 'outgoing e-mail', 'verbose_name_plural': 'outgoing e-mails'},
        ),
        migrations.AlterModelOptions(
            name='ratecounter',
            options={'verbose_name': 'rate counter', 'verbose_name_plural': 'rate counters'},
        ),
        migrations.AlterModelOptions(
            name='slot',
            options={'verbose_name': 'slot', 'verbose_name_plural': 'slots'},
        ),
        migrations.AlterModelOptions(
            name='therapist',
            options={'verbose_name': 'therapist', 'verbose_name_plural': 'therapists'},
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='email',
            field=models.EmailField(max_length=254, verbose_name='e-mail'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='first_name',
            field=models.CharField(blank=True, max_length=150, verbose_name='first name'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='kind',
            field=models.CharField(choices=[('signup', 'Sign-up'), ('reset', 'Password reset')], max_length=8, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='language',
            field=models.CharField(default='sv', max_length=2, verbose_name='language'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='last_name',
            field=models.CharField(blank=True, max_length=150, verbose_name='last name'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='next_url',
            field=models.CharField(blank=True, max_length=300, verbose_name='next address'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='password',
            field=models.CharField(blank=True, max_length=128, verbose_name='password hash'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='personnummer',
            field=models.CharField(blank=True, max_length=13, verbose_name='personnummer'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='role',
            field=models.CharField(blank=True, max_length=10, verbose_name='role'),
        ),
        migrations.AlterField(
            model_name='accountrequest',
            name='source',
            field=models.CharField(blank=True, max_length=64, verbose_name='source address'),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='key_hash',
            field=models.CharField(max_length=64, unique=True, verbose_name='key hash'),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='label',
            field=models.CharField(blank=True, max_length=100, verbose_name='label'),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='last_used_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last used'),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(max_length=40, verbose_name='action'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='after',
            field=models.JSONField(blank=True, null=True, verbose_name='after'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='when'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='before',
            field=models.JSONField(blank=True, null=True, verbose_name='before'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='slot_id',
            field=models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name='slot id'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='target_id',
            field=models.BigIntegerField(verbose_name='object id'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='target_type',
            field=models.CharField(max_length=20, verbose_name='object type'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='therapist',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='domain.therapist', verbose_name='therapist'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='by_client',
            field=models.BooleanField(default=False, verbose_name='booked by the client'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='cancelled_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='cancelled'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='cancelled_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='client',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='domain.client', verbose_name='client'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='end_at',
            field=models.DateTimeField(verbose_name='end'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='mode',
            field=models.CharField(choices=[('video', 'Video'), ('onsite', 'On site')], max_length=8, verbose_name='kind of meeting'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='price',
            field=models.PositiveIntegerField(verbose_name='price (kr)'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='reminder_queued_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='reminder queued'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='sequence',
            field=models.PositiveIntegerField(default=0, verbose_name='calendar sequence'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='slot',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='bookings', to='domain.slot', verbose_name='slot'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='start_at',
            field=models.DateTimeField(verbose_name='start'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='status',
            field=models.CharField(choices=[('confirmed', 'Confirmed'), ('cancelled', 'Cancelled')], default='confirmed', max_length=10, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='therapist',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='domain.therapist', verbose_name='therapist'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='therapist_video_token',
            field=models.CharField(default=domain.models.new_token, editable=False, max_length=64, unique=True, verbose_name="therapist's video key"),
        ),
        migrations.AlterField(
            model_name='booking',
            name='video_room',
            field=models.CharField(default=domain.models.new_token, editable=False, max_length=64, verbose_name='video room'),
        ),
        migrations.AlterField(
            model_name='booking',
            name='video_token',
            field=models.CharField(default=domain.models.new_token, editable=False, max_length=64, unique=True, verbose_name="client's video key"),
        ),
        migrations.AlterField(
            model_name='client',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='client',
            name='email',
            field=models.EmailField(max_length=254, verbose_name='e-mail'),
        ),
        migrations.AlterField(
            model_name='client',
            name='first_name',
            field=models.CharField(max_length=150, verbose_name='first name'),
        ),
        migrations.AlterField(
            model_name='client',
            name='language',
            field=models.CharField(choices=[('sv', 'Svenska'), ('en', 'English')], default='sv', max_length=2, verbose_name='language'),
        ),
        migrations.AlterField(
            model_name='client',
            name='last_name',
            field=models.CharField(max_length=150, verbose_name='last name'),
        ),
        migrations.AlterField(
            model_name='client',
            name='personnummer',
            field=models.CharField(blank=True, help_text='YYYYMMDD-NNNN', max_length=13, verbose_name='personnummer'),
        ),
        migrations.AlterField(
            model_name='client',
            name='personnummer_verified',
            field=models.BooleanField(default=False, help_text='Proven by an eID log-in; otherwise only typed.', verbose_name='personnummer verified'),
        ),
        migrations.AlterField(
            model_name='client',
            name='phone',
            field=models.CharField(blank=True, max_length=40, verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='client',
            name='search_name',
            field=models.CharField(db_index=True, editable=False, max_length=150, verbose_name='search name'),
        ),
        migrations.AlterField(
            model_name='client',
            name='user',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='client', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AlterField(
            model_name='clientlink',
            name='client',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='therapist_links', to='domain.client', verbose_name='client'),
        ),
        migrations.AlterField(
            model_name='clientlink',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='added'),
        ),
        migrations.AlterField(
            model_name='clientlink',
            name='source',
            field=models.CharField(choices=[('platform', 'Platform'), ('own', 'Own')], max_length=8, verbose_name='source'),
        ),
        migrations.AlterField(
            model_name='clientlink',
            name='therapist',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='client_links', to='domain.therapist', verbose_name='therapist'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='attempts',
            field=models.PositiveIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='body',
            field=models.TextField(verbose_name='body'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='booking',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='emails', to='domain.booking', verbose_name='booking'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='claimed'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='ics',
            field=models.TextField(blank=True, verbose_name='calendar part'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='kind',
            field=models.CharField(max_length=40, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='last_error',
            field=models.TextField(blank=True, verbose_name='last error'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='sent_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='sent'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('failed', 'Failed')], db_index=True, default='pending', max_length=10, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='subject',
            field=models.CharField(max_length=255, verbose_name='subject'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='to',
            field=models.EmailField(max_length=254, verbose_name='to'),
        ),
        migrations.AlterField(
            model_name='ratecounter',
            name='count',
            field=models.PositiveIntegerField(default=0, verbose_name='count'),
        ),
        migrations.AlterField(
            model_name='ratecounter',
            name='key',
            field=models.CharField(max_length=64, unique=True, verbose_name='key'),
        ),
        migrations.AlterField(
            model_name='ratecounter',
            name='window_start',
            field=models.DateTimeField(verbose_name='window start'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='audience',
            field=models.CharField(choices=[('all', 'Available to all'), ('existing', 'Existing clients only')], default='all', max_length=8, verbose_name='audience'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='end_at',
            field=models.DateTimeField(verbose_name='end'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='onsite',
            field=models.BooleanField(default=True, verbose_name='on site'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='price',
            field=models.PositiveIntegerField(verbose_name='price (kr)'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='start_at',
            field=models.DateTimeField(verbose_name='start'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='therapist',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='slots', to='domain.therapist', verbose_name='therapist'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='updated_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='updated'),
        ),
        migrations.AlterField(
            model_name='slot',
            name='video',
            field=models.BooleanField(default=True, verbose_name='video'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='areas',
            field=models.JSONField(blank=True, default=list, help_text='Areas of help, e.g. ["anxiety", "stress"]', verbose_name='areas of help'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='calendar_feed_token',
            field=models.CharField(default=domain.models.new_token, editable=False, max_length=64, unique=True, verbose_name='calendar feed key'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='cancellation_cutoff_hours',
            field=models.PositiveIntegerField(default=24, verbose_name='cancellation cut-off (hours before)'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='city',
            field=models.CharField(blank=True, max_length=80, verbose_name='city'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='client_booster',
            field=models.BooleanField(default=False, help_text='Listed and matchable for new clients (R9). Switched by staff.', verbose_name='Client Booster'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='contact_email',
            field=models.EmailField(blank=True, max_length=254, verbose_name='contact e-mail'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='contact_phone',
            field=models.CharField(blank=True, max_length=40, verbose_name='contact phone'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='default_audience',
            field=models.CharField(choices=[('all', 'Available to all'), ('existing', 'Existing clients only')], default='all', max_length=8, verbose_name='default audience'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='default_duration_minutes',
            field=models.PositiveIntegerField(default=45, verbose_name='default length (minutes)'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='default_onsite',
            field=models.BooleanField(default=True, verbose_name='on site by default'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='default_price',
            field=models.PositiveIntegerField(default=1000, verbose_name='default price (kr)'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='default_video',
            field=models.BooleanField(default=True, verbose_name='video by default'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='languages',
            field=models.JSONField(blank=True, default=list, help_text='Language codes, e.g. ["sv", "en"]', verbose_name='languages'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='notify_by_email',
            field=models.BooleanField(default=True, verbose_name='notify by e-mail'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='personal_info',
            field=models.TextField(blank=True, verbose_name='information for on-site visits'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='presentation',
            field=models.TextField(blank=True, verbose_name='presentation'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='reception_address',
            field=models.TextField(blank=True, verbose_name='reception address'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='timezone',
            field=models.CharField(default='Europe/Stockholm', max_length=64, verbose_name='time zone'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='title',
            field=models.CharField(blank=True, max_length=120, verbose_name='professional title'),
        ),
        migrations.AlterField(
            model_name='therapist',
            name='user',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='therapist', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AlterField(
            model_name='user',
            name='language',
            field=models.CharField(choices=[('sv', 'Svenska'), ('en', 'English')], default='sv', max_length=2, verbose_name='language'),
        ),
    ]
