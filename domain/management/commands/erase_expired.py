"""R41 retention: erase personal data of bookings older than RETENTION_YEARS (docs/privacy.md).
`make run` runs it daily (`manage.py serve`), with the pruning of the growing tables
(`--prune`, or `manage.py prune`)."""

from django.core.management.base import BaseCommand

from domain.services import personal_data_erase_expired, tables_prune


class Command(BaseCommand):
    help = "Erase personal data of bookings older than RETENTION_YEARS (R41); --prune also prunes the growing tables."

    def add_arguments(self, parser):
        parser.add_argument("--prune", action="store_true", help="also run the daily pruning (as `serve` does)")

    def handle(self, prune, **options):
        done = personal_data_erase_expired()
        self.stdout.write(f"erased: {done['clients']} clients, {done['audit_entries']} audit entries reduced to ids")
        if prune:
            pruned = tables_prune()
            self.stdout.write("pruned: " + ", ".join(f"{k} {v}" for k, v in pruned.items()))
