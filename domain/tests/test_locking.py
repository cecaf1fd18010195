"""Services that take row locks and leave the transaction to their caller refuse to run
outside one (`domain.locking.in_transaction`), on SQLite too, where a lock outside a
transaction would silently be none; inside one they work as before."""

import pytest
from django.db import transaction

from domain.locking import TransactionRequired
from domain.models import Client
from domain.services import accounts, client_merge, slots


@pytest.mark.django_db(transaction=True)
def test_a_lock_taking_service_outside_a_transaction_raises_and_changes_nothing(anna, make_client):
    record = make_client(first="Nora", last="Nilsson", therapist=anna, login=False)
    profile = make_client(first="Nora", last="Nilsson", email="nora@example.se")

    with pytest.raises(TransactionRequired, match=r"lock_therapist takes row locks: call it inside transaction\.atomic"):
        slots.lock_therapist(anna)
    with pytest.raises(TransactionRequired, match="client_merge"):
        client_merge(record=record, into=profile, actor=profile.user)
    assert Client.objects.filter(pk=record.pk).exists()  # nothing was joined

    with transaction.atomic():
        assert slots.lock_therapist(anna).pk == anna.pk
        client_merge(record=record, into=profile, actor=profile.user)
    assert not Client.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("service", [accounts._signup_complete, accounts._password_reset_complete])
def test_the_workers_halves_of_a_sign_up_and_a_reset_need_the_transaction_of_their_caller(service):
    with pytest.raises(TransactionRequired):
        service(None)
