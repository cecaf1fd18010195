"""What a personnummer proven by an eID does (domain/services/eid.py): the claim's form, the
account that carries it, connecting a client, and the new account made with an e-mail
address (R26, R27). The flows through a real OpenID provider are in tidbok/tests/test_eid.py."""

import pytest
from django.core.exceptions import ValidationError

from conftest import pnr
from domain.models import AccountRequest, Client, OutboundEmail, User
from domain.services import (
    AccountRequestsThrottled,
    account_request_process,
    account_signup_request,
    client_add,
    client_personnummer_verify,
)
from domain.services.eid import eid_account, eid_account_request, eid_connect, eid_personnummer

NUMBER = pnr("19880808", "357")


def request(**overrides):
    fields = {"email": "nils@example.se", "personnummer": NUMBER, "first_name": "Nils", "last_name": "Nyström",
              "source": "10.0.0.1"} | overrides
    return eid_account_request(**fields)


@pytest.mark.parametrize("claim", [NUMBER.replace("-", ""), NUMBER, int(NUMBER.replace("-", ""))])
def test_a_twelve_digit_claim_is_a_personnummer(claim):
    assert eid_personnummer(claim) == NUMBER


@pytest.mark.parametrize("claim", [NUMBER.replace("-", "")[2:], NUMBER[2:], "", None, ["19880808-3574"], "1988080835x4",
                                   NUMBER.replace("-", "")[:-1] + "0"])
def test_anything_else_is_refused(claim):
    with pytest.raises(ValidationError):
        eid_personnummer(claim)


def test_the_account_of_a_personnummer_is_the_one_that_carries_it_verified(erik, nora):
    Client.objects.filter(pk=nora.pk).update(personnummer=NUMBER)  # only typed
    assert eid_account(NUMBER) is None
    client_personnummer_verify(user=erik.user, personnummer=NUMBER)
    assert eid_account(NUMBER) == erik.user
    User.objects.filter(pk=erik.user.pk).update(is_active=False)
    assert eid_account(NUMBER) is None


def test_a_new_person_gets_an_account_without_password_her_records_and_a_verification_link(anna, db):
    record = client_add(therapist=anna, actor=anna.user, first_name="Nils", last_name="N", personnummer=NUMBER,
                        email="nils.gammal@example.se")

    assert request(next_url="/mina-bokningar/") == "created"

    user = User.objects.get(email="nils@example.se")
    assert (user.email_verified, user.has_usable_password(), user.first_name) == (False, False, "Nils")
    assert (user.client.personnummer, user.client.personnummer_verified) == (NUMBER, True)
    assert not Client.objects.filter(pk=record.pk).exists()
    assert anna.client_links.get().client == user.client
    mail = OutboundEmail.objects.get(to="nils@example.se")
    assert mail.kind == "email_verification" and "next=%2Fmina-bokningar%2F" in mail.body


def test_an_address_with_an_account_gets_one_short_note_and_nothing_changes(erik):
    users = User.objects.count()

    assert request(email=erik.email.upper()) == "exists"
    assert request(email=erik.email) == "exists"  # again within ten minutes: no second note

    assert User.objects.count() == users
    [note] = OutboundEmail.objects.filter(to=erik.email)
    assert note.kind == "eid_account_exists"
    assert "BankID" in note.subject and "Koppla BankID" in note.body
    erik.refresh_from_db()
    assert erik.personnummer != NUMBER and not erik.personnummer_verified


def test_a_sign_up_nobody_confirmed_is_replaced_but_an_eid_account_is_not(db):
    account_signup_request(role="client", email="nils@example.se", password="lingon-sylt-1987", first_name="Någon",
                           last_name="Annan", source="10.0.0.2")
    # The worker's half of that sign-up: an account waiting for its link.
    account_request_process(request_id=AccountRequest.objects.get().pk)
    typed = User.objects.get(email="nils@example.se")
    assert typed.has_usable_password() and not typed.email_verified

    assert request() == "created"  # the newest request for the address wins, as a sign-up does
    made = User.objects.get(email="nils@example.se")
    assert made.pk != typed.pk and made.first_name == "Nils" and not made.has_usable_password()

    # Someone else with an eID and the same address: the first eID account stays.
    assert request(personnummer=pnr("19990101", "238"), first_name="Saga") == "exists"
    assert User.objects.get(email="nils@example.se").pk == made.pk


def test_an_eid_account_request_shares_the_sign_up_limit_per_source_address(db, settings):
    settings.ACCOUNT_REQUESTS_PER_HOUR = 2
    request(email="a@example.se", source="10.9.9.9")
    request(email="b@example.se", source="10.9.9.9", personnummer=pnr("19990101", "238"))
    with pytest.raises(AccountRequestsThrottled):
        request(email="c@example.se", source="10.9.9.9", personnummer=pnr("19700101", "123"))


def test_a_personnummer_another_account_holds_verified_makes_no_account(erik):
    client_personnummer_verify(user=erik.user, personnummer=NUMBER)
    with pytest.raises(ValidationError):
        request()
    assert not User.objects.filter(email="nils@example.se").exists()


def test_connecting_verifies_her_number_and_refuses_what_would_take_anothers(anna, erik, nora):
    assert eid_connect(user=erik.user, personnummer=NUMBER).personnummer_verified
    with pytest.raises(ValidationError):  # verified with one number: another person's eID
        eid_connect(user=erik.user, personnummer=pnr("19990101", "238"))
    with pytest.raises(ValidationError):  # the number is Erik's, verified
        eid_connect(user=nora.user, personnummer=NUMBER)
    with pytest.raises(ValidationError):  # a therapist has no client profile to connect
        eid_connect(user=anna.user, personnummer=pnr("19990101", "238"))
    assert not Client.objects.filter(user=anna.user).exists()
    erik.refresh_from_db()
    assert (erik.personnummer, erik.personnummer_verified) == (NUMBER, True)
