from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

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
            raise CommandError(_("No therapist has the e-mail address %(email)s.") % {"email": email})
        on = state == "on"
        client_booster_set(therapist=therapist, on=on, actor=None)
        # Staff read it in the site's language (a command runs in LANGUAGE_CODE).
        done = _("Client Booster is on for %(name)s <%(email)s>.") if on else _("Client Booster is off for %(name)s <%(email)s>.")
        self.stdout.write(done % {"name": therapist, "email": therapist.user.email})
