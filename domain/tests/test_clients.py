"""client_add (R12, R24) and the client list search of "Boka med klient" (R13).

A person is one Client on the whole platform, found by personnummer; each therapist reaches
her through her own ClientLink and sees nothing of the others."""

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
    # She is invited to choose a password: a login that cannot log in until she has (issue 4).
    assert row.user.email == "ase.larsson@example.se" and not row.user.has_usable_password()
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


# One person, one Client, whoever adds her (R12, R24).


def test_a_second_therapist_adding_the_same_person_links_to_her(anna, bo, make_client, now):
    erik = make_client(therapist=anna, source="platform")
    annas_other = make_client(first="Frida", therapist=anna)

    added = add(bo, first="Erik", last="Andersson", personnummer=erik.personnummer[2:].replace("-", ""),
                email="erik.new@example.se")

    assert added.pk == erik.pk
    assert added.source == "own"
    assert Client.objects.count() == 2
    row = Client.objects.get(pk=erik.pk)
    # What she has on file stays; Bo's spelling does not overwrite it.
    assert (row.first_name, row.last_name, row.email) == ("Erik", "Eriksson", erik.email)
    assert set(ClientLink.objects.filter(client=erik).values_list("therapist", "source")) == {
        (anna.pk, "platform"), (bo.pk, "own")
    }
    # Bo sees his link only: his source, one row, none of Anna's other clients.
    results = list(selectors.client_search(bo))
    assert [(c.pk, c.source) for c in results] == [(erik.pk, "own")]
    assert annas_other.pk not in {c.pk for c in selectors.client_search(bo, "F")}
    [entry] = AuditEntry.objects.filter(action="client.added", therapist=bo)
    assert entry.target_id == erik.pk
    assert "anna" not in json.dumps(entry.after).lower()


def test_anna_still_sees_her_own_source_after_bo_added_the_same_person(anna, bo, make_client, now):
    erik = make_client(therapist=anna, source="platform")

    add(bo, first="Erik", last="Eriksson", personnummer=erik.personnummer, email=erik.email)

    assert [(c.pk, c.source) for c in selectors.client_search(anna, "erik")] == [(erik.pk, "platform")]


def test_adding_the_same_client_again_changes_nothing(anna, erik, now):
    again = add(anna, first="Erik", last="Eriksson", personnummer=erik.personnummer, email=erik.email)
    twice = add(anna, first="Erik", last="Eriksson", personnummer=erik.personnummer[2:], email=erik.email)

    assert again.pk == twice.pk == erik.pk
    assert (again.source, twice.source) == ("own", "own")
    assert Client.objects.count() == 1
    assert ClientLink.objects.filter(therapist=anna, client=erik).count() == 1
    assert not AuditEntry.objects.filter(action="client.added").exists()


def test_it_refuses_an_email_address_another_person_uses(anna, erik, now):
    invalid("email", therapist=anna, first="Eva", personnummer=pnr("19900101"), email=erik.email.upper())

    assert list(Client.objects.all()) == [erik]
    assert ClientLink.objects.count() == 1
    assert not AuditEntry.objects.exists()


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
