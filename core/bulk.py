"""Writing many rows at once: one statement over arrays on PostgreSQL.

A deadline sweep appends thousands of rows per batch (timeline events, notifications). The ORM's
``bulk_create`` sends one placeholder per value, and building and parsing that statement costs
more than running it; ``INSERT … SELECT … FROM unnest(%s::type[], …)`` sends one array per
column instead (:func:`insert`). A sweep also sets columns whose values differ from row to row
(a deadline moved by each row's own period): the ORM spells that as ``CASE id WHEN … THEN …``,
one branch per row and column, where ``UPDATE … FROM unnest(…)`` sends one array per column
(:func:`update`). The column types come from the model's own fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum

from django.db import connection
from django.db.models import Field, JSONField, Model


def insert(
    model: type[Model], rows: Sequence[Mapping[str, object]], *, ids: bool = False
) -> list[int]:
    """Insert ``rows`` (column name → value, the same columns in each).

    Column names are the fields' attnames (``dispute_id``, not ``dispute``). With ``ids``, the
    ids are drawn from the table's sequence first and returned in the order of ``rows``;
    without, the database numbers the rows and nothing is returned.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model._base_manager.bulk_create(model(**row) for row in rows)
        return [obj.pk for obj in created] if ids else []
    table = model._meta.db_table
    fields = {f.attname: f for f in model._meta.concrete_fields}
    columns = list(rows[0])
    arrays: list[str] = []
    selects: list[str] = []
    params: list[list] = []
    drawn: list[int] = []
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
                " FROM generate_series(1, %s)",
                [len(rows)],
            )
            drawn = [pk for (pk,) in cursor.fetchall()]
            arrays.append("%s::bigint[]")
            selects.append("u.id")
            params.append(drawn)
        for column in columns:
            field = fields[column]
            if isinstance(field, JSONField):
                # JSON goes over as text and becomes jsonb in the SELECT.
                arrays.append("%s::text[]")
                selects.append(f"u.{column}::jsonb")
                params.append([json.dumps(row[column]) for row in rows])
            else:
                arrays.append(f"%s::{_array_base(field.db_type(connection))}[]")
                selects.append(f"u.{column}")
                params.append([row[column] for row in rows])
        names = ", ".join(["id", *columns] if ids else columns)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {', '.join(selects)}"
            f" FROM unnest({', '.join(arrays)}) AS u({names})",
            params,
        )
    return drawn


def _array_base(db_type: str) -> str:
    """The element type for an array parameter: ``varchar(200)`` → ``text`` and so on."""
    base = db_type.split("(")[0].strip()
    return {
        "varchar": "text",
        "serial": "integer",
        "bigserial": "bigint",
        "smallserial": "smallint",
    }.get(base, base)


def update(
    model: type[Model],
    rows: Sequence[tuple[int, Mapping[str, object]]],
    *,
    constant: Mapping[str, object],
    where: Mapping[str, Iterable[object]],
) -> int:
    """PostgreSQL only: set each row's own values and the ``constant`` ones, on the rows that
    still hold one of ``where``'s values in each of its columns; return how many were written.

    ``rows`` are ``(pk, {field name: value})``, the same fields in each; values are what the
    ORM's ``update()`` would take (model instances for foreign keys included), but no
    expressions: they are sent as parameters.
    """
    if not rows:
        return 0
    table = model._meta.db_table
    names = list(rows[0][1])
    fields = [field_of(model, name) for name in names]
    sets: list[str] = []
    params: list = []
    for name, value in constant.items():
        field = field_of(model, name)
        sets.append(f'"{field.column}" = %s')
        value = _db_value(field, value)
        params.append(
            field.get_db_prep_save(value, connection) if isinstance(field, JSONField) else value
        )
    arrays = ["%s::bigint[]"]
    params_arrays: list = [[pk for pk, _ in rows]]
    columns = ["id"]
    for index, field in enumerate(fields):
        alias = f"c{index}"
        columns.append(alias)
        values = [_db_value(field, row_values[names[index]]) for _, row_values in rows]
        if isinstance(field, JSONField):
            arrays.append("%s::text[]")
            params_arrays.append([json.dumps(v, cls=field.encoder) for v in values])
            sets.append(f'"{field.column}" = u.{alias}::jsonb')
        else:
            arrays.append(f"%s::{_array_base(field.db_type(connection))}[]")
            params_arrays.append(values)
            sets.append(f'"{field.column}" = u.{alias}')
    conditions = []
    where_params: list = []
    for name, allowed in where.items():
        field = field_of(model, name)
        conditions.append(f't."{field.column}" = ANY(%s)')
        where_params.append([_db_value(field, value) for value in allowed])
    sql = (
        f'UPDATE "{table}" AS t SET {", ".join(sets)}'
        f" FROM unnest({', '.join(arrays)}) AS u({', '.join(columns)})"
        f' WHERE t."{model._meta.pk.column}" = u.id' + "".join(f" AND {c}" for c in conditions)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *params_arrays, *where_params])
        return cursor.rowcount


def field_of(model: type[Model], name: str) -> Field:
    """The field ``name`` of ``model``, by name or by attname (``dispute_id``)."""
    try:
        return model._meta.get_field(name)
    except Exception:
        return next(f for f in model._meta.concrete_fields if f.attname == name)


def _db_value(field: Field, value):
    """``value`` as the UPDATE would send it for ``field``."""
    if hasattr(value, "prepare_database_save") and field.remote_field:
        value = value.prepare_database_save(field)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(field, JSONField):
        return value  # sent as JSON text in an array, cast back to jsonb
    return field.get_db_prep_save(value, connection)
