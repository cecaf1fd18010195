"""POST/DELETE /therapists/{id}/waitlist (R37) and GET /client/waitlist: a client joins a
therapist's wait list (201), a second POST changes her entry (200, one entry per client and
therapist, her place kept); bad input 422 naming the field; a therapist she may not book 404;
another role 403; leaving 204, then 404."""

import pytest

from api.tests.helpers import assert_invalid, assert_not_found
from domain.models import AuditEntry, WaitlistEntry

pytestmark = pytest.mark.usefixtures("now")


def test_a_client_joins_changes_reads_and_leaves(anna, nora_api, nora):
    response = nora_api.post(f"/therapists/{anna.pk}/waitlist",
                             {"weekdays": [1, 3], "from_time": "09:00", "to_time": "12:00", "modes": ["video"]})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["weekdays"] == [1, 3] and body["from_time"].startswith("09:00") and body["modes"] == ["video"]
    assert body["therapist_id"] == anna.pk and body["therapist_name"] == "Anna Andersson"
    entry = WaitlistEntry.objects.get(client=nora)
    assert body["id"] == entry.pk

    again = nora_api.post(f"/therapists/{anna.pk}/waitlist", {"weekdays": [5]})
    assert again.status_code == 200 and again.json()["id"] == entry.pk
    assert again.json()["weekdays"] == [5] and again.json()["modes"] == [] and again.json()["from_time"] is None
    assert WaitlistEntry.objects.count() == 1

    [mine] = nora_api.get("/client/waitlist").json()
    assert mine["id"] == entry.pk

    assert nora_api.delete(f"/therapists/{anna.pk}/waitlist").status_code == 204
    assert not WaitlistEntry.objects.exists()
    assert_not_found(nora_api.delete(f"/therapists/{anna.pk}/waitlist"))
    assert list(AuditEntry.objects.filter(target_type="waitlistentry").order_by("pk").values_list("action", flat=True)) \
        == ["waitlist.joined", "waitlist.changed", "waitlist.left"]


def test_an_empty_body_waits_for_any_time(anna, nora_api):
    response = nora_api.post(f"/therapists/{anna.pk}/waitlist", {})
    assert response.status_code == 201, response.content
    assert response.json()["weekdays"] == [] and response.json()["modes"] == []


@pytest.mark.parametrize("body, field", [
    ({"weekdays": [0]}, "weekdays"),
    ({"weekdays": [8]}, "weekdays"),
    ({"weekdays": ["mon"]}, "weekdays"),
    ({"weekdays": "1"}, "weekdays"),
    ({"modes": ["phone"]}, "modes"),
    ({"from_time": "25:00"}, "from_time"),
    ({"from_time": "12:00", "to_time": "09:00"}, "to_time"),
])
def test_bad_input_names_the_field(anna, nora_api, body, field):
    assert_invalid(nora_api.post(f"/therapists/{anna.pk}/waitlist", body), field)
    assert not WaitlistEntry.objects.exists()


def test_a_therapist_she_may_not_book_is_missing_unless_she_is_hers(bo, nora_api, make_client):
    from conftest import api_for

    assert_not_found(nora_api.post(f"/therapists/{bo.pk}/waitlist", {}))
    assert_not_found(nora_api.post("/therapists/999999999/waitlist", {}))
    assert_not_found(nora_api.post(f"/therapists/{2**70}/waitlist", {}))
    assert_not_found(nora_api.delete(f"/therapists/{2**70}/waitlist"))
    own = make_client(first="Olle", last="Egen", therapist=bo)
    assert api_for(own.user).post(f"/therapists/{bo.pk}/waitlist", {}).status_code == 201


def test_only_a_client_may_join(anna, anna_api, anon_api):
    assert anna_api.post(f"/therapists/{anna.pk}/waitlist", {}).status_code == 403
    assert anon_api.post(f"/therapists/{anna.pk}/waitlist", {}).status_code == 401
    assert anna_api.get("/client/waitlist").status_code == 403
