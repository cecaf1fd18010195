"""Shared checks and makers for the API tests: what a 409 and a 4xx body must look like, and
slots and bookings made through the services (the API under test is never used to set up)."""

import json
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection

from conftest import at
from domain import services
from domain.errors import CODES
from domain.models import Slot


def assert_conflict(response, code: str) -> None:
    """A 409 whose body is exactly {"code", "detail"} with the given code and a readable detail."""
    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"code", "detail"}, body
    assert body["code"] == code
    assert code in CODES
    assert isinstance(body["detail"], str) and body["detail"].strip()


def assert_invalid(response, field: str, statuses=(400, 422)) -> None:
    """Refused as invalid input, with a message that names the field: either in an error's
    `loc` or in its text. A 422 always has docs/api.md's one shape, a list of errors; only a
    400 (a body that is not a JSON object) says it in one sentence."""
    assert response.status_code in statuses, (response.status_code, response.content)
    detail = response.json()["detail"]
    if response.status_code == 400 and isinstance(detail, str):
        assert field in detail, detail
        return
    assert isinstance(detail, list) and detail, detail
    named = [e for e in detail if field in [str(part) for part in e.get("loc", [])] or field in str(e.get("msg", ""))]
    assert named, json.dumps(detail)
    assert all(str(e.get("msg", "")).strip() for e in named)


def assert_not_found(response) -> None:
    """404 with the same plain body whether the object is missing or someone else's."""
    assert response.status_code == 404, (response.status_code, response.content)
    assert response.json() == {"detail": "Hittades inte."}


def when(value):
    return at(value) if isinstance(value, str) else value


def slot_for(therapist, start, **fields) -> Slot:
    """An open slot through the service, as the therapist would make it."""
    return services.slot_create(therapist=therapist, actor=therapist.user, start=when(start), **fields)


def past_slot(therapist, start, minutes=45, price=1000, **fields) -> Slot:
    """A slot that already began (the service refuses to make one, so straight into the table)."""
    start = when(start)
    return Slot.objects.create(
        therapist=therapist, start_at=start, end_at=start + timedelta(minutes=minutes), price=price, **fields
    )


def booked(slot, client, mode="video"):
    """The therapist books a client from her list into her slot."""
    return services.booking_create_by_therapist(
        therapist=slot.therapist, slot=slot, client=client, mode=mode, actor=slot.therapist.user
    )


def self_booked(slot, client, mode="video"):
    """The client books a slot herself through the platform."""
    return services.booking_create_by_client(client=client, slot=slot, mode=mode, actor=client.user)


def local_iso(text: str) -> str:
    """'2027-01-11 09:00' as the API answers it in Stockholm's winter: 2027-01-11T09:00:00+01:00."""
    return at(text).isoformat()


@contextmanager
def statements():
    """Every SQL statement the default connection runs inside the block (a list filled as
    they run). Unlike CaptureQueriesContext it survives a request's `reset_queries`."""
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(str(sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen
