"""R37: the wait list. Clients join a therapist's list with the weekdays, times and kinds of
meeting that suit them; when a slot opens (made, or freed by a cancellation or a move) the
matching clients are told by mail after the commit, in the order they joined, at most once a
day each, never of a slot taken again, never twice (a re-run). Time is Monday 2027-01-11 08:00
in Stockholm; both databases. The jobs run as the worker runs them: the on-commit callbacks
really run (``), then the task rows they enqueued."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from conftest import at, connected
from domain.models import AuditEntry, Booking, OutboundEmail, Slot, Therapist, WaitlistEntry, WaitlistNotice
from domain.services import (
    booking_cancel,
    booking_create_by_client,
    booking_create_by_therapist,
    booking_move,
    series_create,
    slot_create,
    slot_create_many,
    waitlist_announce,
    waitlist_count,
    waitlist_join,
    waitlist_leave,
)

# Transactional: every commit is real, so the on-commit callbacks run as in production.
pytestmark = [pytest.mark.usefixtures("now"), pytest.mark.django_db(transaction=True)]

WEDNESDAY = "2027-01-13"


def jobs(*, waiting: bool = True) -> list[list[int]]:
    """The slot ids of the wait-list jobs enqueued (not yet run, unless `waiting=False`)."""
    rows = DBTaskResult.objects.filter(task_path__endswith=".waitlist_announce").order_by("enqueued_at")
    if waiting:
        rows = rows.filter(status=TaskResultStatus.READY)
    return [row.args_kwargs["args"][0] for row in rows]


def run_jobs(*, again: bool = False) -> int:
    """Run the wait-list jobs waiting, as the worker would, and mark them done; `again`: every
    job once more (a re-run)."""
    done = sum(waitlist_announce(slot_ids=ids) for ids in jobs(waiting=not again))
    DBTaskResult.objects.filter(task_path__endswith=".waitlist_announce").update(
        status=TaskResultStatus.SUCCESSFUL
    )
    return done


def mails(to=None):
    found = OutboundEmail.objects.filter(kind="waitlist_opened").order_by("pk")
    return list(found.filter(to=to) if to else found)


def make_booked_slot(anna, erik, start=f"{WEDNESDAY} 10:00", **fields):
    """A 45-minute video slot, booked by Erik."""
    fields.setdefault("modes", ["video"])
    slot = slot_create(therapist=anna, actor=anna.user, start=at(start), **fields)
    booking = booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=anna.user)
    assert run_jobs() == 0  # the new slot's job: booked by then, nobody is told
    return slot, booking


@pytest.fixture
def ten(make_client, anna, now):
    """Ten new clients on Anna's wait list, joined a minute apart. The first three want what a
    Wednesday 10:00 video slot is not (Mondays; afternoons; on site); the other seven take it."""
    wants = [
        {"weekdays": [1]}, {"from_time": dt.time(13, 0)}, {"modes": ["onsite"]},
        {"weekdays": [3]}, {}, {"from_time": dt.time(9, 0), "to_time": dt.time(11, 0)}, {"modes": ["video"]},
        {"weekdays": [2, 3, 4]}, {}, {},
    ]
    clients = []
    for i, want in enumerate(wants):
        client = make_client(first=f"Klient{i}", last="Kö", birth="19900101")
        waitlist_join(client=client, therapist=anna, actor=client.user, **want)
        now.shift(dt.timedelta(minutes=1))
        clients.append(client)
    return clients


def test_ten_waiting_one_cancellation_tells_the_first_matching_client_once(
    anna, erik, ten
):
    slot, booking = make_booked_slot(anna, erik)
    booking_cancel(booking=booking, actor=erik.user)
    assert not mails()  # written after the commit, by the job, not by the cancellation
    assert jobs() == [[slot.pk]]

    assert run_jobs() == 7

    first = ten[3]
    theirs = mails(first.email)
    assert len(theirs) == 1
    assert f"/boka/{slot.pk}/" in theirs[0].body and "Anna Andersson" in theirs[0].subject
    # The others who match are told too, in the order they joined; those who do not, never.
    assert [m.to for m in mails()] == [c.email for c in ten[3:]]
    assert not any(mails(c.email) for c in ten[:3])
    assert WaitlistNotice.objects.filter(slot_id=slot.pk).count() == 7


def test_a_second_cancellation_the_same_day_sends_her_no_second_mail(
    anna, erik, ten, now
):
    _slot, booking = make_booked_slot(anna, erik)
    _slot2, booking2 = make_booked_slot(anna, erik, f"{WEDNESDAY} 10:45")
    booking_cancel(booking=booking, actor=erik.user)
    run_jobs()
    now.shift(dt.timedelta(hours=10))  # 18:00, the same day
    booking_cancel(booking=booking2, actor=erik.user)
    run_jobs()

    assert len(mails(ten[3].email)) == 1
    assert len(mails()) == 7

    # The next day she may be told again.
    now.shift(dt.timedelta(hours=7))  # Tuesday 01:00
    third, booking3 = make_booked_slot(anna, erik, f"{WEDNESDAY} 12:00")
    booking_cancel(booking=booking3, actor=erik.user)
    run_jobs()
    assert len(mails(ten[3].email)) == 2
    assert f"/boka/{third.pk}/" in mails(ten[3].email)[-1].body


def test_a_slot_booked_again_before_the_job_runs_is_told_to_nobody(
    anna, erik, nora, ten
):
    slot, booking = make_booked_slot(anna, erik)
    booking_cancel(booking=booking, actor=erik.user)
    booking_create_by_client(client=nora, slot=slot, mode="video", actor=nora.user)

    assert run_jobs() == 0
    assert not mails()


def test_a_rerun_of_the_job_sends_nothing_twice(anna, erik, ten, now):
    _slot, booking = make_booked_slot(anna, erik)
    booking_cancel(booking=booking, actor=erik.user)

    assert run_jobs() == 7
    assert run_jobs(again=True) == 0
    assert len(mails()) == 7
    # Nor the next day, when the day's limit no longer holds her back: the notices do.
    now.shift(dt.timedelta(days=1))
    assert run_jobs(again=True) == 0
    assert len(mails()) == 7


def test_a_slot_inside_the_minimum_notice_is_not_announced(
    make_therapist, make_client, now
):
    eva = make_therapist(email="eva@example.se", first="Eva", last="Ek", min_notice_hours=24)
    erik = make_client(therapist=eva)
    waiting = make_client(first="Vera", last="Väntar")
    waitlist_join(client=waiting, therapist=eva, actor=waiting.user)
    soon, booking = make_booked_slot(eva, erik, "2027-01-11 20:00")  # 12 hours ahead
    later, booking2 = make_booked_slot(eva, erik, "2027-01-12 09:00")  # 25 hours ahead
    booking_cancel(booking=booking, actor=eva.user)
    assert run_jobs() == 0

    booking_cancel(booking=booking2, actor=eva.user)
    run_jobs()
    [mail] = mails(waiting.email)
    assert f"/boka/{later.pk}/" in mail.body and f"/boka/{soon.pk}/" not in mail.body


def test_new_slots_made_together_are_one_digest(anna, nora):
    waitlist_join(client=nora, therapist=anna, actor=nora.user, weekdays=[3])
    made = slot_create_many(therapist=anna, actor=anna.user, start=at(f"{WEDNESDAY} 09:00"),
                            end=at(f"{WEDNESDAY} 11:15"))
    assert len(made) == 3 and jobs() == [sorted(s.pk for s in made)]

    run_jobs()
    [mail] = mails(nora.email)
    assert all(f"/boka/{s.pk}/" in mail.body for s in made)
    assert "3" in mail.subject or "3" in mail.body


def test_a_rolled_back_change_tells_nobody(anna, erik, nora):
    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    _slot, booking = make_booked_slot(anna, erik)
    with pytest.raises(RuntimeError), transaction.atomic():
        booking_cancel(booking=booking, actor=erik.user)
        raise RuntimeError
    assert jobs() == []
    assert Booking.objects.get(pk=booking.pk).is_confirmed


def test_a_moved_booking_frees_its_old_slot_for_the_wait_list(anna, erik, nora):
    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    old, booking = make_booked_slot(anna, erik)
    target = slot_create(therapist=anna, actor=anna.user, start=at(f"{WEDNESDAY} 14:00"))
    run_jobs()
    OutboundEmail.objects.filter(kind="waitlist_opened").delete()
    WaitlistNotice.objects.all().delete()
    booking_move(booking=booking, slot=target, actor=erik.user)
    assert jobs() == [[old.pk]]
    run_jobs()
    [mail] = mails(nora.email)
    assert f"/boka/{old.pk}/" in mail.body and f"/boka/{target.pk}/" not in mail.body


def test_series_slots_are_booked_at_once_and_not_announced(anna, erik, nora):
    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    series_create(therapist=anna, client=erik, start=at(f"{WEDNESDAY} 10:00"), weeks=3, mode="video",
                  actor=anna.user, duration_minutes=45)
    run_jobs()
    assert not mails()


def test_an_existing_clients_only_slot_is_told_only_to_her_own_clients(
    anna, erik, nora, make_client
):
    own = make_client(first="Olle", last="Egen", therapist=anna)
    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    waitlist_join(client=own, therapist=anna, actor=own.user)
    slot_create(therapist=anna, actor=anna.user, start=at(f"{WEDNESDAY} 10:00"), audience="existing")
    run_jobs()
    assert [m.to for m in mails()] == [own.email]


def test_joining_checks_what_she_gives(anna, nora):
    cases = [
        ({"weekdays": [0]}, "weekdays"), ({"weekdays": [8]}, "weekdays"), ({"weekdays": "mon"}, "weekdays"),
        ({"weekdays": [True]}, "weekdays"), ({"modes": ["phone"]}, "modes"), ({"from_time": "09:00"}, "from_time"),
        ({"from_time": dt.time(12), "to_time": dt.time(9)}, "to_time"),
        ({"from_time": dt.time(12), "to_time": dt.time(12)}, "to_time"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationError) as error:
            waitlist_join(client=nora, therapist=anna, actor=nora.user, **fields)
        assert field in error.value.message_dict, fields
    assert not WaitlistEntry.objects.exists()


def test_only_a_therapist_she_may_book_or_her_own(bo, nora, make_client):
    with pytest.raises(Therapist.DoesNotExist):
        waitlist_join(client=nora, therapist=bo, actor=nora.user)  # Bo takes no new clients (R9)
    own = make_client(first="Olle", last="Egen", therapist=bo)
    entry, created = waitlist_join(client=own, therapist=bo, actor=own.user)
    assert created and entry.therapist == bo
    with pytest.raises(Therapist.DoesNotExist):
        waitlist_join(client=nora, therapist=10**9, actor=nora.user)


def test_a_second_join_changes_her_entry_and_keeps_her_place(anna, nora, now):
    entry, created = waitlist_join(client=nora, therapist=anna, actor=nora.user, weekdays=[1])
    joined = entry.created_at
    now.shift(dt.timedelta(days=1))
    again, created_again = waitlist_join(client=nora, therapist=anna, actor=nora.user, weekdays=[2, 5],
                                         modes=["video"])
    assert created and not created_again and again.pk == entry.pk
    saved = WaitlistEntry.objects.get()
    assert saved.weekdays == [2, 5] and saved.modes == ["video"] and saved.created_at == joined
    assert list(AuditEntry.objects.filter(target_type="waitlistentry").values_list("action", flat=True)
                .order_by("pk")) == ["waitlist.joined", "waitlist.changed"]


def test_leaving_and_the_count_she_sees(anna, nora, erik):
    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    waitlist_join(client=erik, therapist=anna, actor=erik.user)
    assert waitlist_count(anna) == 2
    waitlist_leave(client=nora, therapist=anna, actor=nora.user)
    assert waitlist_count(anna) == 1
    assert AuditEntry.objects.filter(action="waitlist.left", therapist=anna).count() == 1
    with pytest.raises(WaitlistEntry.DoesNotExist):
        waitlist_leave(client=nora, therapist=anna, actor=nora.user)


def test_a_deleted_slot_is_not_announced(anna, nora):
    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    slot = slot_create(therapist=anna, actor=anna.user, start=at(f"{WEDNESDAY} 10:00"))
    Slot.objects.filter(pk=slot.pk).delete()
    assert run_jobs() == 0


def test_a_slot_busy_in_her_other_calendar_is_not_announced(anna, nora):
    """R38 with R37: a slot clients cannot book (busy elsewhere) is told to nobody."""
    from domain.models import BusyTime

    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    connected(anna)
    BusyTime.objects.create(therapist=anna, start_at=at(f"{WEDNESDAY} 09:30"), end_at=at(f"{WEDNESDAY} 10:30"))
    slot_create(therapist=anna, actor=anna.user, start=at(f"{WEDNESDAY} 10:00"))

    assert run_jobs() == 0
    assert not mails()


def test_an_erased_client_leaves_no_wait_list_behind(anna, erik, nora):
    """R41: her entries and what she was told go with her."""
    from domain.services import client_erase

    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    _slot, booking = make_booked_slot(anna, erik)
    booking_cancel(booking=booking, actor=erik.user)
    run_jobs()
    assert WaitlistNotice.objects.filter(client=nora).exists()

    client_erase(client=nora, keep_own_records=False)

    assert not WaitlistEntry.objects.exists() and not WaitlistNotice.objects.exists()
    assert not OutboundEmail.objects.filter(kind="waitlist_opened").exists()  # the outbox scrub
