"""GET and POST /therapist/clients: her client list (R12), the first-name search of "Boka med
klient" (R13), and adding her own clients with a validated personnummer (R24)."""

import pytest

from api.tests.helpers import assert_invalid, self_booked, slot_for
from conftest import pnr
from domain.models import Client, ClientLink, OutboundEmail

pytestmark = pytest.mark.usefixtures("now")

MARTA = pnr("19900101", "234")
MARTA_BAD_CHECK_DIGIT = MARTA[:-1] + str((int(MARTA[-1]) + 1) % 10)


def client_body(**overrides):
    return {
        "first_name": "Märta", "last_name": "Holm", "personnummer": pnr("19900101", "234"),
        "email": "marta@example.se", **overrides,
    }


# The list -----------------------------------------------------------------------------------
def test_it_lists_her_clients_with_every_field(anna_api, erik):
    response = anna_api.get("/therapist/clients")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": erik.pk,
            "first_name": "Erik",
            "last_name": "Eriksson",
            "personnummer": erik.personnummer,
            "personnummer_verified": False,
            "email": erik.email,
            "phone": "",
            "source": "own",
        }
    ]


def test_it_lists_only_her_own_clients(anna_api, bo_api, bo, erik, nora, make_client):
    bos = make_client(first="Bertil", therapist=bo)

    assert [c["id"] for c in anna_api.get("/therapist/clients").json()] == [erik.pk]
    assert [c["id"] for c in bo_api.get("/therapist/clients").json()] == [bos.pk]


def test_a_new_client_who_books_joins_her_list_from_the_platform(anna_api, anna, erik, nora):
    self_booked(slot_for(anna, "2027-01-12 09:00"), nora)

    clients = {c["id"]: c for c in anna_api.get("/therapist/clients").json()}

    assert clients[nora.pk]["source"] == "platform"
    assert clients[nora.pk]["personnummer"] == nora.personnummer
    assert clients[erik.pk]["source"] == "own"


@pytest.fixture
def namesakes(anna, make_client):
    """Anna's list: Åse, Åsa, Ärla, Örjan, Olle, Asta and Erik Ström."""
    made = {}
    for first in ("Åse", "Åsa", "Ärla", "Örjan", "Olle", "Asta", "Erik"):
        made[first] = make_client(first=first, last="Ström", therapist=anna)
    return made


@pytest.mark.parametrize(
    "q, expected",
    [
        ("ås", ["Åsa", "Åse", "Asta"]),  # accent-insensitive both ways (domain/search.py)
        ("Ås", ["Åsa", "Åse", "Asta"]),
        ("ÅS", ["Åsa", "Åse", "Asta"]),
        ("as", ["Åsa", "Åse", "Asta"]),
        ("AS", ["Åsa", "Åse", "Asta"]),
        ("åse", ["Åse"]),
        ("ase", ["Åse"]),
        ("är", ["Ärla"]),
        ("ÄRL", ["Ärla"]),
        ("arl", ["Ärla"]),
        ("a", ["Åsa", "Åse", "Asta", "Ärla"]),
        ("ö", ["Olle", "Örjan"]),
        ("ÖR", ["Örjan"]),
        ("orj", ["Örjan"]),
        ("e", ["Erik"]),
        ("se", []),
        ("rjan", []),
        ("Ström", []),
        ("x", []),
    ],
)
def test_it_finds_clients_by_first_name_prefix_ignoring_case_and_accents(anna_api, namesakes, q, expected):
    response = anna_api.get("/therapist/clients", q=q)

    assert response.status_code == 200
    assert sorted(c["first_name"] for c in response.json()) == sorted(expected)


def test_a_search_shows_the_personnummer_to_tell_namesakes_apart(anna_api, anna, make_client):
    one = make_client(first="Åsa", last="Ek", birth="19800101", therapist=anna)
    two = make_client(first="Åsa", last="Ek", birth="19910202", therapist=anna)

    found = anna_api.get("/therapist/clients", q="åsa").json()

    assert {(c["id"], c["personnummer"]) for c in found} == {(one.pk, one.personnummer), (two.pk, two.personnummer)}


def test_a_search_never_finds_another_therapists_client(anna_api, bo, make_client):
    make_client(first="Åse", last="Berg", therapist=bo)

    assert anna_api.get("/therapist/clients", q="åse").json() == []


def test_an_empty_search_lists_everyone(anna_api, namesakes):
    assert len(anna_api.get("/therapist/clients", q="").json()) == 7
    assert len(anna_api.get("/therapist/clients", q="  ").json()) == 7


@pytest.mark.parametrize("q", ["%", "_", "'; DROP TABLE domain_client; --", "å" * 500, "\\", "🙂", "Å\x00"])
def test_odd_searches_find_nothing_and_break_nothing(anna_api, namesakes, q):
    response = anna_api.get("/therapist/clients", q=q)

    assert response.status_code == 200
    assert response.json() == []


def test_a_client_may_not_read_a_client_list(erik_api):
    assert erik_api.get("/therapist/clients").status_code == 403


def test_the_client_list_needs_a_login(anon_api):
    assert anon_api.get("/therapist/clients").status_code == 401


# Adding -------------------------------------------------------------------------------------
def test_it_adds_her_own_client(anna_api, anna):
    response = anna_api.post("/therapist/clients", client_body(phone="070-123 45 67"))

    assert response.status_code == 201
    client = Client.objects.get(email="marta@example.se")
    assert response.json() == {
        "id": client.pk,
        "first_name": "Märta",
        "last_name": "Holm",
        "personnummer": pnr("19900101", "234"),
        "personnummer_verified": False,
        "email": "marta@example.se",
        "phone": "070-123 45 67",
        "source": "own",
    }
    assert (client.first_name, client.last_name, client.personnummer, client.phone) == (
        "Märta", "Holm", pnr("19900101", "234"), "070-123 45 67",
    )
    assert client.user is None  # her record, until she accepts the invitation mailed to her (R26)
    assert ClientLink.objects.get(therapist=anna, client=client).source == "own"
    assert OutboundEmail.objects.get(kind="client_invitation").to == "marta@example.se"


def test_the_added_client_is_on_her_list_and_found_by_search(anna_api):
    added = anna_api.post("/therapist/clients", client_body()).json()

    assert [c["id"] for c in anna_api.get("/therapist/clients", q="mar").json()] == [added["id"]]


@pytest.mark.parametrize(
    "written",
    [
        lambda full: full,  # 19900101-2341
        lambda full: full.replace("-", ""),  # 199001012341
        lambda full: full[2:],  # 900101-2341
        lambda full: full[2:].replace("-", ""),  # 9001012341
        lambda full: f" {full} ",
    ],
    ids=["12-digit-dash", "12-digit", "10-digit-dash", "10-digit", "spaces"],
)
def test_it_accepts_the_common_forms_and_answers_12_digits(anna_api, written):
    full = pnr("19900101", "234")

    response = anna_api.post("/therapist/clients", client_body(personnummer=written(full)))

    assert response.status_code == 201, response.content
    assert response.json()["personnummer"] == full
    assert Client.objects.get(pk=response.json()["id"]).personnummer == full


@pytest.mark.parametrize("written", [lambda full: full[2:].replace("-", "+"), lambda full: full.replace("-", "+")],
                         ids=["10-digit-plus", "12-digit-plus"])
def test_a_plus_means_a_hundred_years_or_more(anna_api, written):
    full = pnr("19200101", "234")

    response = anna_api.post("/therapist/clients", client_body(personnummer=written(full)))

    assert response.status_code == 201, response.content
    assert response.json()["personnummer"] == full


def test_a_10_digit_number_without_plus_is_this_century_when_that_date_has_passed(anna_api):
    full = pnr("20100101", "234")

    assert anna_api.post("/therapist/clients", client_body(personnummer=full[2:])).json()["personnummer"] == full


def test_it_accepts_a_samordningsnummer(anna_api):
    full = pnr("19900161", "234")  # born the 1st, day + 60

    response = anna_api.post("/therapist/clients", client_body(personnummer=full))

    assert response.status_code == 201, response.content
    assert response.json()["personnummer"] == full


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(MARTA_BAD_CHECK_DIGIT, id="bad-checksum"),
        pytest.param("19900132-2348", id="no-such-day"),
        pytest.param("19901301-2343", id="no-such-month"),
        pytest.param("123", id="too-short"),
        pytest.param("1990010123456", id="13-digits"),
        pytest.param("19900101/2341", id="slash"),
        pytest.param("abcdefgh-ijkl", id="letters"),
        pytest.param("", id="empty"),
        pytest.param("20990101-2345", id="born-in-the-future"),
    ],
)
def test_it_refuses_an_invalid_personnummer_naming_it(anna_api, number):
    response = anna_api.post("/therapist/clients", client_body(personnummer=number))

    assert_invalid(response, "personnummer", statuses=(422,))
    assert not Client.objects.filter(email="marta@example.se").exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("first_name", ""),
        ("first_name", " "),
        ("last_name", None),
        ("email", "marta"),
        ("email", ""),
        ("personnummer", None),
        ("personnummer", 199001012341),
        ("first_name", "x" * 151),
        ("phone", "1" * 41),
        ("first_name", "Mär\x00ta"),  # PostgreSQL cannot store a NUL
        ("last_name", "\x00"),
        ("phone", "070\x00"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(anna_api, field, value):
    response = anna_api.post("/therapist/clients", client_body(**{field: value}))

    assert_invalid(response, field)
    assert not Client.objects.filter(email="marta@example.se").exists()


@pytest.mark.parametrize("field", ["first_name", "last_name", "personnummer", "email"])
def test_it_needs_every_field_but_the_phone(anna_api, field):
    body = client_body()
    del body[field]

    assert_invalid(anna_api.post("/therapist/clients", body), field)


def test_it_refuses_malformed_json(anna_api):
    assert anna_api.post("/therapist/clients", '{"first_name": "Märta"').status_code == 400


def test_adding_a_person_on_file_answers_only_what_she_typed(bo_api, bo, erik, make_client):
    """Finding 2: a personnummer and an address of someone on Tidbok (Erik, Anna's client with
    an account) give Bo a new record of what he typed: no name, no address, no id of Erik's,
    no link to Erik's account or bookings."""
    response = bo_api.post(
        "/therapist/clients", client_body(first_name="E", last_name="X", personnummer=erik.personnummer[2:],
                                          email="typed@example.se"),
    )

    assert response.status_code == 201
    body = response.json()
    record = Client.objects.get(pk=body["id"])
    assert body == {"id": record.pk, "first_name": "E", "last_name": "X", "personnummer": erik.personnummer,
                    "personnummer_verified": False, "email": "typed@example.se", "phone": "", "source": "own"}
    assert record.pk != erik.pk and record.user is None
    assert "Eriksson" not in response.content.decode() and erik.email not in response.content.decode()
    assert ClientLink.objects.filter(client=erik).count() == 1  # Anna's, as before
    # The same with the person's own address: still a record of Bo's, joined only by her invitation.
    same = bo_api.post("/therapist/clients", client_body(first_name="Erik", last_name="Eriksson",
                                                         personnummer=make_client().personnummer, email=erik.email))
    assert same.status_code == 201 and same.json()["id"] not in (erik.pk, record.pk)


def test_adding_a_personnummer_twice_to_her_own_list_is_refused_naming_it(anna_api, erik):
    first = anna_api.post("/therapist/clients", client_body())
    again = anna_api.post("/therapist/clients", client_body(first_name="Marta", personnummer=pnr("19900101", "234")[2:]))

    assert first.status_code == 201
    assert_invalid(again, "personnummer", statuses=(422,))
    assert ClientLink.objects.filter(therapist__user__email="anna@example.se").count() == 2  # Erik and Märta


def test_a_client_may_not_add_clients(erik_api):
    assert erik_api.post("/therapist/clients", client_body()).status_code == 403
    assert not Client.objects.filter(email="marta@example.se").exists()


def test_adding_clients_needs_a_login(anon_api):
    assert anon_api.post("/therapist/clients", client_body()).status_code == 401
    assert not Client.objects.filter(email="marta@example.se").exists()
