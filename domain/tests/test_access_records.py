"""R39, the access log's domain: `record_reads` (one row per client and what, in one INSERT;
nobody logged reading herself), `access_log_prune`, `access_log_carry` through `client_merge`,
and on PostgreSQL the trigger that refuses every UPDATE and DELETE."""

from datetime import timedelta

import pytest
from django.core.signals import request_finished
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.tests.helpers import booked, slot_for
from conftest import postgres_only
from domain import selectors
from domain.models import AccessRecord, Client, User
from domain.services import client_merge
from domain.services.access_log import access_log_prune, record_reads

pytestmark = pytest.mark.usefixtures("now")

What, Surface = AccessRecord.What, AccessRecord.Surface


def inserts(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]


def test_forty_clients_are_forty_rows_written_in_one_statement(anna, make_client):
    clients = [make_client(first=f"K{i}", therapist=anna) for i in range(40)]

    with CaptureQueriesContext(connection) as queries:
        written = record_reads(actor=anna.user, clients=clients, what=What.CALENDAR, surface=Surface.API)

    assert written == 40
    assert len(queries.captured_queries) == 1 and len(inserts(queries)) == 1  # no SELECT before it
    rows = AccessRecord.objects.order_by("client_id")
    assert [r.client_id for r in rows] == sorted(c.pk for c in clients)
    assert {(r.actor_id, r.role, r.what, r.surface) for r in rows} == {
        (anna.user.pk, "therapist", "calendar", "api")
    }
    assert {r.at for r in rows} == {timezone.now()}


def test_a_client_named_twice_in_one_read_is_one_row(anna, erik):
    record_reads(actor=anna.user, clients=[erik, erik.pk, erik], what=What.CLIENT_LIST, surface=Surface.PAGE)

    assert AccessRecord.objects.count() == 1


def test_nothing_to_log_writes_nothing(anna):
    with CaptureQueriesContext(connection) as queries:
        assert record_reads(actor=anna.user, clients=[], what=What.CALENDAR, surface=Surface.API) == 0
    assert queries.captured_queries == []


def test_a_client_reading_her_own_record_is_not_logged(erik, nora):
    """A user who is both (staff reading her own client record in the admin, say)."""
    written = record_reads(actor=erik.user, clients=[erik, nora], what=What.ADMIN_PAGE, surface=Surface.ADMIN)

    assert written == 1
    assert list(AccessRecord.objects.values_list("client_id", "role")) == [(nora.pk, "staff")]


def test_an_unknown_what_or_surface_is_refused(anna, erik):
    with pytest.raises(ValueError):
        record_reads(actor=anna.user, clients=[erik], what="peek", surface=Surface.PAGE)
    with pytest.raises(ValueError):
        record_reads(actor=anna.user, clients=[erik], what=What.CALENDAR, surface="fax")
    assert not AccessRecord.objects.exists()


def test_more_clients_than_one_statement_holds_are_all_written(anna, monkeypatch):
    from domain.services import access_log

    monkeypatch.setattr(access_log, "_CHUNK", 7)  # the chunking, without making 5000 clients
    assert record_reads(actor=anna.user, clients=range(1, 21), what=What.EXPORT, surface=Surface.API) == 20
    assert sorted(AccessRecord.objects.values_list("client_id", flat=True)) == list(range(1, 21))


def test_the_log_keeps_ids_only_and_outlives_the_people_in_it(anna, erik):
    record_reads(actor=anna.user, clients=[erik], what=What.CLIENT_PAGE, surface=Surface.PAGE)
    columns = {f.column for f in AccessRecord._meta.concrete_fields}
    assert columns == {"id", "at", "actor_id", "role", "client_id", "what", "surface"}
    assert not any(f.is_relation for f in AccessRecord._meta.get_fields())

    record = AccessRecord.objects.get()
    erik_user = erik.user
    erik.delete()
    erik_user.delete()
    assert AccessRecord.objects.get() == record  # no cascade, no SET NULL: never an UPDATE


def test_the_clients_view_names_therapists_and_says_staff(anna, erik, now):
    staff = User.objects.create_superuser(email="staff@example.se", password="a long staff passphrase",
                                          first_name="Stina", last_name="Personal")
    record_reads(actor=anna.user, clients=[erik], what=What.CLIENT_PAGE, surface=Surface.PAGE)
    now.shift(timedelta(minutes=1))
    record_reads(actor=staff, clients=[erik], what=What.ADMIN_PAGE, surface=Surface.ADMIN)

    lines = selectors.access_log_lines(selectors.access_log_of(erik))

    assert [(line["role"], line["name"]) for line in lines] == [("staff", "Tidboks personal"),
                                                                ("therapist", "Anna Andersson")]
    assert lines[1]["what"] == "Din sida i klientlistan, via webbsidorna"
    assert "Stina" not in str(lines)


def test_a_therapist_whose_account_is_gone_has_no_name_left(anna, erik):
    record_reads(actor=anna.user, clients=[erik], what=What.CALENDAR, surface=Surface.API)
    User.objects.filter(pk=anna.user.pk).update(is_active=False)
    anna.bookings.all().delete()
    anna.user.delete()

    [line] = selectors.access_log_lines(selectors.access_log_of(erik))
    assert line["name"] == "En terapeut vars konto är avslutat"


def test_prune_deletes_what_is_older_than_the_day_given_and_nothing_else(anna, erik, now):
    record_reads(actor=anna.user, clients=[erik], what=What.CALENDAR, surface=Surface.API)
    now.shift(timedelta(days=400))
    record_reads(actor=anna.user, clients=[erik], what=What.CLIENT_PAGE, surface=Surface.PAGE)

    assert access_log_prune(before=timezone.now() - timedelta(days=365)) == 1

    assert list(AccessRecord.objects.values_list("what", flat=True)) == ["client_page"]


def test_prune_wants_an_aware_time(db):
    with pytest.raises(ValueError):
        access_log_prune(before=timezone.now().replace(tzinfo=None))


def test_a_record_joined_to_her_account_brings_its_reads_along(anna, make_client, nora):
    """An own-client record read by the therapist, then joined to Nora's account: Nora sees
    those reads (copied under her id: the log is never updated)."""
    record = make_client(first="Nora", last="Nilsson", therapist=anna, login=False)
    record_reads(actor=anna.user, clients=[record], what=What.CLIENT_PAGE, surface=Surface.PAGE)
    with transaction.atomic():
        client_merge(record=record, into=nora, actor=nora.user)

    assert [r.what for r in selectors.access_log_of(nora)] == ["client_page"]
    assert not Client.objects.filter(pk=record.pk).exists()


# PostgreSQL: the trigger -------------------------------------------------------------------


@postgres_only
@pytest.mark.parametrize("statement", [
    "UPDATE domain_accessrecord SET what = 'calendar'",
    "UPDATE domain_accessrecord SET client_id = client_id + 1 WHERE id = %(id)s",
    "DELETE FROM domain_accessrecord",
    "DELETE FROM domain_accessrecord WHERE id = %(id)s",
])
def test_postgresql_refuses_a_raw_update_or_delete(anna, erik, statement):
    record_reads(actor=anna.user, clients=[erik], what=What.CLIENT_PAGE, surface=Surface.PAGE)
    record = AccessRecord.objects.get()

    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, {"id": record.pk})

    assert AccessRecord.objects.get() == record
    assert AccessRecord.objects.get().what == "client_page"


@postgres_only
def test_postgresql_refuses_the_orms_update_and_delete_too(anna, erik):
    record_reads(actor=anna.user, clients=[erik], what=What.CLIENT_PAGE, surface=Surface.PAGE)

    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.update(what="calendar")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.all().delete()
    assert AccessRecord.objects.get().what == "client_page"


@postgres_only
def test_postgresql_lets_only_the_prune_delete_and_only_inside_it(anna, erik, now):
    record_reads(actor=anna.user, clients=[erik], what=What.CALENDAR, surface=Surface.API)
    now.shift(timedelta(days=10))

    assert access_log_prune(before=timezone.now()) == 1

    # The ignore ended with the prune: the next delete in the same connection is refused.
    record_reads(actor=anna.user, clients=[erik], what=What.CALENDAR, surface=Surface.API)
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM domain_accessrecord")
    assert AccessRecord.objects.count() == 1


@postgres_only
def test_the_trigger_is_installed_by_the_migration(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'domain_accessrecord'::regclass AND NOT tgisinternal"
        )
        names = [row[0] for row in cursor.fetchall()]
    assert len(names) == 1 and names[0].startswith("pgtrigger_access_record_append_only")


def test_on_sqlite_the_model_works_without_a_trigger(anna, erik):
    """pgtrigger does nothing on SQLite (its operations are PostgreSQL-only): the log is
    written and read, and only the application refuses changes there (no writer but
    `record_reads`, a read-only admin)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    record_reads(actor=anna.user, clients=[erik], what=What.CALENDAR, surface=Surface.API)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchall() == []
    assert AccessRecord.objects.count() == 1


def test_a_booked_week_read_through_the_calendar_selector_names_each_client_once(anna, make_client):
    clients = [make_client(first=f"K{i}", therapist=anna) for i in range(3)]
    for i, client in enumerate(clients):
        booked(slot_for(anna, f"2027-01-1{2 + i} 09:00"), client)
        booked(slot_for(anna, f"2027-01-1{2 + i} 11:00"), client)
    start = timezone.now()
    slots = selectors.calendar_for_therapist(anna, start, start + timedelta(days=7))
    readers = [s.live_booking.client for s in slots if s.live_booking]

    assert record_reads(actor=anna.user, clients=readers, what=What.CALENDAR, surface=Surface.API) == 3


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_record_commits_without_waiting_and_the_setting_ends_with_it(make_therapist,
                                                                                             make_client):
    """A read outside any transaction (every page's and answer's case) writes its records in a
    statement that relaxes `synchronous_commit` for its own transaction only: the rows are
    there, and the connection's next statement is back to the server's setting."""
    anna = make_therapist()
    clients = [make_client(first=f"K{i}", therapist=anna) for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        [(before,)] = cursor.fetchall()
    assert not connection.in_atomic_block

    with CaptureQueriesContext(connection) as queries:
        assert record_reads(actor=anna.user, clients=clients, what=What.CALENDAR, surface=Surface.API) == 3

    assert "set_config('synchronous_commit', 'off', true)" in queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchall() == [(before,)]
    assert sorted(AccessRecord.objects.values_list("client_id", flat=True)) == sorted(c.pk for c in clients)
    # and in a transaction (a booking's) the plain statement, so its commit stays durable
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        record_reads(actor=anna.user, clients=clients[:1], what=What.BOOKING, surface=Surface.API)
    assert "set_config" not in queries.captured_queries[0]["sql"]


def test_a_pages_reads_are_written_once_its_answer_is_sent(anna, make_client, rf):
    """`record_reads_when_sent` through `tidbok.middleware.access_log`: nothing is written
    while the view runs or before the WSGI server closes the response; the close writes them
    (at the moment of the read), in one INSERT per view's call."""
    from django.http import HttpResponse

    from domain.services.access_log import record_reads_when_sent
    from tidbok.middleware import access_log

    erik, maja = make_client(first="Erik", therapist=anna), make_client(first="Maja", therapist=anna)
    read_at = timezone.now()

    def view(request):
        record_reads_when_sent(request, actor=anna.user, clients=[erik, maja, erik], what=What.CALENDAR,
                               surface=Surface.API)
        assert not AccessRecord.objects.exists()  # not while the answer is made
        return HttpResponse("answer")

    response = access_log(view)(rf.get("/"))
    assert not AccessRecord.objects.exists()  # nor before it is sent
    # As the WSGI server does once the last byte is out (and as Django's test client does,
    # keeping the test's database connection open through the end of the request).
    request_finished.disconnect(close_old_connections)
    try:
        with CaptureQueriesContext(connection) as queries:
            response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert len(inserts(queries)) == 1
    assert sorted(AccessRecord.objects.values_list("client_id", "what", "at")) == [
        (erik.pk, "calendar", read_at), (maja.pk, "calendar", read_at)]


def test_without_the_middleware_the_reads_are_written_at_once(anna, make_client, rf):
    from domain.services.access_log import record_reads_when_sent

    erik = make_client(first="Erik", therapist=anna)
    record_reads_when_sent(rf.get("/"), actor=anna.user, clients=[erik], what=What.CLIENT_PAGE, surface=Surface.PAGE)
    assert list(AccessRecord.objects.values_list("client_id", flat=True)) == [erik.pk]
