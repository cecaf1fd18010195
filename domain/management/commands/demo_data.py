"""Demo data for `make run`, loaded only into an empty database: a therapist with Client
Booster and a calendar this week and next in all four colours, her own and platform
clients (with valid test personnummer, namesakes included), one first visit, and one client
who switched from another therapist."""

import io
from datetime import datetime, time, timedelta

import segno
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum import luhn

from domain.models import Booking, Client, ClientLink, Slot, Therapist, User
from domain.services import (
    account_create,
    booking_create_by_client,
    booking_create_by_therapist,
    client_add,
    client_booster_set,
    series_create,
    slot_create,
    therapist_settings_update,
)
from domain.timezones import local_today, monday_of

PASSWORD = "kalender-demo-2026"
THERAPIST_EMAIL = "terapeut@tidbok.se"
CLIENT_EMAIL = "klient@tidbok.se"
STAFF_EMAIL = "admin@tidbok.se"


def test_pnr(birth: str, serial: str) -> str:
    return f"{birth}-{serial}{luhn.calc_check_digit(birth[2:] + serial)}"


class Command(BaseCommand):
    help = "Load demo data into an empty database and print the demo logins."

    def handle(self, **options):
        if User.objects.exists():
            self.stdout.write("Database has data already; no demo data loaded.")
        else:
            with transaction.atomic():
                self.load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(
            f"\nDemo logins (password for all: {PASSWORD})\n"
            f"  therapist  {THERAPIST_EMAIL}   (Client Booster on)\n"
            f"  client     {CLIENT_EMAIL}\n"
            f"  staff      {STAFF_EMAIL}   (Django admin at /admin/)\n"
        )
        self.print_staff_second_factor()

    def print_staff_second_factor(self):
        """The demo staff logs in to the admin with a second factor (R42, STAFF_REQUIRE_2FA):
        the secret of her authenticator app is printed at every start, as text and as a QR code
        an app can scan from the terminal."""
        device = TOTPDevice.objects.filter(user__email=STAFF_EMAIL, confirmed=True).first()
        if device is None:
            return
        secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
        self.stdout.write(
            "\nThe staff login asks for a code from an authenticator app after the password.\n"
            f"  add this key to the app: {secret}\n"
            f"  or this address: {device.config_url}\n"
            "  or scan:\n"
        )
        qr = io.StringIO()
        segno.make(device.config_url, error="l").terminal(out=qr, compact=True, border=2)
        self.stdout.write(qr.getvalue())

    def load(self):
        staff = User.objects.create_superuser(
            email=STAFF_EMAIL, password=PASSWORD, first_name="Staff", last_name="Tidbok"
        )
        # A random secret per database, printed by `make run` (never one fixed in the code).
        TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
        sara = account_create(
            role="therapist", email=THERAPIST_EMAIL, password=PASSWORD, first_name="Sara", last_name="Lindqvist"
        ).therapist
        therapist_settings_update(
            therapist=sara,
            actor=sara.user,
            reception_address="Drottninggatan 12, 111 51 Stockholm",
            personal_info="Ring på porttelefonen, 3 tr. Väntrummet är till vänster.",
            # The public profile of "Hitta terapeut" and matching (issue 4).
            title="Leg. psykolog, KBT",
            presentation="Jag arbetar med kognitiv beteendeterapi för vuxna, på plats i Stockholm och via video.",
            city="Stockholm",
            languages=["sv", "en"],
            areas=["Ångest", "Stress", "Sömn", "Nedstämdhet"],
        )
        client_booster_set(therapist=sara, on=True, actor=None)
        other = account_create(
            role="therapist", email="johan@tidbok.se", password=PASSWORD, first_name="Johan", last_name="Ek"
        ).therapist

        # A platform client with a login, on Sara's list after her first visit.
        klara = account_create(
            role="client", email=CLIENT_EMAIL, password=PASSWORD, first_name="Klara", last_name="Holm",
            personnummer=test_pnr("19900215", "238"),
        ).client
        # Own clients, two of them namesakes told apart by personnummer (R13).
        own = [
            client_add(therapist=sara, actor=sara.user, first_name=first, last_name=last,
                       personnummer=test_pnr(birth, serial), email=email)
            for first, last, birth, serial, email in [
                ("Åsa", "Öberg", "19780630", "442", "asa.oberg@example.se"),
                ("Erik", "Svensson", "19851104", "117", "erik.svensson@example.se"),
                ("Erik", "Svensson", "19930921", "356", "erik.svensson93@example.se"),
                ("Östen", "Ahl", "19620118", "271", "osten.ahl@example.se"),
            ]
        ]
        # A client who had her first meeting with Johan: her first with Sara is red, not yellow (R15).
        # She has an account, on both lists as if she had accepted both therapists' invitations.
        switched = account_create(
            role="client", email="maja.berg@example.se", password=PASSWORD, first_name="Maja", last_name="Berg",
            personnummer=test_pnr("19870502", "624"),
        ).client
        for therapist in (other, sara):
            ClientLink.objects.create(therapist=therapist, client=switched, source=ClientLink.Source.OWN)

        tz = sara.tz
        now = timezone.now()
        monday = monday_of(local_today(tz, now))

        def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
            day = monday + timedelta(days=day_offset)
            return datetime.combine(day, time(hour, minute), tzinfo=tz)

        # Maja's earlier meeting with Johan, last week: history, written as it happened.
        past = local(-4, 10)
        johan_slot = Slot.objects.create(therapist=other, start_at=past, end_at=past + timedelta(minutes=45), price=1000)
        Booking.objects.create(
            slot=johan_slot, therapist=other, client=switched, start_at=johan_slot.start_at,
            end_at=johan_slot.end_at, price=1000, mode="onsite",
        )

        # Weekdays full, weekends two slots a day: the week the calendar opens on is never empty,
        # whatever day `make run` is started on.
        future = [
            s for s in (local(d, h) for d in range(14) for h in ((9, 10, 13, 14, 15) if d % 7 < 5 else (10, 13)))
            if s > now
        ]
        slots = []
        for i, start in enumerate(future):
            audience = "existing" if i % 4 == 1 else "all"
            modes = ["video"] if i % 5 == 2 else ["onsite"] if i % 5 == 3 else ["video", "onsite"]
            slots.append(slot_create(therapist=sara, actor=sara.user, start=start, modes=modes, audience=audience))
        # Bookings: Klara's first visit (yellow), then a return visit (red), Maja switched (red),
        # and Åsa and one Erik booked by Sara (yellow: their first visits anywhere).
        open_all = [s for s in slots if s.audience == "all"]
        # Klara books herself the first of them inside Sara's booking window (R35), not one of Sara's.
        klaras = [s for i, s in enumerate(open_all) if i not in (2, 3, 5) and sara.bookable_by_clients(s.start_at)]
        if len(open_all) >= 6 and klaras:
            booking_create_by_client(client=klara, slot=klaras[0], mode=klaras[0].modes[0], actor=klara.user)
            booking_create_by_therapist(therapist=sara, slot=open_all[2], client=klara, mode=open_all[2].modes[0],
                                        actor=sara.user)
            booking_create_by_therapist(therapist=sara, slot=open_all[3], client=switched, mode=open_all[3].modes[0],
                                        actor=sara.user)
            booking_create_by_therapist(therapist=sara, slot=open_all[5], client=own[0], mode=open_all[5].modes[0],
                                        actor=sara.user)
        # R32: Klara also sees Sara every Thursday at 11 from next week on, a series of six (↻ in
        # the calendar); far enough ahead that Klara may still move or cancel them herself (R33).
        series_create(therapist=sara, client=klara, start=local(10, 11), weeks=6, mode="video", actor=sara.user)
        self.stdout.write(f"{Therapist.objects.count()} therapists, {Client.objects.count()} clients, "
                          f"{Slot.objects.count()} slots, {Booking.objects.count()} bookings.")
