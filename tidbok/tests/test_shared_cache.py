"""CACHE_URL: a Redis that every web server shares, so a bearer-token user's read-your-writes
mark (tidbok/replica.py) holds on whichever server behind the load balancer takes her next read;
and a cache that does not answer sends her reads to the primary, never a 500. Against the
machine's real Redis (127.0.0.1:6379; skipped where none runs) and PostgreSQL."""

import socket
import uuid

import pytest
import redis
from django.core.cache import caches

from conftest import api_for, free_port, postgres_only
from tidbok.replica import COOKIE, _mark_key
from tidbok.tests.test_replica import ON_REPLICA, Served, replica, slot  # noqa: F401 - fixtures

REDIS = "redis://127.0.0.1:6379/0"


def redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def redis_cache(location: str, prefix: str) -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
                        "KEY_PREFIX": prefix, "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


def booked_without_cookie(erik, open_slot):
    erik_api = api_for(erik.user)
    assert erik_api.post(f"/slots/{open_slot.pk}/book", {"mode": open_slot.modes[0]}).status_code == 201
    erik_api.http.cookies.pop(COOKIE)  # a program that keeps no cookie: only the mark under her id
    return erik_api


@postgres_only
@pytest.mark.skipif(not redis_running(), reason="no Redis at 127.0.0.1:6379")
@ON_REPLICA
def test_a_token_users_mark_is_in_the_shared_redis_for_every_server(replica, settings, anna, erik, slot):  # noqa: F811
    prefix = f"tidbok-test-{uuid.uuid4().hex}"
    settings.CACHES = redis_cache(REDIS, prefix)
    erik_api = booked_without_cookie(erik, slot)

    # Another server is another process with its own connection: what it reads is in Redis.
    keys = redis.Redis.from_url(REDIS).keys(f"{prefix}:*")
    assert [k.decode() for k in keys] == [f"{prefix}:1:{_mark_key(erik.user.pk)}"]
    caches["default"].close()
    with Served() as served:
        assert erik_api.get(f"/therapists/{anna.pk}/slots").status_code == 200
    assert served.sql("replica") == [] and served.reads("default", "domain_slot")
    redis.Redis.from_url(REDIS).delete(*keys)


@postgres_only
@ON_REPLICA
def test_a_cache_that_does_not_answer_sends_her_reads_to_the_primary(replica, settings, anna, erik, slot, caplog):  # noqa: F811
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/0", "tidbok-test")
    erik_api = booked_without_cookie(erik, slot)  # the booking stands: the mark is only not kept
    assert "read-your-writes mark not kept" in caplog.text

    with Served() as served:
        assert erik_api.get(f"/therapists/{anna.pk}/slots").status_code == 200
    assert served.sql("replica") == []
