"""Appending many rows at once: one INSERT over arrays on PostgreSQL, ``bulk_create`` elsewhere.

A deadline sweep appends thousands of rows per batch (timeline events, notifications). The ORM's
``bulk_create`` sends one placeholder per value, and building and parsing that statement costs
more than running it; ``INSERT … SELECT … FROM unnest(%s::type[], …)`` sends one array per
column instead. The column types come from the model's own fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from django.db import connection
from django.db.models import JSONField, Model


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
