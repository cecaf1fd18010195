"""The live OpenAPI document and the browsable docs (docs/api.md, first paragraph)."""

import json
import re

import pytest

# Every endpoint of docs/api.md, as written there.
CONTRACT = [
    ("post", "/api/v1/auth/signup"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/therapist/settings"),
    ("patch", "/api/v1/therapist/settings"),
    ("get", "/api/v1/therapist/calendar"),
    ("post", "/api/v1/therapist/slots"),
    ("patch", "/api/v1/therapist/slots/{id}"),
    ("delete", "/api/v1/therapist/slots/{id}"),
    ("get", "/api/v1/therapist/clients"),
    ("post", "/api/v1/therapist/clients"),
    ("post", "/api/v1/therapist/slots/{id}/booking"),
    ("get", "/api/v1/therapists"),
    ("get", "/api/v1/therapists/{id}/slots"),
    ("post", "/api/v1/slots/{id}/book"),
    ("get", "/api/v1/client/bookings"),
    ("post", "/api/v1/bookings/{id}/cancel"),
]


@pytest.fixture
def document(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def same_shape(path: str) -> str:
    """Path parameters are named differently in docs/api.md ({id}) and the code ({slot_id})."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_document_is_openapi(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert document["info"]["version"] == "1"


@pytest.mark.parametrize("method, path", CONTRACT, ids=[f"{m} {p}" for m, p in CONTRACT])
def test_it_lists_every_endpoint_of_the_contract(document, method, path):
    served = {same_shape(p): operations for p, operations in document["paths"].items()}

    assert same_shape(path) in served
    assert method in served[same_shape(path)]


def test_the_write_bodies_name_the_contract_fields(document):
    schemas = document["components"]["schemas"]

    def fields(method, path):
        operation = {same_shape(p): ops for p, ops in document["paths"].items()}[same_shape(path)][method]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return set(schemas[ref.rsplit("/", 1)[1]]["properties"])

    assert fields("post", "/api/v1/auth/signup") >= {"role", "email", "password", "first_name", "last_name", "personnummer"}
    assert fields("post", "/api/v1/therapist/slots") == {"start", "duration_minutes", "price", "modes", "audience"}
    assert fields("patch", "/api/v1/therapist/slots/{id}") == {"start", "duration_minutes", "price", "modes", "audience"}
    assert fields("post", "/api/v1/therapist/clients") == {"first_name", "last_name", "personnummer", "email", "phone"}
    assert fields("post", "/api/v1/therapist/slots/{id}/booking") == {"client_id", "mode"}
    assert fields("post", "/api/v1/slots/{id}/book") == {"mode"}


def test_the_docs_page_is_served(client, db):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
