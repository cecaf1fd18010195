"""R32 under real concurrency: a client books one of the weeks' open slots while her
therapist books a series over it. Exactly one of them wins that week; the other is refused
with a 409 (the series all or none), never a deadlock or a 500. Threads with their own
connections through the whole HTTP stack, as domain/tests/test_concurrency.py; slots lie days
ahead of the real clock. On both databases; the lock order matters on PostgreSQL."""

from datetime import timedelta

import pytest

from conftest import api_for, days_ahead
from domain.models import Booking, Slot
from domain.tests.test_concurrency import answer, book, never_a_server_error, open_slot, race

ROUNDS = 4


@pytest.mark.django_db(transaction=True)
def test_a_client_booking_a_weeks_slot_while_the_series_is_made_one_wins(anna, erik, make_client):
    anna_api = api_for(anna.user)
    for round_ in range(ROUNDS):
        # A new client each round (her own bookings with one therapist are limited).
        nora = make_client(first=f"Nora{round_}", last="Nilsson")
        nora_api = api_for(nora.user)
        first = days_ahead(7 + round_, "10:00") + timedelta(weeks=12 * round_)
        # Her open slots in weeks 2 and 5 (open to all: Nora finds her through Client Booster).
        contested = [open_slot(anna, first + timedelta(weeks=w), audience="all") for w in (1, 4)]
        target = contested[round_ % 2]
        payload = {"client_id": erik.pk, "start": first.isoformat(), "mode": "video", "weeks": 6}

        def series(payload=payload):
            return answer(anna_api.post("/therapist/series", payload))

        (series_status, series_body), (client_status, client_body) = race(series, book(nora_api, target.pk))

        never_a_server_error([(series_status, series_body), (client_status, client_body)])
        assert sorted([series_status, client_status]) == [201, 409], (series_body, client_body)
        live = Booking.objects.filter(slot=target, status="confirmed")
        assert live.count() == 1
        if series_status == 201:
            assert client_body["code"] == "slot_taken"
            assert live.get().client == erik
            assert Booking.objects.filter(series=series_body["id"], status="confirmed").count() == 6
            assert {b["slot_id"] for b in series_body["bookings"]} >= {s.pk for s in contested}
        else:
            assert series_body["code"] == "series_conflict"
            week = 2 if target == contested[0] else 5
            assert series_body["conflicts"] == [
                {"date": (first + timedelta(weeks=week - 1)).date().isoformat(), "week": week, "code": "slot_taken"}
            ]
            assert live.get().client == nora
            assert not Booking.objects.filter(client=erik, start_at__gte=first).exists()
            # Nothing of the series stayed: no slot of its own was left behind either.
            assert Slot.objects.filter(therapist=anna, start_at__gte=first,
                                       start_at__lt=first + timedelta(weeks=6)).count() == 2
