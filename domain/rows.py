"""Hand-written SQL for the few reads on every request's path, read back through the ORM's own
converters.

Compiling a queryset costs Django about half a millisecond a query, more than PostgreSQL
needs to run these (docs/performance.md). The bearer-token check (every API request) and the
therapist's week calendar are therefore written once as SQL here, with the column lists and
the value conversions taken from the models, so they follow the schema and read the same
values as the ORM would on SQLite and PostgreSQL alike. A read whose rules are ORM querysets
(a therapist's open slots: R8, R9, R14, R35, R38) is not written again as SQL: `Compiled`
compiles the queryset once and runs its SQL with each call's values. Everything else uses the
ORM."""

from datetime import datetime
from functools import cache

from django.db import connection, connections, models, router


class Columns:
    """A model's concrete columns under a table alias, and a reader that turns a row's slice
    back into an instance as the ORM would (converters included: SQLite's text datetimes,
    JSON fields, booleans)."""

    def __init__(self, model: type[models.Model], alias: str):
        self.model, self.alias = model, alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)

    def sql(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    @cache  # noqa: B019 (one entry per database vendor; instances live for the process)
    def converters(self, vendor: str) -> list:
        """(position, column, converters) of the fields that need converting, only those."""
        out = []
        for i, field in enumerate(self.fields):
            expression = field.get_col(self.alias)
            found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
            if found:
                out.append((i, expression, found))
        return out

    def values(self, row, start: int) -> list:
        values = list(row[start : start + len(self.fields)])
        for i, expression, converters in self.converters(connection.vendor):
            for convert in converters:
                values[i] = convert(values[i], expression, connection)
        return values

    def instance(self, row, start: int) -> models.Model | None:
        values = self.values(row, start)
        if values[self.pk_index] is None:  # the primary key of an outer join's missing side
            return None
        return self.model.from_db(connection.alias, self.attnames, values)


def instances(row, *columns: Columns) -> list[models.Model | None]:
    """The instances of a row that holds `columns`' fields one model after another."""
    out, at = [], 0
    for cols in columns:
        out.append(cols.instance(row, at))
        at += len(cols)
    return out


def _adapted(value):
    """A value as the compiler puts it among a query's parameters."""
    return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value


class Compiled:
    """A read written with the ORM, compiled to SQL once and run with each call's values.

    Building and compiling a queryset with several subqueries costs Django more than the
    database needs to run it (a therapist's open slots: about 1.5 ms of Python against 0.2 ms
    in PostgreSQL, docs/performance.md). `build(**markers)` makes the queryset (a
    `values_list`) with a marker in each place a call fills: an id or a moment no real call
    uses. The markers are found among the compiled parameters, and `rows(**values)` puts the
    call's values there instead, then reads the rows back through the compiler's converters as
    the ORM would. The rules stay in their one ORM definition: this is that definition's SQL.

    The SQL of a queryset may depend on its values' shape (a missing client is no subquery at
    all): build one `Compiled` per shape. Every marker must turn up among the parameters, or
    the ORM wrote that value into the SQL (or left it out) and the read is refused."""

    def __init__(self, build, **markers):
        queryset = build(**markers)
        self.model = queryset.model
        compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        wanted = {name: _adapted(marker) for name, marker in markers.items()}
        self.holes = [
            (i, name) for i, param in enumerate(self.params) for name, marker in wanted.items()
            if type(param) is type(marker) and param == marker
        ]
        missing = set(markers) - {name for _, name in self.holes}
        if missing:
            raise ValueError(f"not among the compiled parameters: {sorted(missing)}")
        selected = [expression for expression, _sql, _alias in compiler.select[: compiler.col_count]]
        self.converters = sorted(compiler.get_converters(selected).items())

    def rows(self, **values) -> list[tuple]:
        params = list(self.params)
        for i, name in self.holes:
            params[i] = _adapted(values[name])
        # Where the ORM would read it: a public read may go to the replica (tidbok/replica.py),
        # which runs the primary's SQL.
        rows = fetch(self.sql, params, using=router.db_for_read(self.model))
        if not self.converters:
            return rows
        return [self._converted(row) for row in rows]

    def _converted(self, row) -> tuple:
        row = list(row)
        for i, (converters, expression) in self.converters:
            for convert in converters:
                row[i] = convert(row[i], expression, connection)
        return tuple(row)


def fetch(sql: str, params, using: str | None = None) -> list[tuple]:
    with (connections[using] if using else connection).cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _field_equalities(condition: models.Q) -> list[tuple[str, object]]:
    if condition.connector != models.Q.AND or condition.negated or not all(
        isinstance(child, tuple) and "__" not in child[0] for child in condition.children
    ):
        raise ValueError(f"a flat AND of field equalities is wanted, not {condition!r}")
    return condition.children


def condition_sql(model: type[models.Model], condition: models.Q, alias: str) -> tuple[str, list]:
    """A flat AND of equalities on `model`'s fields (a rule's ORM condition, such as
    `LIVE_BOOKING`), written as SQL on the table under `alias`, with its parameters: the
    hand-written reads take a rule's SQL from its one ORM definition."""
    _field_equalities(condition)
    quote = connection.ops.quote_name
    fields = [(model._meta.get_field(name), value) for name, value in condition.children]
    return (
        " AND ".join(f"{alias}.{quote(field.column)} = %s" for field, _ in fields),
        [field.get_db_prep_value(value, connection) for field, value in fields],
    )


def condition_holds(instance: models.Model, condition: models.Q) -> bool:
    """The same flat condition, asked of an instance already in memory (no query)."""
    return all(getattr(instance, name) == value for name, value in _field_equalities(condition))
