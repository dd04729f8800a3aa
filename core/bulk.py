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


def insert(model: type[Model], rows: Sequence[Mapping[str, object]]) -> list[int]:
    """Insert ``rows`` (column name → value, the same columns in each) and return their ids.

    Column names are the fields' attnames (``dispute_id``, not ``dispute``). The ids are drawn
    from the table's sequence first, so they come back in the order of ``rows``.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model._base_manager.bulk_create(model(**row) for row in rows)
        return [obj.pk for obj in created]
    table = model._meta.db_table
    fields = {f.attname: f for f in model._meta.concrete_fields}
    columns = list(rows[0])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",
            [len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        arrays, selects, params = ["%s::bigint[]"], ["u.id"], [ids]
        for column in columns:
            field = fields[column]
            if isinstance(field, JSONField):
                arrays.append("%s::text[]")
                selects.append(f"u.{column}::jsonb")
                params.append([json.dumps(row[column]) for row in rows])
            else:
                arrays.append(f"%s::{_array_base(field.db_type(connection))}[]")
                selects.append(f"u.{column}")
                params.append([row[column] for row in rows])
        names = ", ".join(["id", *columns])
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {', '.join(selects)}"
            f" FROM unnest({', '.join(arrays)}) AS u({names})",
            params,
        )
    return ids


def _array_base(db_type: str) -> str:
    """The element type for an array parameter: ``varchar(200)`` → ``text`` and so on."""
    base = db_type.split("(")[0].strip()
    return {
        "varchar": "text",
        "serial": "integer",
        "bigserial": "bigint",
        "smallserial": "smallint",
        "numeric": "numeric",
    }.get(base, base)
