"""GET /video/<token>, the links of R20 and R29: each party of a video booking has her own,
and the link is the key. Whoever holds it, logged in or not, gets a page saying when it
opens, then from 15 minutes before the start until the end the room itself, then 410; a
cancelled booking's links and unknown keys are 404. The page never shows the client."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client as Browser

from conftest import at
from domain import services
from domain.models import ClientLink, Slot

pytestmark = pytest.mark.usefixtures("now")

PARTIES = ["client", "therapist"]


def book(therapist, client, start="2027-01-11 10:00", mode="video"):
    """A 45-minute booking; time is then 2027-01-11 08:00."""
    slot = services.slot_create(therapist=therapist, actor=None, start=at(start))
    return services.booking_create_by_therapist(therapist=therapist, slot=slot, client=client, mode=mode, actor=None)


@pytest.fixture
def booking(anna, erik):
    return book(anna, erik)


@pytest.fixture
def links(booking, erik_api, anna_api, settings):
    """The path of each party's link, as each is given it: the client's from her bookings,
    the therapist's from her calendar."""
    [mine] = erik_api.get("/client/bookings").json()
    [entry] = anna_api.get("/therapist/calendar", start="2027-01-11T00:00:00+01:00",
                           end="2027-01-12T00:00:00+01:00").json()
    urls = {"client": mine["video_url"], "therapist": entry["booking"]["video_url"]}
    for url in urls.values():
        assert url.startswith(f"{settings.SITE_URL}/video/")
    assert urls["client"] != urls["therapist"]
    return {party: url.removeprefix(settings.SITE_URL) for party, url in urls.items()}


@pytest.fixture(params=PARTIES)
def link(request, links):
    """Each test runs with the client's link and again with the therapist's."""
    return links[request.param]


@pytest.fixture
def visitor():
    """Whoever holds the link: not logged in (an own client has no password)."""
    return Browser()


@pytest.mark.parametrize("moment", ["2027-01-11 08:00", "2027-01-11 09:44", "2027-01-10 23:00"])
def test_before_the_window_it_says_when_it_opens_without_the_room(visitor, link, booking, settings, now, moment):
    now.move_to(at(moment))

    response = visitor.get(link)

    assert response.status_code == 200
    page = response.content.decode()
    assert "09:45" in page  # when the link opens
    assert "10:00" in page  # when the meeting starts
    assert settings.VIDEO_BASE_URL not in page
    assert settings.VIDEO_BASE_URL.rstrip("/") not in page
    assert booking.video_room not in page
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("moment", ["2027-01-11 09:45", "2027-01-11 10:00", "2027-01-11 10:44"])
def test_from_15_minutes_before_until_the_end_it_goes_to_the_room_without_a_login(
    visitor, link, booking, settings, now, moment
):
    now.move_to(at(moment))

    response = visitor.get(link)

    assert response.status_code == 302
    room = response["Location"]
    assert room.startswith(settings.VIDEO_BASE_URL)
    assert room == booking.video_room_url  # no token configured: the plain room
    assert booking.video_room in room
    assert booking.video_token not in room and booking.therapist_video_token not in room


def test_both_parties_links_lead_to_the_same_room(visitor, links, booking, now):
    now.move_to(at("2027-01-11 10:00"))

    rooms = {party: visitor.get(path)["Location"] for party, path in links.items()}

    assert rooms["client"] == rooms["therapist"] == booking.video_room_url


def test_someone_else_logged_in_who_holds_the_link_gets_in_too(link, nora, bo, now):
    """The link is the key (R29): a forwarded link works for whoever holds it."""
    now.move_to(at("2027-01-11 10:00"))
    for someone in (nora.user, bo.user):
        browser = Browser()
        browser.force_login(someone)
        assert browser.get(link).status_code == 302


def test_the_last_second_before_the_end_still_goes_to_the_room(visitor, link, now):
    now.move_to(at("2027-01-11 10:45") - timedelta(seconds=1))

    assert visitor.get(link).status_code == 302


@pytest.mark.parametrize("moment", ["2027-01-11 10:45", "2027-01-11 18:00", "2027-02-01 09:00"])
def test_after_the_end_it_is_gone(visitor, link, booking, settings, now, moment):
    now.move_to(at(moment))

    response = visitor.get(link)

    assert response.status_code == 410
    page = response.content.decode()
    assert "avslutat" in page
    assert settings.VIDEO_BASE_URL not in page
    assert booking.video_room not in page


def test_the_page_names_the_therapist_and_the_time_but_never_the_client(links, erik, anna, now):
    """A link may be forwarded: what it shows must be fit for anyone to read."""
    for party, path in links.items():
        for moment in ("2027-01-11 08:00", "2027-01-11 10:45"):
            now.move_to(at(moment))
            for browser in (Browser(), logged_in(erik.user), logged_in(anna.user)):
                page = browser.get(path).content.decode()
                for secret in (erik.first_name, erik.last_name, erik.personnummer, erik.personnummer[2:],
                               erik.email):
                    assert secret not in page, (party, moment, secret)
    now.move_to(at("2027-01-11 08:00"))
    assert "Ditt videosamtal med Anna Andersson börjar" in Browser().get(links["client"]).content.decode()
    assert "Ditt videosamtal börjar" in Browser().get(links["therapist"]).content.decode()


def logged_in(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def test_the_window_follows_a_rescheduled_booking(visitor, link, booking, now):
    services.slot_update(slot=Slot.objects.get(pk=booking.slot_id), actor=None, start=at("2027-01-12 10:00"))

    now.move_to(at("2027-01-11 09:50"))
    assert visitor.get(link).status_code == 200
    now.move_to(at("2027-01-12 09:50"))
    assert visitor.get(link).status_code == 302


def test_a_longer_meeting_stays_open_to_its_end(visitor, anna, erik, now):
    slot = services.slot_create(therapist=anna, actor=None, start=at("2027-01-11 13:00"), duration_minutes=90)
    booking = services.booking_create_by_therapist(therapist=anna, slot=slot, client=erik, mode="video", actor=None)

    for token in (booking.video_token, booking.therapist_video_token):
        now.move_to(at("2027-01-11 14:29"))
        assert visitor.get(f"/video/{token}").status_code == 302
        now.move_to(at("2027-01-11 14:30"))
        assert visitor.get(f"/video/{token}").status_code == 410


def test_the_page_is_in_the_therapists_zone(visitor, make_therapist, erik, now):
    helsinki = make_therapist(email="h@example.se", first="Helmi", timezone="Europe/Helsinki")
    ClientLink.objects.create(therapist=helsinki, client=erik, source="own")
    booking = book(helsinki, erik)  # 10:00 Stockholm is 11:00 Helsinki

    for token in (booking.video_token, booking.therapist_video_token):
        page = visitor.get(f"/video/{token}").content.decode()
        assert "10:45" in page and "11:00" in page


@pytest.mark.parametrize("token", ["not-a-token", "x" * 64, "%00", "..%2F..%2Fetc", "x" * 5000])
def test_an_unknown_token_is_not_found(visitor, booking, token, now):
    now.move_to(at("2027-01-11 10:00"))

    assert visitor.get(f"/video/{token}").status_code == 404


def test_a_cancelled_booking_has_no_links(visitor, links, booking, now):
    services.booking_cancel(booking=booking, actor=None)

    for moment in ("2027-01-11 08:00", "2027-01-11 10:00", "2027-01-11 11:00"):
        now.move_to(at(moment))
        for path in links.values():
            assert visitor.get(path).status_code == 404, (moment, path)


def test_an_onsite_booking_has_no_links(visitor, anna, erik, now):
    onsite = book(anna, erik, mode="onsite")
    now.move_to(at("2027-01-11 10:00"))

    assert visitor.get(f"/video/{onsite.video_token}").status_code == 404
    assert visitor.get(f"/video/{onsite.therapist_video_token}").status_code == 404


@pytest.mark.parametrize("party", PARTIES)
def test_a_renewed_link_replaces_the_old_one_and_leaves_the_other_partys(visitor, links, booking, party, now):
    other = "therapist" if party == "client" else "client"
    now.move_to(at("2027-01-11 10:00"))

    renewed = services.booking_video_link_renew(booking=booking, party=party, actor=None)

    new_path = f"/video/{renewed.therapist_video_token if party == 'therapist' else renewed.video_token}"
    assert new_path != links[party]
    assert visitor.get(links[party]).status_code == 404
    assert visitor.get(new_path).status_code == 302
    assert visitor.get(links[other]).status_code == 302


def test_the_page_before_the_window_counts_down_from_a_script_file(visitor, link, now):
    page = visitor.get(link).content.decode()

    assert 'id="video-countdown"' in page and "countdown.js" in page
    assert "2027-01-11T08:45:00+00:00" in page  # opens (09:45 in Stockholm), in UTC for the script
    assert "onload=" not in page and "<script>" not in page


# Jitsi token authentication (VIDEO_JWT_*) --------------------------------------------------

SECRET = "s3cret-shared-with-prosody-" + "x" * 20


@pytest.fixture
def jitsi(settings):
    settings.VIDEO_BASE_URL = "https://meet.example.se/"
    settings.VIDEO_JWT_SECRET = SECRET
    settings.VIDEO_JWT_APP_ID = "tidbok"
    settings.VIDEO_JWT_AUDIENCE = "jitsi"
    settings.VIDEO_JWT_SUBJECT = "meet.example.se"
    return settings


def token_in(location: str) -> str:
    [token] = parse_qs(urlsplit(location).query)["jwt"]
    return token


def decoded(token: str, **options) -> dict:
    """The token as prosody reads it: signature (HS256, the shared secret), audience, issuer."""
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", issuer="tidbok", **options)


@pytest.mark.parametrize("party", PARTIES)
def test_with_a_jwt_secret_the_room_address_carries_a_token_for_this_room_and_this_window_only(
    jitsi, visitor, links, booking, party, now
):
    now.move_to(at("2027-01-11 10:00"))

    location = visitor.get(links[party])["Location"]

    assert location.startswith(f"https://meet.example.se/tidbok-{booking.video_room}?jwt=")
    token = token_in(location)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = decoded(token)
    assert claims["iss"] == "tidbok"
    assert claims["aud"] == "jitsi"
    assert claims["sub"] == "meet.example.se"
    assert claims["room"] == f"tidbok-{booking.video_room}"
    assert claims["nbf"] == int(at("2027-01-11 09:45").timestamp())  # the window's opening
    assert claims["exp"] == int(at("2027-01-11 10:45").timestamp())  # the visit's end
    user = claims["context"]["user"]
    if party == "therapist":
        assert user == {"name": "Anna Andersson", "moderator": "true", "affiliation": "owner"}
    else:
        assert user == {"moderator": "false", "affiliation": "member"}  # not named: a link may be forwarded
    assert set(claims) == {"iss", "aud", "sub", "room", "nbf", "exp", "context"}


def test_the_token_is_valid_exactly_inside_the_window_and_only_with_our_secret(jitsi, visitor, links, now):
    """What Jitsi checks, checked with PyJWT at the window's edges: not a second before it
    opens, not from the visit's end on; and a token is not ours under another secret."""
    now.move_to(at("2027-01-11 09:45"))
    token = token_in(visitor.get(links["client"])["Location"])
    opens, ends = at("2027-01-11 09:45"), at("2027-01-11 10:45")

    with pytest.raises(jwt.ImmatureSignatureError):
        decoded_at(token, opens - timedelta(seconds=1))
    assert decoded_at(token, opens)["room"]
    assert decoded_at(token, ends - timedelta(seconds=1))["room"]
    with pytest.raises(jwt.ExpiredSignatureError):
        decoded_at(token, ends)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-enough-length-" + "y" * 10, algorithms=["HS256"], audience="jitsi",
                   options={"verify_exp": False, "verify_nbf": False})


def decoded_at(token: str, moment) -> dict:
    import time_machine

    with time_machine.travel(moment, tick=False):
        return decoded(token)


def test_without_a_jwt_secret_the_room_address_is_plain(visitor, links, booking, settings, now):
    assert not settings.VIDEO_JWT_SECRET
    now.move_to(at("2027-01-11 10:00"))

    location = visitor.get(links["therapist"])["Location"]

    assert location == booking.video_room_url and "?" not in location


# Renewing her own link on her booking page ------------------------------------------------


def test_the_client_renews_her_link_on_her_booking_page_and_only_hers(erik, links, booking, now):
    browser = logged_in(erik.user)
    page = browser.get(f"/mina-bokningar/{booking.pk}/").content.decode()
    assert "Ny videolänk" in page and booking.video_url in page

    response = browser.post(f"/mina-bokningar/{booking.pk}/ny-videolank/", follow=True)

    assert response.redirect_chain == [(f"/mina-bokningar/{booking.pk}/", 302)]
    page = response.content.decode()
    assert "Du har fått en ny videolänk. Den gamla fungerar inte längre." in page
    booking.refresh_from_db()
    assert booking.video_url in page and links["client"] not in page
    now.move_to(at("2027-01-11 10:00"))
    assert Browser().get(links["client"]).status_code == 404
    assert Browser().get(f"/video/{booking.video_token}").status_code == 302
    assert Browser().get(links["therapist"]).status_code == 302


def test_another_client_cannot_renew_her_link(nora, booking):
    old = booking.video_token

    assert logged_in(nora.user).post(f"/mina-bokningar/{booking.pk}/ny-videolank/").status_code == 404
    booking.refresh_from_db()
    assert booking.video_token == old


def test_an_onsite_booking_page_offers_no_new_video_link_and_a_post_is_refused_with_the_reason(anna, erik):
    onsite = book(anna, erik, mode="onsite")
    browser = logged_in(erik.user)
    assert "Ny videolänk" not in browser.get(f"/mina-bokningar/{onsite.pk}/").content.decode()

    response = browser.post(f"/mina-bokningar/{onsite.pk}/ny-videolank/", follow=True)

    assert "Bokningen är inget videosamtal och har därför ingen videolänk." in response.content.decode()


# Where the links lead while no video service is connected (make run) -----------------------


def test_the_practice_room_answers_only_while_the_video_base_is_tidbok_itself(visitor, links, booking, settings, now):
    settings.VIDEO_BASE_URL = f"{settings.SITE_URL}/videorum/"
    now.move_to(at("2027-01-11 10:00"))

    room = visitor.get(links["client"])["Location"]
    page = visitor.get(room.removeprefix(settings.SITE_URL))

    assert page.status_code == 200
    assert f"tidbok-{booking.video_room}" in page.content.decode()
    assert "Övningsrum för video" in page.content.decode()
    settings.VIDEO_BASE_URL = "https://meet.example.se/"
    assert visitor.get(room.removeprefix(settings.SITE_URL)).status_code == 404


def test_when_the_link_opens_is_one_setting_that_the_window_and_every_page_follow(visitor, link, booking, erik,
                                                                                  settings, now):
    """R20: VIDEO_OPENS_MINUTES_BEFORE moves the window, and the pages say the number it holds
    (not a "15" of their own)."""
    settings.VIDEO_OPENS_MINUTES_BEFORE = 5
    now.move_to(at("2027-01-11 09:54"))

    waiting = visitor.get(link)

    assert waiting.status_code == 200
    assert "Länken öppnar kl. 09:55 den 11 januari, 5 minuter före start." in waiting.content.decode()
    booking_page = logged_in(erik.user).get(f"/mina-bokningar/{booking.pk}/").content.decode()
    assert "(öppnar 5 minuter före start)" in booking_page
    now.move_to(at("2027-01-11 09:55"))
    assert visitor.get(link).status_code == 302
    settings.VIDEO_OPENS_MINUTES_BEFORE = 1
    now.move_to(at("2027-01-11 09:58"))
    assert "09:59 den 11 januari, 1 minut före start." in visitor.get(link).content.decode()
