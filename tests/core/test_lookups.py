import pytest

from accounts.models import User
from tests.kit import UserFactory

pytestmark = pytest.mark.django_db


class TestAnyLookup:
    def test_matches_like_in(self):
        users = [UserFactory() for _ in range(3)]

        found = User.objects.filter(pk__any=[users[0].pk, users[2].pk]).order_by("pk")

        assert list(found) == [users[0], users[2]]

    def test_matches_nothing_for_an_empty_list(self):
        UserFactory()

        assert list(User.objects.filter(pk__any=[])) == []

    def test_works_on_a_foreign_key(self, contract):
        from contracts.models import Contract

        found = Contract.objects.filter(client_id__any=[contract.client_id])

        assert list(found) == [contract]

    def test_matches_values_that_are_not_integers(self):
        users = [UserFactory(username=name) for name in ("ann", "bob", "cy")]

        found = User.objects.filter(username__any=["ann", "cy"]).order_by("pk")

        assert list(found) == [users[0], users[2]]

    @pytest.mark.postgres
    def test_sends_a_list_of_integers_as_one_array_literal(self):
        from django.db import connection

        sql, params = User.objects.filter(pk__any=[3, 1, 2]).query.sql_with_params()

        assert "= ANY(%s::bigint[])" in sql
        assert params == ("{3,1,2}",)
        assert connection.vendor == "postgresql"


class TestAmongLookup:
    """``__among``: the same membership test, for a SELECT list or an ORDER BY."""

    def test_annotates_membership_like_in(self):
        from django.db.models import BooleanField, ExpressionWrapper, Q

        users = [UserFactory() for _ in range(3)]
        chosen = ExpressionWrapper(
            Q(pk__among=[users[0].pk, users[2].pk]), output_field=BooleanField()
        )

        found = (
            User.objects.filter(pk__in=[u.pk for u in users])
            .annotate(chosen=chosen)
            .order_by("-chosen", "pk")
            .values_list("pk", "chosen")
        )

        assert list(found) == [(users[0].pk, True), (users[2].pk, True), (users[1].pk, False)]

    def test_matches_nothing_for_an_empty_list(self):
        UserFactory()

        assert list(User.objects.filter(pk__among=[])) == []

    @pytest.mark.postgres
    def test_hashes_the_ids_once_on_postgresql(self):
        sql, params = User.objects.filter(pk__among=[3, 1, 2]).query.sql_with_params()

        assert "IN (SELECT unnest(%s::bigint[]))" in sql
        assert params == ("{3,1,2}",)


class TestIds:
    """``Ids``: ids read once and tested in several queries, as one value."""

    def test_matches_like_a_list_in_any_and_among(self):
        from django.db.models import BooleanField, ExpressionWrapper, Q

        from core.lookups import Ids

        users = [UserFactory() for _ in range(3)]
        ids = Ids([users[2].pk, users[0].pk])
        chosen = ExpressionWrapper(Q(pk__among=ids), output_field=BooleanField())

        found = User.objects.filter(pk__any=ids).order_by("pk")
        flags = (
            User.objects.filter(pk__in=[u.pk for u in users])
            .annotate(chosen=chosen)
            .order_by("pk")
            .values_list("chosen", flat=True)
        )

        assert list(found) == [users[0], users[2]]
        assert list(flags) == [True, False, True]
        assert list(User.objects.filter(pk__among=Ids())) == []

    def test_holds_integers_only(self):
        from core.lookups import Ids

        with pytest.raises(TypeError):
            Ids([1, "2"])

    def test_builds_its_array_literal_once(self):
        from core.lookups import Ids, int_array

        ids = Ids([3, 1, 2])

        assert int_array(ids) == "{3,1,2}" and ids.literal is int_array(ids)
        assert ids == Ids([3, 1, 2]) and hash(ids) == hash(Ids([3, 1, 2]))

    @pytest.mark.postgres
    def test_is_one_array_parameter_on_postgresql(self):
        from core.lookups import Ids

        sql, params = User.objects.filter(pk__among=Ids([3, 1, 2])).query.sql_with_params()

        assert "IN (SELECT unnest(%s::bigint[]))" in sql
        assert params == ("{3,1,2}",)
