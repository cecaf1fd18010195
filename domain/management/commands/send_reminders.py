"""Queue the reminders that are due (what `serve` does every minute), for a cron job or a
deployment that runs the worker apart from `serve`. Safe to run on several hosts at once."""

from django.core.management.base import BaseCommand

from domain.services import booking_reminders_queue


class Command(BaseCommand):
    help = "Write the 24-hour reminder of every booking that is due for one to the outbox."

    def handle(self, **options):
        count = booking_reminders_queue()
        self.stdout.write(f"{count} reminder(s) queued.")
