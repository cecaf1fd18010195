"""An own client added by her therapist (R12) is invited to choose a password: she gets a
login that cannot be used until then, and a one-time link by mail, in the same transaction."""

import pytest
from django.contrib.auth.tokens import default_token_generator

from conftest import pnr
from domain.models import AuditEntry, Client, OutboundEmail, User
from domain.services import client_add

pytestmark = pytest.mark.usefixtures("now")


def add(therapist, email="ase@example.se", number=None):
    return client_add(therapist=therapist, actor=therapist.user, first_name="Åse", last_name="Larsson",
                      personnummer=number or pnr("19800505", "246"), email=email)


def test_an_added_client_gets_a_login_without_password_and_an_invitation(anna):
    client = add(anna)

    user = User.objects.get(email="ase@example.se")
    assert Client.objects.get(pk=client.pk).user == user and user.role == "client"
    assert not user.has_usable_password()
    [mail] = OutboundEmail.objects.filter(kind="client_invitation")
    assert mail.to == "ase@example.se" and mail.subject == "Välkommen till Tidbok"
    assert "Anna Andersson har lagt till dig" in mail.body
    link = next(line for line in mail.body.splitlines() if "/losenord/" in line)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert default_token_generator.check_token(user, token)
    assert pnr("19800505", "246") not in mail.body  # R24
    assert AuditEntry.objects.filter(action="client.invited", target_id=client.pk).exists()


def test_a_client_who_has_a_password_is_not_invited_again(anna, bo, erik):
    client_add(therapist=bo, actor=bo.user, first_name="Erik", last_name="Eriksson",
               personnummer=erik.personnummer, email=erik.email)

    assert not OutboundEmail.objects.filter(kind="client_invitation").exists()


def test_a_second_therapist_adding_an_invited_client_invites_her_again_with_the_same_login(anna, bo):
    first = add(anna)
    add(bo, email="other@example.se")

    assert User.objects.filter(client=first).count() == 1
    assert OutboundEmail.objects.filter(kind="client_invitation", to="ase@example.se").count() == 2


def test_an_address_that_is_another_login_gets_no_invitation(anna, bo):
    client = add(anna, email="bo@example.se")

    assert Client.objects.get(pk=client.pk).user is None
    assert not OutboundEmail.objects.filter(kind="client_invitation").exists()
