"""The reminder a day before each visit: written once per booking, whoever sweeps and however
often, with the visit's details; not for cancelled bookings nor for bookings made within the
last day before their start (their confirmation has just gone out)."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from conftest import at
from domain.models import Booking, OutboundEmail
from domain.services import (
    booking_cancel,
    booking_create_by_therapist,
    booking_reminders_queue,
    slot_create,
)


def booking_at(anna, erik, start, mode="video"):
    slot = slot_create(therapist=anna, actor=anna.user, start=at(start))
    return booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode=mode, actor=anna.user)


def reminders():
    return list(OutboundEmail.objects.filter(kind="booking_reminder").order_by("pk"))


def test_a_booking_is_reminded_once_24_hours_before(anna, erik, now):
    booking = booking_at(anna, erik, "2027-01-13 10:00")

    assert booking_reminders_queue() == 0  # two days ahead: not yet
    now.move_to(at("2027-01-12 09:59"))
    assert booking_reminders_queue() == 0
    now.move_to(at("2027-01-12 10:00"))
    assert booking_reminders_queue() == 1
    now.move_to(at("2027-01-12 10:05"))
    assert booking_reminders_queue() == 0

    [mail] = reminders()
    assert (mail.to, mail.booking_id) == (erik.email, booking.pk)
    assert mail.subject == "Påminnelse: onsdag 13 januari 2027 kl. 10:00 med Anna Andersson"
    assert booking.video_url in mail.body
    assert Booking.objects.get(pk=booking.pk).reminder_queued_at == at("2027-01-12 10:00")


def test_an_onsite_reminder_carries_the_address(anna, erik, now):
    anna.reception_address = "Sveavägen 1, Stockholm"
    anna.save(update_fields=["reception_address"])
    booking_at(anna, erik, "2027-01-12 09:00", mode="onsite")
    now.move_to(at("2027-01-11 12:00"))

    booking_reminders_queue()

    [mail] = reminders()
    assert "Sveavägen 1, Stockholm" in mail.body and "/video/" not in mail.body


def test_a_cancelled_booking_is_not_reminded(anna, erik, now):
    booking = booking_cancel(booking=booking_at(anna, erik, "2027-01-13 10:00"), actor=anna.user)
    now.move_to(at("2027-01-12 12:00"))

    assert booking_reminders_queue() == 0
    assert reminders() == [] and booking.status == "cancelled"


def test_a_booking_made_within_the_last_day_gets_its_confirmation_only(anna, erik, now):
    booking_at(anna, erik, "2027-01-11 15:00")

    assert booking_reminders_queue() == 0


def test_a_sweep_that_was_late_still_reminds_before_the_start(anna, erik, now):
    booking_at(anna, erik, "2027-01-13 10:00")
    now.move_to(at("2027-01-13 09:00"))  # the worker was down all day

    assert booking_reminders_queue() == 1
    now.move_to(at("2027-01-13 10:00"))
    assert booking_reminders_queue() == 0


def test_the_command_queues_what_is_due(anna, erik, now):
    booking_at(anna, erik, "2027-01-13 10:00")
    now.move_to(at("2027-01-12 11:00"))

    call_command("send_reminders", stdout=open("/dev/null", "w"))

    assert len(reminders()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_write_each_reminder_once(anna, erik, make_client):
    """Real threads, each with its own connection, released together: the conditional UPDATE
    lets exactly one of them claim each booking. Slots relative to the real clock (no frozen time
    across threads)."""
    from django.utils import timezone

    from domain.models import Slot

    clients = [erik] + [make_client(first=f"K{i}", therapist=anna) for i in range(5)]
    start = timezone.now() + timedelta(hours=18)  # the last of six starts within the day
    for i, c in enumerate(clients):
        begins = start + timedelta(hours=i)
        slot = Slot.objects.create(therapist=anna, start_at=begins, end_at=begins + timedelta(minutes=45), price=1000)
        Booking.objects.create(slot=slot, therapist=anna, client=c, start_at=slot.start_at, end_at=slot.end_at,
                               price=1000, mode="video", created_at=timezone.now() - timedelta(days=3))
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def sweep():
        try:
            barrier.wait(timeout=30)
            counts.append(booking_reminders_queue())
        except BaseException as e:
            errors.append(repr(e))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not errors, errors
    assert sum(counts) == len(clients)
    assert OutboundEmail.objects.filter(kind="booking_reminder").count() == len(clients)
    assert sorted(OutboundEmail.objects.filter(kind="booking_reminder").values_list("to", flat=True)) == sorted(
        c.email for c in clients
    )


def test_a_booking_moved_to_a_later_day_is_reminded_again_for_the_new_time(anna, erik, now):
    from domain.services import slot_update

    booking = booking_at(anna, erik, "2027-01-13 10:00")
    now.move_to(at("2027-01-12 12:00"))
    assert booking_reminders_queue() == 1

    slot_update(slot=booking.slot, actor=anna.user, start=at("2027-01-15 10:00"))
    assert booking_reminders_queue() == 0
    now.move_to(at("2027-01-14 10:00"))

    assert booking_reminders_queue() == 1
    assert [m.subject for m in reminders()][-1] == "Påminnelse: fredag 15 januari 2027 kl. 10:00 med Anna Andersson"


def test_a_booking_moved_into_the_coming_day_gets_the_reschedule_mail_only(anna, erik, now):
    from domain.services import slot_update

    booking = booking_at(anna, erik, "2027-01-14 10:00")
    slot_update(slot=booking.slot, actor=anna.user, start=at("2027-01-11 18:00"))

    assert booking_reminders_queue() == 0
    assert OutboundEmail.objects.filter(kind="booking_rescheduled").count() == 1
