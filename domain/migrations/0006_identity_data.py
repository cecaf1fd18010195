"""The identity model of R26–R28 applied to data made before it (docs/security.md, "Identity").

No booking is lost or changes hands between therapists; what changes is who may see what:

1. Accounts that have a password are treated as verified (they were made before verification
   existed); a login that never had a password (an own client invited but never in) is no
   account: its client stays as her therapist's record, and a new invitation joins it.
2. A booking made by the client herself is marked so (the hoarding limit counts those).
3. One record per therapist: before, adding a client by a personnummer already on file linked
   the therapist to that person's record, account and all. Every own list entry other than the
   one whose invitation made the record is split off into a record of its own for that
   therapist (with her bookings of that person), until the person joins it by invitation.
4. A platform client without a confirmed booking leaves that therapist's list.
5. Control characters in stored names and texts become spaces (line breaks stay in
   multi-line texts): they broke mails.
"""

import re

from django.db import migrations
from django.db.models import Q

UNUSABLE_PREFIX = "!"  # django.contrib.auth.hashers.UNUSABLE_PASSWORD_PREFIX
SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MULTI_LINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def usable(password: str) -> bool:
    return bool(password) and not password.startswith(UNUSABLE_PREFIX)


def forwards(apps, schema_editor):
    User = apps.get_model("domain", "User")
    Client = apps.get_model("domain", "Client")
    ClientLink = apps.get_model("domain", "ClientLink")
    Booking = apps.get_model("domain", "Booking")
    Therapist = apps.get_model("domain", "Therapist")
    AuditEntry = apps.get_model("domain", "AuditEntry")

    # 1. Verified accounts; logins that never had a password go.
    for user in User.objects.all().only("pk", "password", "is_staff", "last_login"):
        if usable(user.password):
            User.objects.filter(pk=user.pk).update(email_verified=True)
        elif (
            not user.is_staff
            and user.last_login is None
            and not Therapist.objects.filter(user_id=user.pk).exists()
            and Client.objects.filter(user_id=user.pk).exists()
        ):
            Client.objects.filter(user_id=user.pk).update(user=None)
            user.delete()

    # 2. Bookings the client made herself.
    for booking in Booking.objects.filter(created_by__isnull=False).select_related("client"):
        if booking.client.user_id is not None and booking.created_by_id == booking.client.user_id:
            Booking.objects.filter(pk=booking.pk).update(by_client=True)

    # 3. One record per therapist.
    signed_up = set(
        AuditEntry.objects.filter(action="client.signed_up", target_type="client").values_list("target_id", flat=True)
    )
    for client in Client.objects.filter(therapist_links__source="own").distinct():
        own = list(ClientLink.objects.filter(client=client, source="own").order_by("created_at", "pk"))
        origin = None if client.pk in signed_up else own[0]
        for link in own:
            if link.pk == getattr(origin, "pk", None):
                continue
            record = Client.objects.create(
                user=None, personnummer=client.personnummer, personnummer_verified=False,
                first_name=client.first_name, last_name=client.last_name, search_name=client.search_name,
                email=client.email, phone=client.phone, language=client.language, created_at=link.created_at,
            )
            Booking.objects.filter(client=client, therapist_id=link.therapist_id).update(client=record)
            ClientLink.objects.filter(pk=link.pk).update(client=record)

    # 4. Platform clients without a confirmed booking there leave the list.
    for link in ClientLink.objects.filter(source="platform"):
        if not Booking.objects.filter(therapist_id=link.therapist_id, client_id=link.client_id, status="confirmed").exists():
            link.delete()

    # 5. Control characters.
    def clean(model, single=(), multi=()):
        fields = (*single, *multi)
        query = Q()
        for field in fields:
            query |= Q(**{f"{field}__regex": "[\x01-\x1f\x7f-\x9f\u2028\u2029]"})
        for obj in model.objects.filter(query).only("pk", *fields):
            changes = {f: SINGLE_LINE.sub(" ", getattr(obj, f)).strip() for f in single}
            changes |= {f: MULTI_LINE.sub(" ", getattr(obj, f).replace("\r\n", "\n")).strip() for f in multi}
            model.objects.filter(pk=obj.pk).update(**changes)

    clean(User, single=("first_name", "last_name"))
    clean(Client, single=("first_name", "last_name", "phone"))
    clean(Therapist, single=("title", "city"), multi=("reception_address", "personal_info", "presentation"))


class Migration(migrations.Migration):
    dependencies = [("domain", "0005_identity")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
