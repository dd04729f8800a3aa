"""``field__any=[...]``: membership in a list, sent as one array parameter on PostgreSQL.

``field__in=[...]`` spells out one placeholder per value; with the thousand ids of a deadline
sweep's batch, building and parsing that query costs more than running it. ``= ANY(%s)`` sends
the list as one array. Other databases get the usual ``IN (…)``.

A list of plain integers (ids, the usual case) goes over as one array literal,
``'{1,2,3}'::bigint[]``: the driver would otherwise quote each element on its own, which costs
more than the query for a sweep's thousands of ids.

``field__among=[...]`` is the same test for a SELECT list or an ORDER BY, where it is evaluated
for every row: PostgreSQL compares each row with the array's elements one by one, unless the array
is a constant of the query (not a prepared statement's parameter), so a thousand ids over a
thousand rows cost a million comparisons. ``IN (SELECT unnest(…))`` hashes them once.
"""

from django.db.models import Field, ForeignObject, Lookup


def _integers(values) -> bool:
    return isinstance(values, Ids) or all(type(value) is int for value in values)


def int_array(integers) -> str:
    """A PostgreSQL array literal of ``integers``: one parameter to quote, not one per value."""
    if isinstance(integers, Ids):
        return integers.literal
    return "{" + ",".join(map(str, integers)) + "}"


class Ids:
    """Integer ids read once and tested in several queries (``field__any=``, ``field__among=``).

    A list is resolved by Django id by id each time a query takes it, and turned into an array
    literal each time one is compiled; with a thousand ids that costs more than the queries.
    ``Ids`` is one value to Django, checked once, and its literal is built once.
    """

    __slots__ = ("_literal", "values")

    def __init__(self, values=()):
        self.values = tuple(values)
        if not all(type(value) is int for value in self.values):
            raise TypeError("Ids holds integers only.")
        self._literal = None

    @property
    def literal(self) -> str:
        if self._literal is None:
            self._literal = "{" + ",".join(map(str, self.values)) + "}"
        return self._literal

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __bool__(self) -> bool:
        return bool(self.values)

    def __eq__(self, other) -> bool:
        return isinstance(other, Ids) and other.values == self.values

    def __hash__(self) -> int:
        return hash(self.values)

    def __repr__(self) -> str:
        return f"Ids({list(self.values)!r})"


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        if isinstance(self.rhs, Ids):
            return self.rhs
        values = list(self.rhs)
        if _integers(values):
            return values
        return [self.lhs.output_field.get_prep_value(value) for value in values]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", list(lhs_params)
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs if isinstance(self.rhs, Ids) else list(self.rhs)
        if _integers(values):
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, int_array(values)]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


class AmongSet(AnyOf):
    lookup_name = "among"

    def as_postgresql(self, compiler, connection):
        values = self.rhs if isinstance(self.rhs, Ids) else list(self.rhs)
        if not values or not _integers(values):
            return super().as_postgresql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT unnest(%s::bigint[]))", [*lhs_params, int_array(values)]


for lookup in (AnyOf, AmongSet):
    Field.register_lookup(lookup)
    ForeignObject.register_lookup(lookup)
