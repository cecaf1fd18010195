"""The Django internals Tidbok leans on, pinned: a Django upgrade fails here first, loudly,
naming what to re-check, instead of somewhere deep in a read or in production's health check.

- `domain/rows.py` reads hand-written SQL back into model instances as the ORM does: a
  field's column (`Field.get_col`), the backend's and the expression's converters
  (`get_db_converters`), `Model.from_db`, and related objects put in the field cache
  (`set_cached_value`) so that `slot.therapist` costs no query. The selectors use
  `connection.ops.integer_field_range` and `adapt_datetimefield_value` for their parameters.
  `rows.Compiled` compiles a queryset itself (`Query.get_compiler`, `SQLCompiler.as_sql`)
  and reads its rows back through `SQLCompiler.get_converters` of `compiler.select`'s first
  `col_count` expressions, as `results_iter` does.
  domain/tests/test_raw_reads.py proves, on both databases, that the result is what the ORM
  gives; this file proves the hooks are still there, with the signatures the code calls.
- `tidbok/postgresql/base.py` overrides `close_if_health_check_failed` and reads
  `health_check_enabled`/`health_check_done`: the PostgreSQL test below proves that an idle,
  healthy connection is passed without Django's `SELECT 1`, and a connection the server ended
  is still found dead and closed.

When Django's version moves past CHECKED: read the release notes and the source of each name
below for changed behaviour, run domain/tests/test_raw_reads.py and this file on SQLite and
PostgreSQL (and domain/tests/test_faults.py), then raise CHECKED."""

import inspect
import select
import time

import django
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, Model
from django.db.models.expressions import BaseExpression
from django.db.models.fields.mixins import FieldCacheMixin
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler

from conftest import postgres_only

CHECKED = (6, 1)  # the Django feature release these internals were last read against

WHAT_TO_RECHECK = (
    "domain/rows.py and tidbok/postgresql/base.py use Django internals checked against Django "
    f"{CHECKED[0]}.{CHECKED[1]} (domain/tests/test_django_internals.py says how to re-check them)"
)

# (where, name, the parameters the code passes, in order)
HOOKS = [
    (BaseDatabaseOperations, "get_db_converters", ["self", "expression"]),
    (BaseExpression, "get_db_converters", ["self", "connection"]),
    (Field, "get_col", ["self", "alias"]),
    (Model, "from_db", ["db", "field_names", "values"]),
    (FieldCacheMixin, "set_cached_value", ["self", "instance", "value"]),
    (BaseDatabaseOperations, "integer_field_range", ["self", "internal_type"]),
    (BaseDatabaseOperations, "adapt_datetimefield_value", ["self", "value"]),
    (Query, "get_compiler", ["self", "using", "connection"]),
    (SQLCompiler, "as_sql", ["self"]),
    (SQLCompiler, "get_converters", ["self", "expressions"]),
    (BaseDatabaseWrapper, "close_if_health_check_failed", ["self"]),
    (BaseDatabaseWrapper, "is_usable", ["self"]),
]


def test_django_is_the_version_the_internals_were_checked_against():
    assert django.VERSION[:2] == CHECKED, f"Django is {django.get_version()}: {WHAT_TO_RECHECK}"


@pytest.mark.parametrize(("owner", "name", "params"), HOOKS, ids=[f"{o.__name__}.{n}" for o, n, _ in HOOKS])
def test_the_internals_are_there_with_the_signatures_the_code_calls(owner, name, params):
    hook = getattr(owner, name, None)
    assert callable(hook), f"{owner.__name__}.{name} is gone: {WHAT_TO_RECHECK}"
    signature = inspect.signature(hook)
    positional = [
        p.name for p in signature.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert positional[: len(params)] == params, (
        f"{owner.__name__}.{name}{signature} no longer takes {params} first: {WHAT_TO_RECHECK}"
    )
    required_after = [
        p.name for p in list(signature.parameters.values())[len(params):]
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert not required_after, f"{owner.__name__}.{name}{signature} wants more ({required_after}): {WHAT_TO_RECHECK}"


def test_a_compiled_read_finds_each_value_among_the_parameters_or_refuses(db):
    """`rows.Compiled` leans on the compiler making each value a parameter: one it wrote into
    the SQL (or left out) must refuse the read, not run it with the marker."""
    from domain.models import Slot
    from domain.rows import Compiled

    read = Compiled(lambda therapist: Slot.objects.filter(therapist=therapist).values_list("pk", "start_at"), therapist=-5)
    assert read.rows(therapist=10**6) == []
    with pytest.raises(ValueError, match="therapist"):
        Compiled(lambda therapist: Slot.objects.values_list("pk"), therapist=-5)


def test_the_health_check_flags_are_the_ones_the_backend_reads(db):
    connection.ensure_connection()
    for flag in ("health_check_enabled", "health_check_done"):
        assert isinstance(getattr(connection, flag, None), bool), f"DatabaseWrapper.{flag} is gone: {WHAT_TO_RECHECK}"


@postgres_only
def test_an_idle_healthy_connection_passes_without_a_round_trip_and_a_dead_one_is_closed(db):
    from tidbok.postgresql.base import DatabaseWrapper

    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    assert isinstance(wrapper, DatabaseWrapper), "settings no longer use tidbok/postgresql on PostgreSQL"
    assert wrapper.settings_dict["CONN_HEALTH_CHECKS"], "the settings turned Django's health checks off"
    checks = []
    real_check = wrapper.is_usable
    wrapper.is_usable = lambda: checks.append(1) or real_check()  # counts Django's SELECT 1, still runs it
    try:
        wrapper.ensure_connection()
        wrapper.close_if_unusable_or_obsolete()  # a new request: Django will check again
        assert not wrapper.health_check_done, f"a new request no longer resets health_check_done: {WHAT_TO_RECHECK}"

        wrapper.close_if_health_check_failed()
        assert (checks, wrapper.health_check_done, wrapper.connection is not None) == ([], True, True)

        # The server ends the connection (as on a restart): its socket becomes readable.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [wrapper.connection.info.backend_pid])
        deadline = time.monotonic() + 5
        while not select.select([wrapper.connection.fileno()], [], [], 0.05)[0] and time.monotonic() < deadline:
            pass
        wrapper.close_if_unusable_or_obsolete()
        wrapper.close_if_health_check_failed()
        assert checks == [1], "a readable socket no longer gets Django's own check"
        assert wrapper.connection is None, f"Django's check no longer closes a dead connection: {WHAT_TO_RECHECK}"
    finally:
        wrapper.close()
