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
