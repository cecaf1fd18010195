"""POST /bookings/{id}/video-link (R29): either party of a video booking gets a new link of
her own; her old one stops at once, the other party's stays. Another person's booking is
404, an on-site or cancelled one 409."""

import pytest
from django.test import Client as Browser

from api.tests.helpers import assert_conflict, assert_not_found, booked, slot_for
from conftest import at
from domain import services
from domain.models import AuditEntry, Booking

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def booking(anna, erik):
    return booked(slot_for(anna, "2027-01-12 09:00"), erik, mode="video")


def path_of(url: str, settings) -> str:
    assert url.startswith(f"{settings.SITE_URL}/video/"), url
    return url.removeprefix(settings.SITE_URL)


@pytest.mark.parametrize(("persona", "field", "other"), [
    ("erik_api", "video_token", "therapist_video_token"),
    ("anna_api", "therapist_video_token", "video_token"),
])
def test_either_party_gets_a_new_link_of_her_own_and_the_old_one_stops(
    request, booking, persona, field, other, settings, now
):
    api = request.getfixturevalue(persona)
    old, others = getattr(booking, field), getattr(booking, other)

    response = api.post(f"/bookings/{booking.pk}/video-link")

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"video_url"}
    booking.refresh_from_db()
    new = getattr(booking, field)
    assert new != old and len(new) >= 32
    assert response.json()["video_url"] == f"{settings.SITE_URL}/video/{new}"
    assert getattr(booking, other) == others  # the other party's link is untouched
    now.move_to(at("2027-01-12 08:50"))
    visitor = Browser()
    assert visitor.get(f"/video/{old}").status_code == 404
    assert visitor.get(path_of(response.json()["video_url"], settings)).status_code == 302
    assert visitor.get(f"/video/{others}").status_code == 302


def test_the_renewal_is_in_the_audit_trail_without_any_key(anna_api, anna, booking):
    anna_api.post(f"/bookings/{booking.pk}/video-link")

    entry = AuditEntry.objects.get(action="booking.video_link_renewed")
    booking.refresh_from_db()
    assert (entry.actor, entry.target_id, entry.slot_id, entry.after) == (anna.user, booking.pk, booking.slot_id,
                                                                          {"party": "therapist"})
    stored = f"{entry.before} {entry.after}"
    assert booking.video_token not in stored and booking.therapist_video_token not in stored


def test_another_persons_booking_is_not_found(booking, nora_api, bo_api):
    for api in (nora_api, bo_api):
        assert_not_found(api.post(f"/bookings/{booking.pk}/video-link"))
    assert_not_found(nora_api.post("/bookings/999999/video-link"))


def test_an_onsite_booking_has_no_video_link_to_renew(anna, erik, erik_api, anna_api):
    onsite = booked(slot_for(anna, "2027-01-12 11:00"), erik, mode="onsite")
    before = Booking.objects.filter(pk=onsite.pk).values_list("video_token", "therapist_video_token").get()

    for api in (erik_api, anna_api):
        response = api.post(f"/bookings/{onsite.pk}/video-link")
        assert_conflict(response, "not_a_video_booking")
        assert "video" in response.json()["detail"].lower()

    assert Booking.objects.filter(pk=onsite.pk).values_list("video_token", "therapist_video_token").get() == before


def test_a_cancelled_booking_has_no_video_link_to_renew(booking, erik_api, anna_api):
    services.booking_cancel(booking=booking, actor=None)

    for api in (erik_api, anna_api):
        assert_conflict(api.post(f"/bookings/{booking.pk}/video-link"), "already_cancelled")
    assert not AuditEntry.objects.filter(action="booking.video_link_renewed").exists()


def test_the_refusal_is_in_swedish_by_default_and_english_on_request(anna, erik, erik_api):
    onsite = booked(slot_for(anna, "2027-01-12 11:00"), erik, mode="onsite")

    swedish = erik_api.post(f"/bookings/{onsite.pk}/video-link").json()["detail"]
    erik_api.headers["Accept-Language"] = "en"
    english = erik_api.post(f"/bookings/{onsite.pk}/video-link").json()["detail"]

    assert swedish == "Bokningen är inget videosamtal och har därför ingen videolänk."
    assert english == "The booking is not a video call, so it has no video link."


def test_it_needs_a_login(booking, anon_api):
    assert anon_api.post(f"/bookings/{booking.pk}/video-link").status_code == 401
