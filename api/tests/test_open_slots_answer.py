"""GET /therapists/{id}/slots answers, byte for byte, what it answered when it read model
instances through the ORM (issue 15): the read is now one statement of plain values
(`selectors.open_slot_rows`), and docs/api.md's contract must not notice.

The old view is kept here as the oracle: the therapist or 404, R9's 404 for a viewer she is
hidden from, the window in her zone, then `open_slots_for_viewer`'s first 2000 instances through
`open_slot_out`. Hypothesis draws the world of domain/tests/test_raw_reads.py (therapists in
three zones with and without Client Booster, lists, slots for all or existing clients, live and
cancelled bookings, busy times, booking windows), a viewer (anonymous, a client with an account,
a therapist), a therapist (or none), a moment and a window; run on SQLite and, with
DATABASE_URL, on PostgreSQL."""

from datetime import timedelta

import time_machine
from django.http import Http404
from django.shortcuts import get_object_or_404
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from api.api import InvalidQuery, window
from api.renderers import ORJSONRenderer
from api.serializers import open_slot_out
from conftest import Api
from domain import selectors
from domain.models import Therapist
from domain.services import token_create
from domain.tests.test_raw_reads import BASE, EXAMPLES, HOUR, build, open_world

ORACLE_AT_MOST = 2000  # docs/api.md: at most 2000 open slots


def old_answer(therapist_id: int, client, start, end) -> tuple[int, bytes | None]:
    """What the view answered before issue 15, as (status, body); a 404's body is the
    framework's own, the same for both."""
    try:
        therapist = get_object_or_404(Therapist, pk=therapist_id)
        if not selectors.therapist_visible_to(therapist, client):
            raise Http404
    except Http404:
        return 404, None
    if start is not None or end is not None:
        try:
            start, end = window(start, end, therapist.tz)
        except InvalidQuery:
            return 422, None
    slots = selectors.open_slots_for_viewer(therapist, client, start, end)
    data = [open_slot_out(slot, therapist) for slot in slots[:ORACLE_AT_MOST]]
    return 200, ORJSONRenderer().render(None, data, response_status=200)


class OpenSlotsAnswerTest(TestCase):
    @EXAMPLES
    @given(w=open_world, who=st.integers(0, 6), viewer=st.integers(-2, 3), now=st.integers(-10, 40),
           window=st.tuples(st.sampled_from([None, None, None, -20, 0, 30]), st.sampled_from([None, None, 5, 24, 200])))
    def test_the_answer_is_the_one_the_orm_read_gave(self, w, who, viewer, now, window):
        therapists, clients, _ = build(w)
        therapist_id = therapists[who % 3].pk if who < 6 else therapists[-1].pk + 1000  # sometimes none
        # A therapist, anonymous, or a client (one without a login calls anonymously).
        caller = therapists[0].user if viewer == -2 else None if viewer == -1 else clients[viewer].user
        client = caller.client if caller is not None and hasattr(caller, "client") else None
        start = None if window[0] is None else BASE + window[0] * HOUR
        end = None if window[1] is None else (start or BASE) + window[1] * HOUR
        query = {name: moment.isoformat() for name, moment in (("start", start), ("end", end)) if moment}
        with time_machine.travel(BASE + now * HOUR + timedelta(minutes=7), tick=False):
            api = Api(token_create(user=caller) if caller is not None else None)  # a token made now
            response = api.get(f"/therapists/{therapist_id}/slots", **query)
            status, body = old_answer(therapist_id, client, start, end)

        assert response.status_code == status, response.content
        if status == 200:
            assert response.content == body
