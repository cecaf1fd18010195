"""Migration 0006 (R26–R28) on data made before it: no booking is lost or changes therapist;
records shared through a typed personnummer are split per therapist; logins that never had a
password go; platform clients without a booking leave lists; control characters go."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import at, pnr

BEFORE, AFTER = [("domain", "0004_slot_max_length_postgres")], [("domain", "0006_identity_data")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_the_identity_migration_keeps_every_booking_and_splits_shared_records():
    try:
        old = migrate(BEFORE)
        User, Therapist, Client = (old.get_model("domain", m) for m in ("User", "Therapist", "Client"))
        ClientLink, Slot, Booking = (old.get_model("domain", m) for m in ("ClientLink", "Slot", "Booking"))
        AuditEntry = old.get_model("domain", "AuditEntry")

        def therapist(email, last="Andersson"):
            user = User.objects.create(email=email, password="md5$x$y", first_name="T", last_name=last)
            return Therapist.objects.create(user=user)

        def booking(t, client, day, status="confirmed", created_by=None):
            start = at("2030-03-01 09:00") + timedelta(days=day)
            slot = Slot.objects.create(therapist=t, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
            return Booking.objects.create(slot=slot if status == "confirmed" else None, therapist=t, client=client,
                                          start_at=start, end_at=slot.end_at, price=1000, mode="video", status=status,
                                          created_by=created_by)

        anna, bo, cy = therapist("anna@x.se", last="Ander\nsson"), therapist("bo@x.se"), therapist("cy@x.se")
        # Vera signed up herself; then Bo "added" her by personnummer and was linked to her account.
        vera_user = User.objects.create(email="vera@x.se", password="md5$a$b", first_name="Vera", last_name="Ek")
        vera = Client.objects.create(user=vera_user, personnummer=pnr("19850620", "428"), first_name="Vera",
                                     last_name="Ek", email="vera@x.se", search_name="vera")
        AuditEntry.objects.create(action="client.signed_up", target_type="client", target_id=vera.pk)
        ClientLink.objects.create(therapist=anna, client=vera, source="platform")
        ClientLink.objects.create(therapist=bo, client=vera, source="own")
        veras_own = booking(anna, vera, 1, created_by=vera_user)
        bos_of_vera = booking(bo, vera, 2, created_by=bo.user)
        # Ulf: Anna added him (an invitation made a login he never used); Cy added him by number later.
        ulf_user = User.objects.create(email="ulf@x.se", password="!unusable", first_name="Ulf", last_name="Berg\r")
        ulf = Client.objects.create(user=ulf_user, personnummer=pnr("19700101", "111"), first_name="Ulf",
                                    last_name="Berg\r", email="ulf@x.se", search_name="ulf")
        ClientLink.objects.create(therapist=anna, client=ulf, source="own")
        ClientLink.objects.create(therapist=cy, client=ulf, source="own")
        annas_of_ulf, cys_of_ulf = booking(anna, ulf, 3, created_by=anna.user), booking(cy, ulf, 4, created_by=cy.user)
        # Mallory: one booking with Cy, cancelled at once; she stayed on his list.
        mallory_user = User.objects.create(email="m@x.se", password="md5$c$d", first_name="M", last_name="M")
        mallory = Client.objects.create(user=mallory_user, personnummer=pnr("19900101", "222"), first_name="M",
                                        last_name="M", email="m@x.se", search_name="m")
        ClientLink.objects.create(therapist=cy, client=mallory, source="platform")
        booking(cy, mallory, 5, status="cancelled", created_by=mallory_user)
        bookings_before = sorted(Booking.objects.values_list("pk", "therapist_id", "status"))

        new = migrate(AFTER)
        User, Client = new.get_model("domain", "User"), new.get_model("domain", "Client")
        ClientLink, Booking = new.get_model("domain", "ClientLink"), new.get_model("domain", "Booking")

        assert sorted(Booking.objects.values_list("pk", "therapist_id", "status")) == bookings_before
        # Verified: those who had a password; Ulf's unused login is gone, his record stays Anna's.
        assert User.objects.get(email="vera@x.se").email_verified
        assert not User.objects.filter(email="ulf@x.se").exists()
        assert Client.objects.get(pk=ulf.pk).user_id is None
        # Bo's entry for Vera is a record of his own now, holding his booking; her account keeps hers.
        bos_record = ClientLink.objects.get(therapist_id=bo.pk).client
        assert bos_record.pk != vera.pk and bos_record.user_id is None
        assert Booking.objects.get(pk=bos_of_vera.pk).client_id == bos_record.pk
        assert Booking.objects.get(pk=veras_own.pk).client_id == vera.pk
        assert Booking.objects.get(pk=veras_own.pk).by_client and not Booking.objects.get(pk=bos_of_vera.pk).by_client
        # Ulf: Anna's invitation made the record, so she keeps it; Cy gets his own.
        assert ClientLink.objects.get(therapist_id=anna.pk, client_id=ulf.pk).source == "own"
        cys_record = ClientLink.objects.get(therapist_id=cy.pk, source="own").client
        assert cys_record.pk != ulf.pk and Booking.objects.get(pk=cys_of_ulf.pk).client_id == cys_record.pk
        assert Booking.objects.get(pk=annas_of_ulf.pk).client_id == ulf.pk
        # Mallory is off Cy's list; Vera stays on Anna's (a live booking).
        assert not ClientLink.objects.filter(client_id=mallory.pk).exists()
        assert ClientLink.objects.filter(therapist_id=anna.pk, client_id=vera.pk, source="platform").exists()
        # No control characters left.
        assert User.objects.get(pk=anna.user_id).last_name == "Ander sson"
        assert Client.objects.get(pk=ulf.pk).last_name == "Berg"
    finally:
        call_command("migrate", verbosity=0)
