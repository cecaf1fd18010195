"""R37 on the client pages: "Meddela mig när en tid blir ledig" on a therapist's profile (a
form: weekdays, time range, kinds) joins or changes her entry; Mina bokningar lists her
entries with "Lämna kön". Bad input is shown beside its field; a visitor is asked to log in."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from domain.models import WaitlistEntry

pytestmark = pytest.mark.usefixtures("now")


def logged_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_a_client_joins_from_the_profile_and_leaves_from_her_bookings(anna, nora):
    http = logged_in(nora.user)
    page = http.get(reverse("client_pages:profile", args=[anna.pk]))
    assert "Meddela mig när en tid blir ledig" in page.content.decode()

    response = http.post(reverse("client_pages:waitlist_join", args=[anna.pk]),
                         {"weekdays": ["1", "3"], "from_time": "09:00", "to_time": "12:00", "modes": ["video"]})
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get(client=nora, therapist=anna)
    assert entry.weekdays == [1, 3] and entry.modes == ["video"] and f"{entry.from_time:%H:%M}" == "09:00"

    mine = http.get(reverse("client_pages:bookings")).content.decode()
    assert "Anna Andersson" in mine and "Lämna kön" in mine and "09:00–12:00" in mine

    assert http.post(reverse("client_pages:waitlist_leave", args=[anna.pk])).status_code == 302
    assert not WaitlistEntry.objects.exists()
    assert http.post(reverse("client_pages:waitlist_leave", args=[anna.pk])).status_code == 404


def test_a_time_range_backwards_is_shown_beside_its_field(anna, nora):
    response = logged_in(nora.user).post(reverse("client_pages:waitlist_join", args=[anna.pk]),
                                         {"from_time": "12:00", "to_time": "09:00"})
    assert response.status_code == 422
    assert 'id="id_to_time_error"' in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_a_therapist_she_may_not_book_has_no_wait_list(bo, nora):
    response = logged_in(nora.user).post(reverse("client_pages:waitlist_join", args=[bo.pk]), {})
    assert response.status_code == 404
    assert not WaitlistEntry.objects.exists()


def test_a_visitor_is_asked_to_log_in(anna, client):
    page = client.get(reverse("client_pages:profile", args=[anna.pk])).content.decode()
    assert "Logga in" in page or "logga in" in page.lower()
    assert client.post(reverse("client_pages:waitlist_join", args=[anna.pk]), {}).status_code == 302
