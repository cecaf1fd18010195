"""Schemathesis against our own OpenAPI document, in-process through the WSGI app: for every
operation, generated requests (bounded, derandomised so CI is repeatable) as an anonymous
caller, a therapist and a client never get a 500, and every answer has a status the
document lists and a body its schema allows."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import api_for, days_ahead

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_connection():
    """A real WSGI call closes the database connection when the request ends; inside a test's
    transaction that would close it under the test (Django's test client does the same)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(keep_connection, anna, erik, nora, bo):
    from api.tests.helpers import booked, slot_for

    # Something to find: slots and a booking, so that generated ids sometimes hit real rows.
    # Ahead of the real clock: the app is called without frozen time.
    for day in range(7, 11):
        slot_for(anna, days_ahead(day))
    booked(slot_for(anna, days_ahead(11)), erik)
    return {
        "anonymous": None,
        "therapist": api_for(anna.user).headers["Authorization"],
        "client": api_for(erik.user).headers["Authorization"],
    }


# 30 generated requests per operation and caller (positive and negative ones, schemathesis's
# default): the 81 cases take about 37 s on an idle two-core machine, where 12 took 22 s.
MAX_EXAMPLES = 30


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
    # The one health check that must go: `tokens` (the personas and their rows) is made once
    # per test and shared by its examples on purpose, inside the test's transaction that is
    # rolled back at the end; making them per example would cost a database set-up each time.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@pytest.mark.parametrize("who", ["anonymous", "therapist", "client"])
def test_the_api_keeps_to_its_document(case, who, tokens):
    # A generated Host header is not the API's input: Django answers a host outside
    # ALLOWED_HOSTS with its own 400 page on every URL before the API runs (seen once in a
    # full run, as an "undocumented 400" on POST /bookings/{id}/cancel).
    if case.headers:
        case.headers = {name: value for name, value in case.headers.items() if name.lower() != "host"}
    headers = {"Authorization": tokens[who]} if tokens[who] else {}
    case.call_and_validate(headers=headers, checks=CHECKS)
