"""An own client's invitation (R12, R26, R27): the therapist's record joins a platform account
only through the link mailed to the address she typed, or through a verified eID."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from conftest import at, pnr
from domain.models import AuditEntry, Booking, Client, ClientLink, OutboundEmail, Slot, User
from domain.services import (
    booking_create_by_therapist,
    client_add,
    client_invitation_accept,
    client_invitation_send,
    client_personnummer_verify,
    invitation_record,
)

pytestmark = pytest.mark.usefixtures("now")

PASSWORD = "lingon-sylt-1987"


def add(therapist, email="ase@example.se", number=None, first="Åse"):
    return client_add(therapist=therapist, actor=therapist.user, first_name=first, last_name="Larsson",
                      personnummer=number or pnr("19800505", "246"), email=email)


def token_in(mail: OutboundEmail) -> str:
    link = next(line for line in mail.body.splitlines() if "/inbjudan/" in line)
    return link.rstrip("/").rsplit("/", 1)[1]


def book(therapist, client, day="2027-01-12 09:00"):
    start = at(day)
    slot = Slot.objects.create(therapist=therapist, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
    return booking_create_by_therapist(therapist=therapist, slot=slot, client=client, mode="video", actor=therapist.user)


def test_an_added_client_is_mailed_an_invitation_to_the_address_typed(anna):
    record = add(anna)

    [mail] = OutboundEmail.objects.filter(kind="client_invitation")
    assert mail.to == "ase@example.se" and mail.subject == "Välkommen till Tidbok"
    assert "Anna Andersson har lagt till dig" in mail.body
    assert invitation_record(token_in(mail)) == record
    assert pnr("19800505", "246") not in mail.body and "ase@example.se" not in token_in(mail)  # R24
    assert not User.objects.filter(email="ase@example.se").exists()  # no login is made for her: the invitation makes one
    assert AuditEntry.objects.filter(action="client.invited", target_id=record.pk).exists()


def test_accepting_without_an_account_makes_one_with_a_verified_address(anna):
    record = add(anna)
    booking = book(anna, record)

    invitation = OutboundEmail.objects.get(kind="client_invitation")
    user = client_invitation_accept(record=invitation_record(token_in(invitation)), password=PASSWORD)

    assert (user.email, user.email_verified, user.role) == ("ase@example.se", True, "client")
    assert user.check_password(PASSWORD)
    assert Client.objects.get(pk=record.pk).user == user
    assert Booking.objects.get(pk=booking.pk).client_id == record.pk
    assert invitation_record(token_in(invitation)) is None  # once


def test_the_link_alone_does_not_open_an_account_that_exists(anna, erik):
    record = add(anna, email=erik.email, number=pnr("19700101", "111"))

    with pytest.raises(ValidationError):
        client_invitation_accept(record=record, password=PASSWORD)
    with pytest.raises(ValidationError):
        client_invitation_accept(record=record, user=anna.user)

    assert User.objects.get(pk=erik.user.pk).check_password("correct horse battery")
    assert Client.objects.get(pk=record.pk).user is None


def test_the_owner_of_the_address_joins_the_record_to_her_account(anna, bo, make_client):
    """Her bookings with Bo, and his list entry, move to her account; the record goes."""
    erik = make_client(therapist=anna)
    record = add(bo, email=erik.email, number=pnr("19700101", "111"), first="Eric")
    booking = book(bo, record)

    client_invitation_accept(record=record, user=erik.user)

    assert not Client.objects.filter(pk=record.pk).exists()
    assert Booking.objects.get(pk=booking.pk).client_id == erik.pk
    assert set(ClientLink.objects.filter(client=erik).values_list("therapist", "source")) == {
        (anna.pk, "own"), (bo.pk, "own")
    }
    assert Client.objects.get(pk=erik.pk).first_name == "Erik"  # her own details stay hers
    assert AuditEntry.objects.filter(action="client.joined", therapist=bo).exists()


def test_joining_a_list_she_is_on_already_keeps_one_entry_marked_own(anna, make_client):
    erik = make_client(therapist=anna, source="platform")
    Booking.objects.all().delete()
    record = add(anna, email=erik.email, number=pnr("19700101", "111"))

    client_invitation_accept(record=record, user=erik.user)

    assert list(ClientLink.objects.filter(therapist=anna).values_list("client", "source")) == [(erik.pk, "own")]


def test_an_account_nobody_verified_is_taken_over_by_whoever_follows_the_invitation(anna):
    """Someone signed up with her address first (and never could verify it): the invitation
    proves the mailbox, so she chooses the password and the squatter's is gone."""
    squatter = User.objects.create_user(email="ase@example.se", password="squatter-pass-99", email_verified=False)
    Client.objects.create(user=squatter, first_name="Mallory", last_name="X", email="ase@example.se")
    record = add(anna)

    user = client_invitation_accept(record=record, password=PASSWORD)

    assert user.pk == squatter.pk and user.email_verified
    assert user.check_password(PASSWORD) and not user.check_password("squatter-pass-99")
    assert ClientLink.objects.get(therapist=anna).client.user == user


def test_an_invitation_stops_working_when_it_is_too_old(anna, now):
    add(anna)
    token = token_in(OutboundEmail.objects.get())

    now.shift(timedelta(days=settings.INVITATION_MAX_AGE_DAYS, seconds=1))

    assert invitation_record(token) is None


def test_an_invitation_stops_working_when_the_address_changes(anna):
    record = add(anna)
    token = token_in(OutboundEmail.objects.get())

    Client.objects.filter(pk=record.pk).update(email="other@example.se")

    assert invitation_record(token) is None


@pytest.mark.parametrize("token", ["", "x", "eyJjIjoxfQ:1abc:def", "a" * 500, "\x00"])
def test_a_made_up_invitation_is_no_invitation(anna, token):
    add(anna)

    assert invitation_record(token) is None


def test_the_invitation_can_be_sent_again_until_accepted(anna):
    record = add(anna)
    client_invitation_send(client=record, therapist=anna, actor=anna.user)
    assert OutboundEmail.objects.filter(kind="client_invitation").count() == 2

    client_invitation_accept(record=record, password=PASSWORD)
    client_invitation_send(client=Client.objects.get(pk=record.pk), therapist=anna, actor=anna.user)

    assert OutboundEmail.objects.filter(kind="client_invitation").count() == 2


# eID (R26, R27): a verified personnummer joins the records typed with it.


def test_a_verified_personnummer_joins_every_record_typed_with_it(anna, bo, make_client):
    nora = make_client(first="Nora", last="Nilsson", birth="19920704")
    number = pnr("19920704", "999")
    annas, bos = add(anna, number=number, email="n1@example.se"), add(bo, number=number, email="n2@example.se")
    bookings = [book(anna, annas), book(bo, bos, "2027-01-13 09:00")]

    client_personnummer_verify(user=nora.user, personnummer=number[2:])

    nora.refresh_from_db()
    assert (nora.personnummer, nora.personnummer_verified) == (number, True)
    assert {Booking.objects.get(pk=b.pk).client_id for b in bookings} == {nora.pk}
    assert not Client.objects.filter(pk__in=[annas.pk, bos.pk]).exists()
    assert set(ClientLink.objects.filter(client=nora).values_list("therapist", flat=True)) == {anna.pk, bo.pk}


def test_a_verified_personnummer_wins_over_accounts_that_only_typed_it(make_client):
    owner, squatter = make_client(first="Nora"), make_client(first="Mallory")
    Client.objects.filter(pk=squatter.pk).update(personnummer=owner.personnummer)

    client_personnummer_verify(user=owner.user, personnummer=owner.personnummer)

    assert Client.objects.get(pk=squatter.pk).personnummer == ""
    assert Client.objects.filter(personnummer=owner.personnummer, personnummer_verified=True).get().pk == owner.pk


def test_a_personnummer_verified_for_one_account_is_refused_to_another(make_client):
    owner, other = make_client(first="Nora"), make_client(first="Olle")
    client_personnummer_verify(user=owner.user, personnummer=owner.personnummer)

    with pytest.raises(ValidationError) as caught:
        client_personnummer_verify(user=other.user, personnummer=owner.personnummer)

    assert "personnummer" in caught.value.message_dict
    assert Client.objects.get(pk=other.pk).personnummer_verified is False


# What a security review found, and its fixes.


def test_accepting_over_a_sign_up_nobody_verified_keeps_nothing_of_that_sign_up(anna):
    """A stranger signed up first with her address (name "Mallory Evil", a personnummer of
    his choosing): she follows her therapist's invitation, and her therapist's record is what
    the account holds, not the stranger's details."""
    squatter = User.objects.create_user(email="ase@example.se", password="squatter-pass-99", first_name="Mallory",
                                        last_name="Evil", email_verified=False)
    Client.objects.create(user=squatter, first_name="Mallory", last_name="Evil", email="ase@example.se",
                          personnummer=pnr("19121212", "121"))
    record = add(anna)

    user = client_invitation_accept(record=record, password=PASSWORD)

    [client] = Client.objects.filter(user=user)
    assert client.pk == record.pk
    assert (client.first_name, client.last_name, client.personnummer) == ("Åse", "Larsson", pnr("19800505", "246"))
    assert (user.first_name, user.last_name) == ("Åse", "Larsson")
    assert not Client.objects.filter(first_name="Mallory").exists()


def test_a_therapist_sign_up_nobody_verified_does_not_block_her_invitation(anna):
    pending = User.objects.create_user(email="ase@example.se", password="squatter-pass-99", email_verified=False)
    from domain.models import Therapist

    Therapist.objects.create(user=pending)
    record = add(anna)

    user = client_invitation_accept(record=record, password=PASSWORD)

    assert user.role == "client" and not Therapist.objects.filter(user=user).exists()
    assert Client.objects.get(pk=record.pk).user == user


def test_someone_logged_in_as_another_cannot_accept(anna, nora):
    record = add(anna)

    with pytest.raises(ValidationError):
        client_invitation_accept(record=record, password=PASSWORD, user=nora.user)

    assert Client.objects.get(pk=record.pk).user is None
    assert not User.objects.filter(email="ase@example.se").exists()


def test_a_leaked_signature_does_not_rebuild_an_invitation(anna):
    """A log line once kept an invitation's timestamp and signature; its payload (the record's
    id and a hash of the address) could be guessed. The random part makes that useless."""
    import base64
    import json

    from domain.services.clients import _email_hash

    record = add(anna)
    token = token_in(OutboundEmail.objects.get(kind="client_invitation"))
    _payload, stamp, signature = token.split(":")
    guessed = base64.urlsafe_b64encode(json.dumps({"c": record.pk, "e": _email_hash(record.email)},
                                                  separators=(",", ":")).encode()).decode().rstrip("=")

    assert invitation_record(f"{guessed}:{stamp}:{signature}") is None
    assert invitation_record(token) == record


def test_one_address_gets_at_most_three_invitations_a_day(anna, bo, make_therapist, now):
    cy = make_therapist(email="cy@example.se", first="Cy")
    for therapist, number in ((anna, "111"), (bo, "222"), (cy, "333")):
        add(therapist, number=pnr("19800505", number))
    fourth = add(make_therapist(email="di@example.se", first="Di"), number=pnr("19800505", "444"))

    assert fourth.invited is False
    assert OutboundEmail.objects.filter(kind="client_invitation", to="ase@example.se").count() == 3
    now.shift(timedelta(days=1, seconds=1))
    assert client_invitation_send(client=fourth, therapist=fourth.therapist_links.get().therapist, actor=None)


def test_a_therapist_may_send_so_many_invitations_a_day(anna, settings):
    from domain.services import InvitationsThrottled

    settings.INVITATIONS_PER_THERAPIST_PER_DAY = 2
    add(anna, email="a@example.se", number=pnr("19800505", "111"))
    add(anna, email="b@example.se", number=pnr("19800505", "222"))

    with pytest.raises(InvitationsThrottled):
        add(anna, email="c@example.se", number=pnr("19800505", "333"))
    assert not Client.objects.filter(email="c@example.se").exists()
