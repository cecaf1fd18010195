"""R37: the therapist's calendar says how many clients wait for a time with her: a count only,
never who."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from domain.services import waitlist_join

pytestmark = pytest.mark.usefixtures("now")


def test_her_calendar_shows_how_many_wait_and_no_names(anna, nora, make_client):
    http = HttpClient()
    http.force_login(anna.user)
    assert "Ingen står i din kö." in http.get(reverse("therapist_pages:calendar")).content.decode()

    vera = make_client(first="Vera", last="Väntarsson")
    waitlist_join(client=nora, therapist=anna, actor=nora.user)
    waitlist_join(client=vera, therapist=anna, actor=vera.user)

    page = http.get(reverse("therapist_pages:calendar")).content.decode()
    assert "2 klienter står i din kö" in page
    assert "Nora" not in page and "Väntarsson" not in page
