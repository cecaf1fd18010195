"""Matching (R9): boosted therapists ranked by fit (area, kind, language) and by a fitting
open time; each with its reasons. Time is Monday 2027-01-11 08:00 in Stockholm."""

import pytest

from conftest import at
from domain.matching import Wish, therapists_matching
from domain.models import Booking
from domain.selectors import listing_choices, therapist_listing
from domain.services import slot_create

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def people(make_therapist, bo):
    """Three boosted therapists with different profiles, and Bo (no Client Booster) who fits
    every wish perfectly."""
    def profile(t, **fields):
        for k, v in fields.items():
            setattr(t, k, v)
        t.save()
        return t

    exact = profile(make_therapist(email="e@example.se", first="Ella", last="Ek"),
                    areas=["Ångest", "stress"], languages=["sv", "en"], city="Uppsala", default_onsite=False)
    slot_create(therapist=exact, actor=None, start=at("2027-01-13 17:30"), modes=["video"])  # Wednesday evening
    area_only = profile(make_therapist(email="a@example.se", first="Ada", last="Al"),
                        areas=["ångest"], languages=["sv"], city="Stockholm")
    slot_create(therapist=area_only, actor=None, start=at("2027-01-11 09:00"))  # sooner, but Monday morning
    other = profile(make_therapist(email="o@example.se", first="Olle", last="Om"),
                    areas=["sömn"], languages=["fa"], city="Stockholm")
    slot_create(therapist=other, actor=None, start=at("2027-01-11 10:00"))
    profile(bo, areas=["ångest"], languages=["en"], default_onsite=False)
    slot_create(therapist=bo, actor=None, start=at("2027-01-13 17:30"), modes=["video"])
    return {"exact": exact, "area_only": area_only, "other": other, "bo": bo}


WISH = Wish(area="angest", mode="video", language="en", days=frozenset({2}), parts=frozenset({"evening"}))


def test_an_exact_fit_comes_first_even_when_another_has_an_earlier_time(people):
    ranked = therapists_matching(WISH)

    assert [m.therapist for m in ranked] == [people["exact"], people["area_only"], people["other"]]
    first = ranked[0]
    assert [code for code, _ in first.reasons] == ["area", "mode", "language", "times"]
    assert first.first_fitting == at("2027-01-13 17:30") and first.fitting_count == 1


def test_a_therapist_without_client_booster_is_never_matched(people):
    assert people["bo"] not in [m.therapist for m in therapists_matching(WISH)]
    assert people["bo"] not in therapist_listing()


def test_the_reasons_say_when_no_open_time_fits(people):
    ranked = {m.therapist: m for m in therapists_matching(WISH)}

    assert ranked[people["area_only"]].reasons == [
        ("area", {"area": "angest"}), ("mode", {"mode": "video"}), ("other_times", {"first": at("2027-01-11 09:00")}),
    ]


def test_a_booked_or_existing_only_time_is_no_fit(people, make_client):
    exact = people["exact"]
    [slot] = exact.slots.all()
    slot.audience = "existing"
    slot.save()

    [match] = [m for m in therapists_matching(WISH) if m.therapist == exact]

    assert match.first_fitting is None and ("no_times", {}) in match.reasons
    assert Booking.objects.count() == 0


def test_with_no_wishes_the_soonest_open_time_comes_first(people):
    ranked = therapists_matching(Wish())

    assert [m.therapist for m in ranked][:2] == [people["area_only"], people["other"]]


def test_the_listing_filters_by_city_language_area_and_kind(people):
    def names(**f):
        return [t.first_name for t in therapist_listing(**f)]

    assert names() == ["Ada", "Olle", "Ella"]  # the soonest open time first
    assert names(city="stockholm") == ["Ada", "Olle"]
    assert names(language="EN") == ["Ella"]
    assert names(area="angest") == ["Ada", "Ella"]
    assert names(mode="onsite") == ["Ada", "Olle"]
    assert names(mode="video", area="Ångest", language="sv", city="Uppsala") == ["Ella"]


def test_the_filter_choices_come_from_boosted_therapists_only(people):
    choices = listing_choices()

    assert choices["cities"] == ["Stockholm", "Uppsala"]
    assert choices["languages"] == ["en", "fa", "sv"]
    assert choices["areas"] == ["Ångest", "sömn", "stress"]
