"""Queries compiled once per process and planned once per connection.

Some queries are built from every app's declarations (``core.actions.awaiting_contracts``: one
subquery per action table) and cost more to build, and PostgreSQL more to plan, than to run. Only
their parameters change between requests (the user, the clock), so:

* :class:`Compiled` builds such a query once, for stand-in values no row holds, and gives its SQL
  with each request's values put in their place;
* :func:`rows` sends it as a server-side prepared statement: planned on a connection's first
  use, executed with new parameters after that.

Django sends everything else with client-side binding and no prepared statements, which a
connection pooler in transaction mode needs; set ``DB_PREPARED_STATEMENTS=false`` behind such a
pooler and these queries are sent the same way as the rest. SQLite has no plans to keep.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections

# The statements prepared on each open connection (psycopg's), by name; a new connection has none.
_prepared: weakref.WeakKeyDictionary[object, set[str]] = weakref.WeakKeyDictionary()

_PLACEHOLDER = re.compile(r"%[s%]")


@dataclass
class Compiled:
    """A queryset compiled once per database, for stand-in values, and run with real ones.

    ``build(**stand_ins)`` returns the queryset; each stand-in must reach the SQL as one parameter
    equal to itself (an id no row has, a time no deadline holds, an array literal) and be distinct
    from every other parameter. :meth:`rows` replaces each by the request's value.
    """

    build: Callable[..., object]
    stand_ins: Mapping[str, Hashable]
    _sql: dict[str, tuple[str, tuple, tuple[str, ...]]] = field(default_factory=dict)

    def sql(self, alias: str) -> tuple[str, tuple, tuple[str, ...]]:
        """The SQL, its parameters (stand-ins included) and its column names, on ``alias``."""
        if alias not in self._sql:
            query = self.build(**self.stand_ins).query
            compiler = query.get_compiler(alias)
            sql, params = compiler.as_sql()
            adapted = [self._adapt(alias, value) for value in self.stand_ins.values()]
            missing = [v for v in adapted if v not in params]
            if missing:
                raise RuntimeError(f"the compiled query lost its stand-ins {missing!r}")
            columns = tuple(
                alias_ or column.target.column for column, _sql, alias_ in compiler.select
            )
            self._sql[alias] = (sql, tuple(params), columns)
        return self._sql[alias]

    def rows(self, alias: str, **values) -> tuple[tuple[str, ...], list[tuple]]:
        """Its column names and rows with ``values`` for the stand-ins of the same names."""
        sql, params, columns = self.sql(alias)
        replace = {
            self._adapt(alias, stand_in): self._adapt(alias, values[name])
            for name, stand_in in self.stand_ins.items()
        }
        return columns, rows(alias, sql, [_swap(replace, p) for p in params])

    @staticmethod
    def _adapt(alias: str, value):
        operations = connections[alias].ops
        if hasattr(value, "tzinfo"):
            return operations.adapt_datetimefield_value(value)
        return value


def _swap(replace: Mapping, param):
    """``param``, or the value that replaces it when it is a stand-in (a list never is)."""
    try:
        return replace.get(param, param)
    except TypeError:  # unhashable: a list sent as one array
        return param


def rows(alias: str, sql: str, params: Sequence) -> list[tuple]:
    """The rows of ``sql`` (Django's ``%s`` placeholders) with ``params`` on database ``alias``,
    through its prepared statement where the database and the settings allow one.

    One round trip either way: a connection's first use sends ``PREPARE`` and ``EXECUTE``
    together, so a request's queries are as many whether or not it prepared.
    """
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
            cursor.execute(sql, params)
            return cursor.fetchall()
        name = "q_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
        execute = f"EXECUTE {name}" + (f" ({', '.join(['%s'] * len(params))})" if params else "")
        ready = _prepared.setdefault(connection.connection, set())
        if name in ready:
            cursor.execute(execute, list(params))
        else:
            cursor.execute(f"PREPARE {name} AS {_numbered(sql)}; {execute}", list(params))
            cursor.nextset()  # past PREPARE's empty result, to EXECUTE's rows
            ready.add(name)
        return cursor.fetchall()


def _numbered(sql: str) -> str:
    """``sql`` with PostgreSQL's ``$1, $2, …`` for Django's ``%s`` (``%%`` stays: the driver
    makes it ``%`` as it puts the parameters of the statement in)."""
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(replace, sql)
