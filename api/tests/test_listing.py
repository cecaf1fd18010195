"""GET /therapists (the listing of R9) and GET /therapists/{id}/slots: who may see which open
times (R7–R9)."""

import pytest

from api.tests.helpers import assert_invalid, assert_not_found, booked, local_iso, past_slot, slot_for
from conftest import api_for

pytestmark = pytest.mark.usefixtures("now")


# The listing --------------------------------------------------------------------------------
@pytest.fixture
def cecilia(make_therapist):
    return make_therapist(email="cecilia@example.se", first="Cecilia", last="Carlsson")


@pytest.fixture
def dora(make_therapist):
    """Boosted, video only by default, and no open slot at all."""
    return make_therapist(email="dora@example.se", first="Dora", last="Dahl", default_onsite=False)


@pytest.fixture
def week(anna, bo, cecilia, dora, erik):
    """Anna: video on Tuesday, on-site on Wednesday, and earlier times nobody new can book.
    Cecilia: Monday noon, either kind. Bo (no Client Booster): the soonest time of all."""
    slot_for(anna, "2027-01-12 09:00", modes=["video"])
    slot_for(anna, "2027-01-13 09:00", modes=["onsite"])
    slot_for(anna, "2027-01-11 09:00", audience="existing")
    booked(slot_for(anna, "2027-01-11 10:00"), erik)
    past_slot(anna, "2027-01-11 07:00")
    slot_for(cecilia, "2027-01-11 12:00")
    slot_for(bo, "2027-01-11 08:30")


def names(response):
    return [t["first_name"] for t in response.json()]


def test_it_lists_boosted_therapists_soonest_first_and_those_without_times_last(anon_api, week, anna, cecilia, dora):
    response = anon_api.get("/therapists")

    assert response.status_code == 200
    assert response.json() == [
        {"id": cecilia.pk, "first_name": "Cecilia", "last_name": "Carlsson", "modes": ["video", "onsite"],
         "next_available": "2027-01-11T12:00:00+01:00"},
        {"id": anna.pk, "first_name": "Anna", "last_name": "Andersson", "modes": ["video", "onsite"],
         "next_available": "2027-01-12T09:00:00+01:00"},
        {"id": dora.pk, "first_name": "Dora", "last_name": "Dahl", "modes": ["video"], "next_available": None},
    ]


def test_a_therapist_without_client_booster_is_never_listed(anon_api, week):
    assert "Bo" not in names(anon_api.get("/therapists"))
    assert "Bo" not in names(anon_api.get("/therapists", mode="video"))
    assert "Bo" not in names(anon_api.get("/therapists", mode="onsite"))


def test_the_listing_is_the_same_for_every_caller(anon_api, erik_api, nora_api, anna_api, week):
    expected = anon_api.get("/therapists").json()

    for api in (erik_api, nora_api, anna_api):
        assert api.get("/therapists").json() == expected


def test_mode_onsite_counts_only_onsite_times_and_drops_video_only_therapists(anon_api, week):
    response = anon_api.get("/therapists", mode="onsite")

    assert response.status_code == 200
    assert [(t["first_name"], t["next_available"]) for t in response.json()] == [
        ("Cecilia", local_iso("2027-01-11 12:00")),
        ("Anna", local_iso("2027-01-13 09:00")),
    ]


def test_mode_video_counts_only_video_times(anon_api, week):
    assert [(t["first_name"], t["next_available"]) for t in anon_api.get("/therapists", mode="video").json()] == [
        ("Cecilia", local_iso("2027-01-11 12:00")),
        ("Anna", local_iso("2027-01-12 09:00")),
        ("Dora", None),
    ]


def test_a_booster_switched_on_lists_her(anon_api, week, bo):
    from domain.services import client_booster_set

    client_booster_set(therapist=bo, on=True, actor=None)

    assert names(anon_api.get("/therapists"))[0] == "Bo"


def test_next_available_is_answered_in_that_therapists_zone(anon_api, make_therapist):
    helsinki = make_therapist(email="h@example.se", first="Helmi", timezone="Europe/Helsinki")
    slot_for(helsinki, "2027-01-12 09:00")  # 10:00 in Helsinki

    [entry] = anon_api.get("/therapists").json()

    assert entry["next_available"] == "2027-01-12T10:00:00+02:00"


@pytest.mark.parametrize("mode", ["phone", "VIDEO", "", "video,onsite"])
def test_it_refuses_an_unknown_mode(anon_api, mode):
    assert_invalid(anon_api.get("/therapists", mode=mode), "mode")


# Pages (R9 at scale) -------------------------------------------------------------------------
@pytest.fixture
def many(make_therapist):
    """Seven listed therapists: six at two shared times (so the order's ties are broken by last
    name, then id; two share a last name too) and one without a time."""
    people = []
    for i, (last, hour) in enumerate([("Berg", 9), ("Ahl", 9), ("Berg", 9), ("Cederlund", 10), ("Ahl", 10),
                                      ("Dahl", 10), ("Ek", None)]):
        t = make_therapist(email=f"p{i}@example.se", first=f"P{i}", last=last)
        if hour:
            slot_for(t, f"2027-01-12 {hour:02d}:00", modes=["video"] if i % 2 else ["video", "onsite"])
        people.append(t)
    return people


def walk(api, limit, **params):
    """Every page from the first, following `Link`; the pages' ids and the links."""
    pages, links, cursor = [], [], ""
    while True:
        response = api.get("/therapists", limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.content
        pages.append([t["id"] for t in response.json()])
        cursor = response.headers.get("X-Next-Cursor", "")
        links.append(response.headers.get("Link"))
        if not cursor:
            return pages, links


@pytest.mark.parametrize("mode", [None, "video", "onsite"])
@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_the_pages_together_are_the_whole_listing_in_its_order(anon_api, many, mode, limit):
    params = {"mode": mode} if mode else {}
    whole = [t["id"] for t in anon_api.get("/therapists", limit=200, **params).json()]
    pages, links = walk(anon_api, limit, **params)

    assert [pk for page in pages for pk in page] == whole
    assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
    assert links[-1] is None  # the last page names no next one


def test_the_order_breaks_ties_by_last_name_then_id(anon_api, many):
    p = many
    assert [t["id"] for t in anon_api.get("/therapists").json()] == [
        p[1].pk, p[0].pk, p[2].pk, p[4].pk, p[3].pk, p[5].pk, p[6].pk,
    ]


def test_the_next_link_is_the_next_page(anon_api, many):
    first = anon_api.get("/therapists", limit=2, mode="video")
    link = first.headers["Link"]
    assert link.startswith("<http://testserver/api/v1/therapists?") and link.endswith('>; rel="next"')
    url = link[1:link.index(">")]
    second = anon_api.http.get(url)

    assert second.status_code == 200
    assert second.json() == anon_api.get(
        "/therapists", limit=2, mode="video", cursor=first.headers["X-Next-Cursor"]
    ).json()
    assert "mode=video" in url and "limit=2" in url


def test_the_default_page_holds_fifty(anon_api, make_therapist):
    from domain.models import Listing

    for i in range(51):
        make_therapist(email=f"q{i}@example.se", first=f"Q{i}")
    assert Listing.objects.filter(listed=True).count() == 51

    response = anon_api.get("/therapists")
    assert len(response.json()) == 50 and response.headers["X-Next-Cursor"]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "x", "1.5", "99999999999999999999"])
def test_it_refuses_a_limit_out_of_bounds(anon_api, limit):
    assert_invalid(anon_api.get("/therapists", limit=limit), "limit")


def test_it_takes_the_largest_limit(anon_api, many):
    assert anon_api.get("/therapists", limit=200).status_code == 200


def test_it_refuses_a_cursor_it_did_not_make(anon_api, many):
    cursor = anon_api.get("/therapists", limit=2)["X-Next-Cursor"]
    head, _, tail = cursor.rpartition(":")
    tampered = [
        "x", "0", "null", "W10", cursor[:-1], cursor + "x", f"{head}:{tail[::-1]}",
        cursor.replace(cursor[0], "A" if cursor[0] != "A" else "B", 1), "a" * 1001,
    ]
    for bad in tampered:
        assert_invalid(anon_api.get("/therapists", limit=2, cursor=bad), "cursor")


def test_a_cursor_is_for_its_own_mode(anon_api, many):
    cursor = anon_api.get("/therapists", limit=2)["X-Next-Cursor"]

    assert_invalid(anon_api.get("/therapists", limit=2, mode="video", cursor=cursor), "cursor")
    assert anon_api.get("/therapists", limit=2, cursor=cursor).status_code == 200


# A therapist's open times -------------------------------------------------------------------
@pytest.fixture
def times(anna):
    return {
        "all": slot_for(anna, "2027-01-12 09:00", modes=["video"]),
        "existing": slot_for(anna, "2027-01-12 11:00", audience="existing"),
        "later": slot_for(anna, "2027-01-20 09:00", duration_minutes=60, price=1300),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return [s["id"] for s in response.json()]


def test_it_answers_the_open_times_with_every_field(anon_api, anna, times):
    response = anon_api.get(f"/therapists/{anna.pk}/slots")

    assert response.status_code == 200
    assert response.json() == [
        {"id": times["all"].pk, "start": "2027-01-12T09:00:00+01:00", "end": "2027-01-12T09:45:00+01:00",
         "duration_minutes": 45, "price": 1000, "modes": ["video"], "audience": "all"},
        {"id": times["later"].pk, "start": "2027-01-20T09:00:00+01:00", "end": "2027-01-20T10:00:00+01:00",
         "duration_minutes": 60, "price": 1300, "modes": ["video", "onsite"], "audience": "all"},
    ]


def test_it_hides_existing_only_times_from_anonymous_visitors(anon_api, anna, times):
    assert times["existing"].pk not in ids(anon_api.get(f"/therapists/{anna.pk}/slots"))


def test_it_hides_existing_only_times_from_new_clients(nora_api, anna, times):
    assert ids(nora_api.get(f"/therapists/{anna.pk}/slots")) == [times["all"].pk, times["later"].pk]


def test_it_shows_existing_only_times_to_her_clients(erik_api, anna, times):
    assert ids(erik_api.get(f"/therapists/{anna.pk}/slots")) == [times["all"].pk, times["existing"].pk, times["later"].pk]


def test_another_therapists_client_is_a_new_client_here(anna, bo, times, make_client):
    bos = make_client(first="Bertil", therapist=bo)

    assert times["existing"].pk not in ids(api_for(bos.user).get(f"/therapists/{anna.pk}/slots"))


def test_booked_and_past_times_are_not_open(erik_api, anna, erik, times):
    booked(times["all"], erik)
    past_slot(anna, "2027-01-11 07:30")

    assert ids(erik_api.get(f"/therapists/{anna.pk}/slots")) == [times["existing"].pk, times["later"].pk]


def test_a_time_cancelled_is_open_again(anon_api, anna, erik, times):
    from domain.services import booking_cancel

    booking_cancel(booking=booked(times["all"], erik), actor=erik.user)

    assert times["all"].pk in ids(anon_api.get(f"/therapists/{anna.pk}/slots"))


def test_it_answers_only_the_window_asked_for(anon_api, anna, times):
    response = anon_api.get(f"/therapists/{anna.pk}/slots", start="2027-01-19T00:00:00+01:00", end="2027-01-26T00:00:00+01:00")

    assert ids(response) == [times["later"].pk]


def test_the_window_accepts_any_offset(anon_api, anna, times):
    response = anon_api.get(f"/therapists/{anna.pk}/slots", start="2027-01-12T07:00:00Z", end="2027-01-12T09:00:00Z")

    assert ids(response) == [times["all"].pk]


@pytest.mark.parametrize(
    "window, field",
    [
        ({"start": "2027-01-12T00:00:00", "end": "2027-01-13T00:00:00+01:00"}, "start"),
        ({"start": "2027-01-12T00:00:00+01:00", "end": "2027-01-13T00:00:00"}, "end"),
        ({"start": "2027-01-13T00:00:00+01:00", "end": "2027-01-12T00:00:00+01:00"}, "end"),
        ({"start": "when?"}, "start"),
        ({"start": "0001-01-01T00:00:00+05:00"}, "start"),
        ({"end": "9999-12-31T23:00:00-05:00"}, "end"),
    ],
)
def test_it_refuses_a_bad_window_naming_the_field(anon_api, anna, times, window, field):
    assert_invalid(anon_api.get(f"/therapists/{anna.pk}/slots", **window), field)


def test_a_therapist_without_client_booster_is_not_found_by_anonymous_visitors(anon_api, bo):
    slot_for(bo, "2027-01-12 09:00")

    assert_not_found(anon_api.get(f"/therapists/{bo.pk}/slots"))


def test_a_therapist_without_client_booster_is_not_found_by_new_clients(nora_api, bo):
    slot_for(bo, "2027-01-12 09:00")

    assert_not_found(nora_api.get(f"/therapists/{bo.pk}/slots"))


def test_a_therapist_without_client_booster_is_seen_by_her_own_clients(bo, make_client):
    everyone = slot_for(bo, "2027-01-12 09:00")
    existing = slot_for(bo, "2027-01-12 10:00", audience="existing")
    bos = make_client(first="Bertil", therapist=bo)

    assert ids(api_for(bos.user).get(f"/therapists/{bo.pk}/slots")) == [everyone.pk, existing.pk]


@pytest.mark.parametrize("therapist_id", ["999999", str(10**20), "0"])
def test_a_missing_therapist_is_not_found(anon_api, therapist_id):
    assert_not_found(anon_api.get(f"/therapists/{therapist_id}/slots"))


def test_a_therapist_looking_sees_what_anyone_sees(bo_api, anna, times):
    assert ids(bo_api.get(f"/therapists/{anna.pk}/slots")) == [times["all"].pk, times["later"].pk]


def test_the_answers_rendered_without_validation_keep_to_their_schemas(anon_api, erik_api, anna, times):
    """The listing and the open times skip ninja's response validation (api.api.unvalidated):
    their answers are checked here against the schemas the document publishes."""
    from pydantic import TypeAdapter

    from api.schemas import ListingOut, OpenSlotOut

    listing = anon_api.get("/therapists").json()
    assert [t["id"] for t in listing] == [anna.pk]
    assert TypeAdapter(list[ListingOut]).validate_python(listing)
    for api in (anon_api, erik_api):
        open_times = api.get(f"/therapists/{anna.pk}/slots").json()
        assert open_times
        assert TypeAdapter(list[OpenSlotOut]).validate_python(open_times)
