"""The migrations: they match the models, they build the rules the database holds (R11, R16,
R10), and the domain's can be unapplied and applied again on the database in use."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from conftest import days_ahead, postgres_only


def constraints(table: str) -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def exclusion_constraint() -> str | None:
    """slot_no_overlap's definition, as PostgreSQL reports it, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'slot_no_overlap' AND conrelid = 'domain_slot'::regclass AND contype = 'x'"
        )
        row = cursor.fetchone()
    return row and row[0]


def unapplied_migrations() -> list:
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    # Exits with status 1 (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_the_database_has_every_migration_applied():
    assert unapplied_migrations() == []


@pytest.mark.django_db
def test_the_booking_rules_are_built_on_this_database_too():
    """The partial unique index (R16) and the check constraints (R10) are plain Django
    constraints, built on SQLite and PostgreSQL alike."""
    booking = constraints("domain_booking")
    assert booking["booking_one_live_per_slot"]["unique"] is True
    assert booking["booking_one_live_per_slot"]["columns"] == ["slot_id"]
    assert booking["booking_live_has_slot"]["check"] is True
    slot = constraints("domain_slot")
    assert slot["slot_end_after_start"]["check"] is True


@postgres_only
def test_the_exclusion_constraint_and_btree_gist_exist_on_postgresql(db):
    definition = exclusion_constraint()
    assert definition is not None
    assert "gist" in definition.lower()
    assert "therapist_id WITH =" in definition
    assert "tstzrange(start_at, end_at, '[)'::text) WITH &&" in definition
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'btree_gist'")
        assert cursor.fetchone() == ("btree_gist",)


@pytest.mark.django_db(transaction=True)
def test_the_domain_migrations_go_back_to_zero_and_forward_again(make_therapist):
    try:
        call_command("migrate", "domain", "zero", verbosity=0)
        tables = connection.introspection.table_names()
        assert not [t for t in tables if t.startswith("domain_")]
        assert "auth_group" in tables  # other apps stay; only what depends on the domain goes
        assert "django_admin_log" not in tables  # its user is the domain's
    finally:
        # Whatever happened above, leave the database migrated for the tests that follow.
        call_command("migrate", verbosity=0)
        ContentType.objects.clear_cache()

    assert unapplied_migrations() == []
    assert {"domain_slot", "domain_booking", "domain_outboundemail"} <= set(connection.introspection.table_names())
    assert "booking_one_live_per_slot" in constraints("domain_booking")

    # The rebuilt schema works, and on PostgreSQL it holds R11 again.
    from domain.models import Slot

    anna = make_therapist()
    start = days_ahead(30)
    Slot.objects.create(therapist=anna, start_at=start, end_at=start + timedelta(minutes=45), price=1000)
    if connection.vendor == "postgresql":
        assert exclusion_constraint() is not None
        clash = start + timedelta(minutes=30)
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            Slot.objects.create(therapist=anna, start_at=clash, end_at=clash + timedelta(minutes=45), price=1000)
        assert refused.value.__cause__.sqlstate == "23P01"


@postgres_only
@pytest.mark.django_db
def test_postgresql_refuses_a_slot_longer_than_the_longest_allowed(anna):
    from domain.models import MAX_DURATION_MINUTES, Slot

    start = days_ahead(30, "08:00")
    Slot.objects.create(therapist=anna, start_at=start, end_at=start + timedelta(minutes=MAX_DURATION_MINUTES), price=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.create(
            therapist=anna, start_at=start + timedelta(days=1),
            end_at=start + timedelta(days=1, minutes=MAX_DURATION_MINUTES + 1), price=1,
        )
