"""`manage.py listing_rebuild`: every therapist's listing row (R9, `Listing`) made where missing
and computed anew, after a change made around the services (a bulk load, a data fix)."""

from django.core.management.base import BaseCommand

from domain.services.listing import listing_rebuild


class Command(BaseCommand):
    help = "Compute every therapist's place in the listing anew (after a bulk change outside the services)."

    def handle(self, *args, **options):
        self.stdout.write(f"{listing_rebuild()} listing rows computed")
