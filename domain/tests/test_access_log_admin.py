"""R39 in the admin: staff reading a client (her record, her bookings, her place on a list, her
account, her tokens, an audit entry or a mail about her) is logged as staff; the access log
itself is read only for staff, filterable and searchable by id."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from api.tests.helpers import booked, slot_for
from domain.models import AccessRecord, AuditEntry, ClientLink, OutboundEmail, User
from domain.services import token_create
from domain.services.access_log import record_reads

pytestmark = pytest.mark.usefixtures("now")


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser(email="staff@example.se", password="a long staff passphrase")


@pytest.fixture
def staff(staff_user):
    http = HttpClient()
    http.force_login(staff_user)
    return http


def log() -> list[tuple]:
    return list(AccessRecord.objects.order_by("id").values_list("actor_id", "role", "client_id", "what", "surface"))


def test_staff_reading_a_clients_change_page_is_logged(staff, staff_user, erik):
    response = staff.get(reverse("admin:domain_client_change", args=[erik.pk]))

    assert response.status_code == 200 and erik.personnummer in response.content.decode()
    assert log() == [(staff_user.pk, "staff", erik.pk, "admin_page", "admin")]


def test_the_client_list_logs_the_clients_on_the_page_shown(staff, staff_user, erik, nora, make_client):
    assert staff.get(reverse("admin:domain_client_changelist")).status_code == 200
    assert sorted(row[2] for row in log()) == sorted([erik.pk, nora.pk])
    assert {row[3:] for row in log()} == {("admin_list", "admin")}

    before = len(log())
    assert staff.get(reverse("admin:domain_client_changelist"), {"q": "Nora"}).status_code == 200
    assert [row[2] for row in log()[before:]] == [nora.pk]


@pytest.mark.parametrize("model", ["booking", "clientlink", "user", "apitoken", "auditentry"])
def test_every_list_and_page_that_shows_her_is_logged(staff, staff_user, anna, erik, model):
    booking = booked(slot_for(anna, "2027-01-12 09:00"), erik)
    token_create(user=erik.user)
    objects = {
        "booking": booking,
        "clientlink": ClientLink.objects.get(client=erik),
        "user": erik.user,
        "apitoken": erik.user.api_tokens.get(),
        "auditentry": AuditEntry.objects.get(action="booking.created"),
    }

    assert staff.get(reverse(f"admin:domain_{model}_changelist")).status_code == 200
    listed = [row for row in log() if row[3] == "admin_list"]
    if model != "auditentry":  # an audit entry's list shows only who acted (Anna, here)
        assert (staff_user.pk, "staff", erik.pk, "admin_list", "admin") in listed

    response = staff.get(reverse(f"admin:domain_{model}_change", args=[objects[model].pk]))
    assert response.status_code == 200
    assert (staff_user.pk, "staff", erik.pk, "admin_page", "admin") in log()


def test_a_mails_page_is_logged_for_its_addressee_and_the_list_is_not(staff, staff_user, anna, erik):
    booked(slot_for(anna, "2027-01-12 09:00"), erik)
    mail = OutboundEmail.objects.filter(to=erik.email).first()

    assert staff.get(reverse("admin:domain_outboundemail_changelist")).status_code == 200
    assert log() == []
    assert staff.get(reverse("admin:domain_outboundemail_change", args=[mail.pk])).status_code == 200
    assert {row[2] for row in log()} == {erik.pk}


def test_history_and_delete_pages_are_logged(staff, staff_user, erik):
    staff.get(reverse("admin:domain_client_history", args=[erik.pk]))
    staff.get(reverse("admin:domain_client_delete", args=[erik.pk]))
    assert [row[2:] for row in log()] == [(erik.pk, "admin_page", "admin")] * 2


def test_a_staff_member_reading_herself_is_not_logged(staff_user, make_client):
    me = make_client(first="Stina", email="staff-client@example.se")
    me.user = staff_user
    me.save()
    http = HttpClient()
    http.force_login(staff_user)
    assert http.get(reverse("admin:domain_client_change", args=[me.pk])).status_code == 200
    assert log() == []


# The access log in the admin --------------------------------------------------------------


def test_staff_see_the_log_and_cannot_add_change_or_delete(staff, staff_user, anna, erik):
    record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api")
    record = AccessRecord.objects.get()

    assert staff.get(reverse("admin:domain_accessrecord_changelist")).status_code == 200
    page = staff.get(reverse("admin:domain_accessrecord_change", args=[record.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content  # a view page, no form to save
    assert staff.get(reverse("admin:domain_accessrecord_add")).status_code == 403
    assert staff.post(reverse("admin:domain_accessrecord_change", args=[record.pk]), {"what": "search"}).status_code == 403
    assert staff.post(reverse("admin:domain_accessrecord_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    changelist = staff.post(reverse("admin:domain_accessrecord_changelist"),
                            {"action": "delete_selected", "_selected_action": [record.pk]})
    assert changelist.status_code in (200, 302)
    assert AccessRecord.objects.get(pk=record.pk).what == "calendar"


def test_the_log_filters_by_role_what_surface_and_date_and_searches_by_id(staff, staff_user, anna, erik, nora):
    record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api",
                 at=timezone.now() - timedelta(days=40))
    record_reads(actor=anna.user, clients=[nora], what="search", surface="page")
    record_reads(actor=staff_user, clients=[nora], what="admin_page", surface="admin")
    url = reverse("admin:domain_accessrecord_changelist")

    def shown(**params) -> set[int]:
        response = staff.get(url, params)
        assert response.status_code == 200
        return {r.pk for r in response.context["cl"].result_list}

    by = {r.what: r.pk for r in AccessRecord.objects.all()}
    assert shown(role__exact="staff") == {by["admin_page"]}
    assert shown(what__exact="search") == {by["search"]}
    assert shown(surface__exact="api") == {by["calendar"]}
    assert shown(at__gte="2027-01-01T00:00:00+01:00") == {by["search"], by["admin_page"]}
    # A number finds the records whose client id or reader's id it is (help text says so).
    for number in (erik.pk, staff_user.pk, nora.pk):
        found = shown(q=str(number))
        assert found == {r.pk for r in AccessRecord.objects.all() if number in (r.client_id, r.actor_id)}
    assert by["calendar"] in shown(q=str(erik.pk)) and by["admin_page"] in shown(q=str(staff_user.pk))
    assert shown(q="not a number") == set()


def test_reading_the_log_in_the_admin_is_not_itself_a_read_of_a_client(staff, anna, erik):
    record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api")
    staff.get(reverse("admin:domain_accessrecord_changelist"))
    assert AccessRecord.objects.count() == 1  # ids only: no personal data shown


def test_a_records_page_names_it_in_the_admins_language(staff, anna, erik):
    """The record's title and breadcrumb (its __str__) were English words and raw values
    ("therapist #2 → client #7 (calendar)") on a Swedish admin page."""
    record_reads(actor=anna.user, clients=[erik], what="calendar", surface="api")
    record = AccessRecord.objects.get()
    page = staff.get(reverse("admin:domain_accessrecord_change", args=[record.pk]), HTTP_ACCEPT_LANGUAGE="sv")
    html = page.content.decode()
    assert f"Terapeut #{anna.user.pk} läste klient #{erik.pk} (Kalendern)" in html
    assert "→ client" not in html
