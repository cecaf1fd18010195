from django.core.management.base import BaseCommand, CommandError

from domain.models import Therapist
from domain.services import client_booster_set


class Command(BaseCommand):
    help = "Switch a therapist's Client Booster on or off (R9): client_booster EMAIL on|off"

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("state", choices=["on", "off"])

    def handle(self, email, state, **options):
        therapist = Therapist.objects.filter(user__email=email.strip().lower()).first()
        if therapist is None:
            raise CommandError(f"No therapist with the e-mail address {email}.")
        client_booster_set(therapist=therapist, on=state == "on", actor=None)
        self.stdout.write(f"Client Booster {state} for {therapist} <{therapist.user.email}>.")
