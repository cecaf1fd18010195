"""client_add (R12, R24, R26) and the client list search of "Boka med klient" (R13).

A therapist's own client is her record of what she typed; a typed personnummer links it to
nobody else's record or account (the invitation does that: test_invitation.py)."""

import json

import pytest
from django.core.exceptions import ValidationError

from conftest import pnr
from domain import selectors
from domain.models import AuditEntry, Client, ClientLink
from domain.search import fold
from domain.services import client_add


def add(therapist, first="Åse", last="Larsson", personnummer=None, email=None, **kwargs):
    return client_add(
        therapist=therapist, actor=therapist.user, first_name=first, last_name=last,
        personnummer=pnr("19700101", "246") if personnummer is None else personnummer,
        email=email or f"{fold(first)}.{fold(last)}@example.se", **kwargs,
    )


def invalid(field, **kwargs):
    with pytest.raises(ValidationError) as caught:
        add(**kwargs)
    assert field in caught.value.message_dict, caught.value.message_dict
    return caught.value


def found(therapist, q):
    return [(c.first_name, c.last_name) for c in selectors.client_search(therapist, q)]


def test_the_therapist_adds_her_own_client(anna, now):
    number = pnr("19700101", "246")

    client = add(anna, first=" Åse ", last="Larsson", personnummer=number, email=" Ase.Larsson@Example.SE ",
                 phone=" 070-123 45 67 ")

    assert client.source == "own"
    row = Client.objects.get(pk=client.pk)
    assert (row.first_name, row.last_name, row.personnummer) == ("Åse", "Larsson", number)
    assert (row.email, row.phone) == ("ase.larsson@example.se", "070-123 45 67")
    # Her record: no account until the person accepts the invitation mailed to her (R26).
    assert row.user is None and not row.personnummer_verified
    assert ClientLink.objects.get(client=row).therapist == anna
    assert ClientLink.objects.get(client=row).source == "own"


def test_the_audit_entry_of_an_added_client_holds_no_personnummer(anna, now):
    number = pnr("19700101", "246")

    client = add(anna, personnummer=number)

    [entry] = AuditEntry.objects.filter(action="client.added")
    assert (entry.actor, entry.therapist, entry.target_type, entry.target_id) == (anna.user, anna, "client", client.pk)
    assert entry.after == {"first_name": "Åse", "last_name": "Larsson", "email": "ase.larsson@example.se",
                           "source": "own"}
    written = json.dumps([entry.before, entry.after])
    for form in (number, number.replace("-", ""), number[2:], number[2:8], number[-4:]):
        assert form not in written


# The personnummer: validated and kept in one form (R24).


@pytest.mark.parametrize(
    "written",
    ["19850312-1231", "198503121231", "850312-1231", "8503121231", " 850312 1231 ", "19850312 1231"],
)
def test_it_keeps_every_written_form_of_a_personnummer_as_one(anna, now, written):
    assert pnr("19850312", "123") == "19850312-1231"

    client = add(anna, personnummer=written)

    assert Client.objects.get(pk=client.pk).personnummer == "19850312-1231"


def test_it_reads_the_century_of_a_centenarian_from_the_plus(anna, now):
    client = add(anna, personnummer=pnr("19150312", "123")[2:].replace("-", "+"))

    assert Client.objects.get(pk=client.pk).personnummer == pnr("19150312", "123")


def test_it_accepts_a_samordningsnummer(anna, now):
    number = pnr("19850372", "123")  # born on the 12th: the day plus 60

    client = add(anna, personnummer=number[2:])

    assert Client.objects.get(pk=client.pk).personnummer == number


@pytest.mark.parametrize(
    "written",
    [
        "19850312-1232",  # wrong check digit
        "19850230-1234",  # no 30 February
        pnr("19851301"),  # no thirteenth month
        pnr("19850332"),  # no 32nd day, and too small for a samordningsnummer
        pnr("19850392"),  # a samordningsnummer for the 32nd
        pnr("20270312"),  # born in the future
        "850312-123",
        "19850312-12310",
        "19850312/1231",
        "19850312-123A",
        "ÅÄÖ",
        "",
    ],
)
def test_it_refuses_a_personnummer_that_is_not_one(anna, now, written):
    invalid("personnummer", therapist=anna, personnummer=written)

    assert not Client.objects.exists()
    assert not ClientLink.objects.exists()
    assert not AuditEntry.objects.exists()


# R26: what a therapist types links to nobody.


def test_a_personnummer_on_file_makes_a_new_record_of_hers_and_reveals_nothing(anna, bo, make_client, now):
    """Finding 2: Bo types the personnummer of Anna's client Erik; he gets a record of what
    he typed, and nothing of Erik's name, address, account, list entries or bookings."""
    erik = make_client(therapist=anna, source="platform")

    added = add(bo, first="E", last="Andersson", personnummer=erik.personnummer[2:].replace("-", ""),
                email="typed@example.se")

    assert added.pk != erik.pk and added.source == "own"
    row = Client.objects.get(pk=added.pk)
    assert (row.first_name, row.last_name, row.email, row.user) == ("E", "Andersson", "typed@example.se", None)
    assert set(ClientLink.objects.filter(client=erik).values_list("therapist", "source")) == {(anna.pk, "platform")}
    assert [(c.pk, c.source) for c in selectors.client_search(bo)] == [(added.pk, "own")]
    [entry] = AuditEntry.objects.filter(action="client.added", therapist=bo)
    assert entry.target_id == added.pk
    assert "eriksson" not in json.dumps(entry.after).lower()


def test_a_booking_of_the_new_record_tells_nothing_of_another_therapists_visits(anna, bo, make_client, now):
    """Finding 2: first_visit is about the record, so Bo cannot learn that Erik saw Anna."""
    from datetime import timedelta

    from conftest import at
    from domain.models import Slot
    from domain.services import booking_create_by_therapist

    erik = make_client(therapist=anna)
    start = at("2027-01-12 09:00")
    annas = Slot.objects.create(therapist=anna, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
    booking_create_by_therapist(therapist=anna, slot=annas, client=erik, mode="video", actor=anna.user)
    record = add(bo, first="Erik", last="Eriksson", personnummer=erik.personnummer, email=erik.email)
    bos = Slot.objects.create(therapist=bo, start_at=start + timedelta(days=1), end_at=start + timedelta(days=1, minutes=45),
                              price=1000)

    booking = booking_create_by_therapist(therapist=bo, slot=bos, client=record, mode="video", actor=bo.user)

    assert booking.first_visit is True
    assert selectors.calendar_for_therapist(bo, start, start + timedelta(days=2))[0].color == "yellow"


def test_two_therapists_may_each_have_a_record_with_one_personnummer(anna, bo, now):
    number = pnr("19700101", "246")

    a, b = add(anna, personnummer=number), add(bo, personnummer=number)

    assert a.pk != b.pk
    assert Client.objects.filter(personnummer=number).count() == 2


def test_the_same_personnummer_twice_on_her_own_list_is_refused(anna, now):
    add(anna, personnummer=pnr("19700101", "246"))

    invalid("personnummer", therapist=anna, first="Åsa", personnummer=pnr("19700101", "246")[2:])

    assert Client.objects.count() == 1


def test_an_email_address_another_person_uses_is_no_refusal(anna, erik, now):
    """An address proves nothing either: refusing it would tell that it is known."""
    added = add(anna, first="Eva", personnummer=pnr("19900101"), email=erik.email.upper())

    assert added.pk != erik.pk and Client.objects.get(pk=added.pk).email == erik.email


@pytest.mark.parametrize(
    ("field", "values"),
    [("first_name", {"first": "Åse\nTo: x@y.se"}), ("last_name", {"last": "Lars\rson"}), ("phone", {"phone": "070\x0b1"}),
     ("first_name", {"first": "Å\x00se"})],
)
def test_it_refuses_control_characters_naming_the_field(anna, now, field, values):
    invalid(field, therapist=anna, **values)

    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("field", "values"),
    [("email", {"email": "not-an-address"}), ("first_name", {"first": "   "}), ("last_name", {"last": "x" * 151})],
)
def test_it_refuses_missing_or_bad_details(anna, now, field, values):
    invalid(field, therapist=anna, **values)

    assert not Client.objects.exists()


# R13: "Boka med klient" suggests clients by the start of the first name.


@pytest.fixture
def annas_list(anna, bo, make_client):
    make_client(first="Åse", last="Larsson", birth="19800505", therapist=anna)
    make_client(first="Östen", last="Ek", birth="19600202", therapist=anna)
    make_client(first="Märta", last="Holm", birth="19900303", therapist=anna)
    make_client(first="Oskar", last="Lind", birth="19950101", therapist=anna)
    make_client(first="Asta", last="Berg", birth="19750808", therapist=anna)
    make_client(first="Åse", last="Bergström", birth="19820101", therapist=bo)
    make_client(first="Åse", last="Nyström", birth="19830101")


@pytest.mark.parametrize("q", ["ase", "ÅSE", "Åse", "åse", "ASE", "A\u030ase", "  åse "])
def test_it_finds_a_client_ignoring_case_and_accents(anna, annas_list, q):
    assert found(anna, q) == [("Åse", "Larsson")]


@pytest.mark.parametrize("q", ["ö", "Ö", "o", "O", "öst", "ost"])
def test_o_and_o_with_dots_both_find_osten(anna, annas_list, q):
    assert ("Östen", "Ek") in found(anna, q)


def test_a_longer_prefix_tells_osten_from_oskar(anna, annas_list):
    assert found(anna, "o") == [("Oskar", "Lind"), ("Östen", "Ek")]
    assert found(anna, "ös") == [("Oskar", "Lind"), ("Östen", "Ek")]
    assert found(anna, "öst") == [("Östen", "Ek")]
    assert found(anna, "osk") == [("Oskar", "Lind")]


@pytest.mark.parametrize("q", ["mar", "MÄR", "mä", "Märta"])
def test_a_with_dots_matches_both_ways(anna, annas_list, q):
    assert found(anna, q) == [("Märta", "Holm")]


def test_it_matches_the_start_of_the_first_name_only(anna, annas_list):
    assert found(anna, "sten") == []
    assert found(anna, "Larsson") == []
    assert found(anna, "a") == [("Åse", "Larsson"), ("Asta", "Berg")]


def test_it_lists_every_client_of_hers_when_nothing_is_typed(anna, annas_list):
    assert sorted(found(anna, "")) == sorted(
        [("Åse", "Larsson"), ("Östen", "Ek"), ("Märta", "Holm"), ("Oskar", "Lind"), ("Asta", "Berg")]
    )


def test_it_suggests_only_this_therapists_clients(anna, bo, annas_list):
    assert found(bo, "ase") == [("Åse", "Bergström")]
    assert ("Åse", "Nyström") not in found(anna, "åse")


def test_it_treats_wildcards_as_letters(anna, annas_list):
    assert found(anna, "%") == []
    assert found(anna, "_se") == []


def test_namesakes_are_both_suggested_and_told_apart_by_personnummer(anna, make_client):
    first = make_client(first="Åse", last="Larsson", birth="19800505", therapist=anna)
    second = make_client(first="Åse", last="Larsson", birth="19911111", therapist=anna)

    results = list(selectors.client_search(anna, "ase"))

    assert {c.pk for c in results} == {first.pk, second.pk}
    assert {c.personnummer for c in results} == {first.personnummer, second.personnummer}
    assert first.personnummer != second.personnummer


def test_a_renamed_client_is_found_by_her_new_name(anna, make_client):
    client = make_client(first="Asa", last="Larsson", therapist=anna)
    client.first_name = "Åsa"
    client.save(update_fields=["first_name"])

    assert [c.pk for c in selectors.client_search(anna, "åsa")] == [client.pk]
    assert Client.objects.get(pk=client.pk).search_name == "asa"
    client.first_name = "Östen"
    client.save(update_fields=["first_name"])
    assert [c.pk for c in selectors.client_search(anna, "ost")] == [client.pk]
    assert found(anna, "asa") == []
