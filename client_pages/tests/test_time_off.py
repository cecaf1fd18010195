"""R36 from the client's side: nothing new is shown; the open slots inside a therapist's time off
are gone from her profile and their booking pages are missing. Time is Monday 2027-01-11 08:00."""

from datetime import date

import pytest
from django.test import Client as Browser

from conftest import at
from domain.services import slot_create, time_off_create

pytestmark = pytest.mark.usefixtures("now")


def test_a_client_sees_no_slot_inside_her_therapists_time_off(anna, erik, nora):
    inside = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-13 09:00"))
    outside = slot_create(therapist=anna, actor=anna.user, start=at("2027-01-14 09:00"))

    time_off_create(therapist=anna, start=date(2027, 1, 13), end=date(2027, 1, 13), actor=anna.user)

    for user in (None, erik.user, nora.user):
        b = Browser()
        if user:
            b.force_login(user)
        page = b.get(f"/terapeut/{anna.pk}/?vecka=2027-01-11").content.decode()
        assert f"/boka/{outside.pk}/" in page and f"/boka/{inside.pk}/" not in page
        assert b.get(f"/boka/{inside.pk}/").status_code == 404
